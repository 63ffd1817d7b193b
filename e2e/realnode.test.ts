// The installer under a real kubelet: a Debian 12 VM (qemu TCG) running kubelet v1.37.1 and
// containerd 2.4 joins the local cluster (real kube-apiserver, real Metacontroller, this chart
// and hook server) beside kwok, and the DaemonSet the hooks return runs there as written:
// securityContext, hostPaths, probe, termination message. Every step checks both what the API
// says and what the guest kernel says (/sys/module/gtp5g, read through `kubectl exec`).
// Sources are the test fixtures, served from the host on 127.0.0.1 and reached from the guest
// at 10.0.2.2, where the real Gthulhu Manager is reached too by the scheduling agent's pod.
// In CI a missing prerequisite fails; elsewhere the file is skipped with the reason.
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { ENV, LABEL_AGENT, LABEL_ENABLED, LABEL_MODULE, MODULE_NAME, strategyTag } from '../contract/index.js'
import { lacksNetifLltx, packFixture } from '../test/support/fixturesource.js'
import { loopback, type Loopback } from '../test/support/loopbackhttp.js'
import { buildHolder } from '../test/support/vm.js'
import { GthulhuManager, gthulhuMissing } from './lib/gthulhu.js'
import { prerequisiteMet } from '../test/support/prerequisite.js'
import { LocalCluster } from './cluster/cluster.js'
import { type Harness, startHarness, whyNot } from './lib/harness.js'
import { CHART, HOOK_NAMESPACE, INSTALLER_NAMESPACE, RELEASE } from '../test/support/release.js'
import { condition, getJson, list, type Obj, waitFor, waitForModule, waitGuards } from './lib/kube.js'
import { HOST_FROM_GUEST, nodeDisk, RealNode } from './node/realnode.js'

const KERNEL_LINE = process.env.GTP5G_REAL_NODE_KERNEL ?? '6.12'
const disk = nodeDisk(KERNEL_LINE)
const problem = process.env.E2E_KUBECONFIG !== undefined
  ? 'the real node joins the local cluster only (E2E_KUBECONFIG is set)'
  : (whyNot() ?? (typeof disk === 'string' ? disk : undefined) ?? gthulhuMissing())

const MODULE = 'realnode'
const OBSERVER = 'kernel-observer'
const MIN = 60_000

let h: Harness
let node: RealNode
let server: Loopback
let work: string
let manager: GthulhuManager
/** spec.scheduling once the scheduling step set it: kept by every later spec. */
let scheduling: Record<string, unknown> | undefined
const sha: Record<string, string> = {}
const timings: Record<string, number> = {}

const sourceUrl = (): string => `http://${HOST_FROM_GUEST}:${new URL(server.base).port}/gtp5g-{version}.tar.gz`
const applyModule = async (spec: Record<string, unknown>): Promise<void> => {
  await h.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'operator.gthulhu.io/v1alpha1', kind: 'GTP5GModule', metadata: { name: MODULE }, spec }))
}
const moduleSpec = (version: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  version,
  image: (disk as Exclude<typeof disk, string>).INSTALLER_IMAGE,
  source: { url: sourceUrl(), sha256: sha[version] },
  ...(scheduling === undefined ? {} : { scheduling }),
  ...extra
})
const pods = async (): Promise<Obj[]> => await list(h, ['pods', '-n', INSTALLER_NAMESPACE, '-l', `${LABEL_MODULE}=${MODULE}`])
const ready = (p: Obj): boolean => (p.status?.conditions as Array<{ type: string, status: string }> | undefined)?.some(c => c.type === 'Ready' && c.status === 'True') === true
/** The one installer pod that is Ready (and not being deleted), once there is one. */
const readyPod = async (what: string, timeoutMs = 15 * MIN, not?: string): Promise<Obj> => await waitFor(what, async () =>
  (await pods()).find(p => ready(p) && p.metadata.deletionTimestamp === undefined && p.metadata.name !== not),
{ timeoutMs, intervalMs: 2000, describe: async () => (await pods()).map(p => ({ name: p.metadata.name, phase: p.status?.phase, containers: p.status?.containerStatuses })) })

/** What the guest kernel says about gtp5g, read in the observer pod. */
async function kernelModule (): Promise<{ version: string, refcnt: number } | undefined> {
  const out = await h.kubectl(['exec', '-n', 'default', OBSERVER, '--', 'sh', '-c',
    `cat /sys/module/${MODULE_NAME}/version /sys/module/${MODULE_NAME}/refcnt 2>/dev/null || echo absent`])
  const [version, refcnt] = out.trim().split('\n')
  return version === 'absent' || version === undefined ? undefined : { version, refcnt: Number(refcnt) }
}

/** The installer's JSON log lines (pino) of a pod, parsed. */
async function installerLog (pod: string, previous = false): Promise<Array<Record<string, unknown>>> {
  const text = await h.kubectl(['logs', '-n', INSTALLER_NAMESPACE, pod, ...(previous ? ['--previous'] : [])])
  return text.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, unknown>)
}
const done = (log: Array<Record<string, unknown>>): string | undefined => log.find(l => l.step === 'done')?.outcome as string | undefined

// In the test command by default; E2E_REAL_NODE=0 leaves it out (a laptop without the minutes).
const optedOut = process.env.E2E_REAL_NODE === '0'
if (optedOut) t.plan(0, 'E2E_REAL_NODE=0: the real-node suite (a kubelet and containerd in a qemu VM) is left out')
else if (prerequisiteMet(problem)) {
  const nodeDiskInfo = disk as Exclude<typeof disk, string>
  // TCG is slow and CI shares two cores: boots, joins and builds take minutes each (the file's
  // wall time is printed at the end). Bounded well inside CI's 90 minutes.
  t.setTimeout(55 * MIN)
  t.before(async () => {
    const started = Date.now()
    work = await mkdtemp(path.join(tmpdir(), 'gtp5g-realnode-fixtures-'))
    const routes: Record<string, Buffer> = {}
    for (const [version, overlay] of [['v0.0.1'], ['v0.0.2'], ['v0.0.3', 'gtp5g-lltx']] as Array<[string, string?]>) {
      const file = await packFixture(work, version, overlay === undefined ? {} : { overlay })
      const bytes = await readFile(file)
      routes[`/gtp5g-${version}.tar.gz`] = bytes
      sha[version] = createHash('sha256').update(bytes).digest('hex')
    }
    server = await loopback(routes)
    // The hook server (a process of the local cluster, started with this environment) names the
    // operator image imported into the guest as the scheduling agent's image.
    process.env.AGENT_IMAGE = nodeDiskInfo.OPERATOR_IMAGE
    h = await startHarness({ nodes: 0, name: 'realnode', realNode: true, log: line => { t.comment(line) } })
    await h.helm(['install', RELEASE, CHART, '-n', HOOK_NAMESPACE, '--create-namespace', '--set', `hooks.url=${String(h.hooksUrl)}`, '--wait', '--timeout=2m'])
    await h.kubectl(['wait', '--for=condition=Established', 'crd/gtp5gmodules.operator.gthulhu.io', '--timeout=60s'])
    await h.kubectl(['api-resources', '--api-group=operator.gthulhu.io'])
    timings.clusterMs = Date.now() - started
    manager = new GthulhuManager(path.join(work, 'manager'), { kubeconfig: h.kubeconfig, kubectl: h.kubectl })
    await manager.start()
    node = new RealNode(new LocalCluster(path.dirname(h.kubeconfig)), nodeDiskInfo, { labels: { 'e2e.gtp5g.gthulhu.io/real-node': 'true' } })
    // A VM that died (a guest panic) fails the step at once, not at its wait's timeout.
    waitGuards.add(() => node.gone())
    const booted = Date.now()
    await node.start()
    await node.waitReady(15 * MIN)
    timings.joinMs = Date.now() - booted
    t.comment(`real node Ready ${(timings.joinMs / 1000).toFixed(0)} s after qemu started; guest marks ${JSON.stringify(node.marks())}`)
  })
  t.teardown(async () => {
    if (!t.passing() && node !== undefined) {
      console.error(`# ---- ${node.consolePath} ----\n${node.consoleTail(80)}`)
      const kubeletLog = await h.kubectl(['get', '--raw', `/api/v1/nodes/${node.name}/proxy/logs/kubelet.log`]).catch((e: unknown) => String(e))
      console.error(`# ---- kubelet.log (end) ----\n${kubeletLog.trimEnd().split('\n').slice(-60).join('\n')}`)
    }
    await node?.stop()
    await manager?.stop()
    await server?.close()
    await h?.stop({ failed: !t.passing() })
    if (work !== undefined) await rm(work, { recursive: true, force: true })
    t.comment(`timings (ms): ${JSON.stringify(timings)}`)
  })

  t.test('the node joins Ready with its real nodeInfo; kwok leaves it alone; a pod gets a CNI address; logs and exec reach the kubelet', async t => {
    const n = await getJson(h, ['node', node.name]) as Obj
    const info = n.status.nodeInfo as Record<string, string>
    t.equal(info.kernelVersion, nodeDiskInfo.KERNEL, 'the guest\'s kernel')
    t.equal(info.osImage, 'Debian GNU/Linux 12 (bookworm)')
    t.equal(info.containerRuntimeVersion, 'containerd://2.4.2')
    t.equal(info.kubeletVersion, 'v1.37.1')
    t.equal(n.metadata.annotations?.['kwok.x-k8s.io/node'], undefined, 'not a kwok node')
    t.same((n.status.addresses as Array<{ type: string, address: string }>).find(a => a.type === 'InternalIP'), { type: 'InternalIP', address: '10.0.2.15' })
    await h.kubectl(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: OBSERVER, namespace: 'default' },
      spec: {
        nodeName: node.name,
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: 1,
        tolerations: [{ operator: 'Exists' }],
        containers: [{
          name: 'observer',
          image: nodeDiskInfo.INSTALLER_IMAGE,
          imagePullPolicy: 'Never',
          command: ['sleep', 'infinity'],
          // Loads the holder module in the in-use step; otherwise only reads /sys/module.
          securityContext: { privileged: true }
        }]
      }
    }))
    const observer = await waitFor('the observer pod Running', async () => {
      const p = await getJson(h, ['pod', '-n', 'default', OBSERVER])
      return p?.status?.phase === 'Running' ? p : undefined
    }, { timeoutMs: 10 * MIN, intervalMs: 2000, describe: async () => (await getJson(h, ['pod', '-n', 'default', OBSERVER]))?.status })
    t.match(observer.status.podIP, /^10\.88\./, 'the bridge CNI gave the pod an address')
    t.equal((await h.kubectl(['exec', '-n', 'default', OBSERVER, '--', 'uname', '-r'])).trim(), nodeDiskInfo.KERNEL, 'kubectl exec runs in the guest')
    t.equal(await kernelModule(), undefined, 'gtp5g is not loaded yet')
  })

  t.test('1. labelled, the node gets an installer pod that builds the fixture against its headers, loads it and turns Ready; the module is Installed', async t => {
    await h.kubectl(['label', 'node', node.name, `${LABEL_ENABLED}=true`])
    const started = Date.now()
    await applyModule(moduleSpec('v0.0.1'))
    // The one cold build of the file: minutes under TCG, more on a shared machine (the installer's own cap is 30 min).
    const pod = await readyPod('the installer pod Ready', 25 * MIN)
    timings.coldInstallMs = Date.now() - started
    const log = await installerLog(pod.metadata.name)
    t.equal(done(log), 'built-and-loaded', 'built in the pod, then loaded')
    const build = log.find(l => l.step === 'build')
    t.ok(build, 'a build step ran')
    timings.coldBuildStepMs = Number(build?.durationMs)
    t.same(await kernelModule(), { version: '0.0.1', refcnt: 0 }, 'the guest kernel runs gtp5g 0.0.1')
    const m = await waitForModule(h, MODULE, 'Installed', m => m.status?.phase === 'Installed', 5 * MIN)
    t.same(m.status.installedNodes, [node.name])
    t.equal(m.status.installed, 1)
  })

  t.test('2. inside the container: only CAP_SYS_MODULE, seccomp filtering, read-only hostPaths', async t => {
    const pod = (await readyPod('the installer pod Ready')).metadata.name
    const sh = async (script: string): Promise<string> => (await h.kubectl(['exec', '-n', INSTALLER_NAMESPACE, pod, '-c', 'installer', '--', 'sh', '-c', script])).trim()
    const status = await sh('cat /proc/1/status')
    const field = (name: string): string | undefined => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status)?.[1]
    // CAP_SYS_MODULE is capability 16.
    t.equal(field('CapEff'), (1n << 16n).toString(16).padStart(16, '0'), 'effective: SYS_MODULE only')
    t.equal(field('CapPrm'), (1n << 16n).toString(16).padStart(16, '0'), 'permitted: SYS_MODULE only')
    t.equal(field('Seccomp'), '2', 'seccomp mode 2 (filter): RuntimeDefault applied')
    t.equal(field('NoNewPrivs'), '1', 'allowPrivilegeEscalation: false')
    const mounts = await sh('cat /proc/self/mountinfo')
    // The image's /lib is a link to usr/lib (merged /usr), so runc mounts /lib/modules at /usr/lib/modules.
    const options = (at: string): string | undefined => mounts.split('\n').map(l => l.split(' '))
      .find(f => f[4] === at || f[4] === at.replace(/^\/lib\//, '/usr/lib/'))?.[5]
    for (const at of ['/lib/modules', '/usr/src', '/host/usr/lib']) t.match(options(at), /^ro\b/, `${at} is read-only`)
    t.match(options('/var/lib/gtp5g'), /^rw\b/, 'the cache is writable')
    t.match(await sh('touch /lib/modules/x 2>&1 || true'), /Read-only file system/)
  })

  t.test('3. pod deleted: the new pod is Ready without a build, the module never unloaded', async t => {
    const old = (await readyPod('the installer pod Ready')).metadata.name
    await h.kubectl(['delete', 'pod', '-n', INSTALLER_NAMESPACE, old, '--wait=false'])
    const started = Date.now()
    let seenAbsent = false
    const next = await waitFor('a new installer pod Ready', async () => {
      if (await kernelModule() === undefined) seenAbsent = true
      return (await pods()).find(p => p.metadata.name !== old && ready(p))
      // Every exec costs the TCG guest dearly (a busy guest starves the readiness probe): poll gently.
    }, { timeoutMs: 10 * MIN, intervalMs: 5000 })
    timings.warmStartMs = Date.now() - started
    t.notOk(seenAbsent, 'gtp5g stayed loaded throughout')
    const log = await installerLog(next.metadata.name)
    t.equal(done(log), 'already-loaded')
    t.notOk(log.some(l => l.step === 'build' || l.step === 'download'), 'no download, no build')
    t.same(await kernelModule(), { version: '0.0.1', refcnt: 0 })
  })

  t.test('8. node reboot (the VM restarted): the installer pod comes back and loads gtp5g from the cache, without a build', async t => {
    const before = await readyPod('the installer pod Ready')
    const restarts = Number(before.status.containerStatuses[0].restartCount)
    await node.stop()
    const started = Date.now()
    await node.start()
    const after = await waitFor('the installer container restarted after the reboot and Ready', async () => {
      const p = (await pods()).find(p => p.metadata.name === before.metadata.name)
      return p !== undefined && ready(p) && Number(p.status.containerStatuses[0].restartCount) > restarts ? p : undefined
    }, { timeoutMs: 20 * MIN, intervalMs: 3000, describe: async () => ({ pods: (await pods()).map(p => p.status), console: node.consoleTail(15) }) })
    timings.rebootToReadyMs = Date.now() - started
    const log = await installerLog(after.metadata.name)
    t.equal(done(log), 'loaded-from-cache', 'the cached module of the host path was loaded')
    t.notOk(log.some(l => l.step === 'build' || l.step === 'download'), 'no download, no build')
    t.same(await kernelModule(), { version: '0.0.1', refcnt: 0 }, 'the rebooted kernel runs gtp5g 0.0.1')
    await waitForModule(h, MODULE, 'Installed again', m => m.status?.phase === 'Installed' && m.status?.installed === 1, 10 * MIN)
  })

  t.test('4. version change: the DaemonSet rollout replaces the pod, which upgrades the idle module', async t => {
    const old = (await readyPod('the installer pod Ready')).metadata.name
    await applyModule(moduleSpec('v0.0.2'))
    const next = await readyPod('the v0.0.2 installer pod Ready', 15 * MIN, old)
    const log = await installerLog(next.metadata.name)
    t.equal(done(log), 'built-and-loaded')
    t.ok(log.some(l => l.step === 'unload-other'), 'the idle 0.0.1 was unloaded first')
    t.same(await kernelModule(), { version: '0.0.2', refcnt: 0 })
    const m = await waitForModule(h, MODULE, 'Installed at v0.0.2', m => m.status?.phase === 'Installed' && m.status?.observedGeneration === m.metadata.generation, 5 * MIN)
    t.same(m.status.installedNodes, [node.name])
  })

  t.test('5. module in use: the upgrade is refused (CrashLoopBackOff, ModuleInUse from the real termination message); released, it converges', async t => {
    const kernel = { release: nodeDiskInfo.KERNEL, vmlinuz: nodeDiskInfo.VMLINUZ, initrd: nodeDiskInfo.INITRD }
    const holder = await buildHolder(kernel, path.join(work, 'holder-build'), path.join(work, 'gtp5g-v0.0.2.tar.gz'))
    await h.kubectl(['cp', holder, `default/${OBSERVER}:/tmp/gtp5g_holder.ko`])
    await h.kubectl(['exec', '-n', 'default', OBSERVER, '--', 'insmod', '/tmp/gtp5g_holder.ko'])
    t.same(await kernelModule(), { version: '0.0.2', refcnt: 1 }, 'the holder uses gtp5g')
    await applyModule(moduleSpec('v0.0.1'))
    const failed = await waitForModule(h, MODULE, 'ModuleInUse', m => (m.status?.failedNodes as Array<{ reason: string }> | undefined)?.[0]?.reason === 'ModuleInUse', 15 * MIN)
    t.equal(failed.status.failedNodes[0].nodeName, node.name)
    const pod = await waitFor('the installer in CrashLoopBackOff', async () => (await pods()).find(p =>
      p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff'), { timeoutMs: 10 * MIN, intervalMs: 2000 })
    const last = pod.status.containerStatuses[0].lastState.terminated as { message: string, exitCode: number }
    t.not(last.exitCode, 0)
    t.same(JSON.parse(last.message).reason, 'ModuleInUse', 'the kubelet read the JSON line from /dev/termination-log')
    t.equal(failed.status.failedNodes[0].message, JSON.parse(last.message).message, 'the status carries the real message')
    t.same(await kernelModule(), { version: '0.0.2', refcnt: 1 }, 'the running module was not touched')
    await h.kubectl(['exec', '-n', 'default', OBSERVER, '--', 'rmmod', 'gtp5g_holder'])
    await waitForModule(h, MODULE, 'Installed at v0.0.1 after the release', m => m.status?.phase === 'Installed' && (m.status?.failedNodes ?? []).length === 0, 15 * MIN)
    t.same(await kernelModule(), { version: '0.0.1', refcnt: 0 })
  })

  t.test('scheduling: the agent\'s pod runs on the real node, keeps its strategy in the real Gthulhu Manager, and reports AuthFailed through the real termination message', async t => {
    // The Manager listens on the host's loopback; the guest reaches it through qemu's user network.
    const managerUrl = `http://${HOST_FROM_GUEST}:${new URL(manager.url).port}`
    const gnb = { 'app.kubernetes.io/name': 'ueransim-gnb', 'app.kubernetes.io/component': 'gnb' }
    await h.kubectl(['create', 'namespace', 'ran'])
    await h.kubectl(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'gnb-0', namespace: 'ran', labels: gnb },
      spec: { nodeName: node.name, automountServiceAccountToken: false, terminationGracePeriodSeconds: 1, containers: [{ name: 'gnb', image: nodeDiskInfo.INSTALLER_IMAGE, imagePullPolicy: 'Never', command: ['sleep', 'infinity'] }] }
    }))
    const secret = async (name: string, password: string): Promise<void> => {
      await h.kubectl(['create', 'secret', 'generic', name, '-n', INSTALLER_NAMESPACE, `--from-literal=username=${manager.adminUser}`, `--from-literal=password=${password}`])
    }
    await secret('gthulhu-manager', manager.adminPassword)
    await secret('gthulhu-wrong', 'not-the-password')
    const rule = { name: 'gnb', podSelector: gnb, namespaces: ['ran'] }
    scheduling = { managerUrl, credentialsSecret: { name: 'gthulhu-manager' }, rules: [rule] }
    const started = Date.now()
    await applyModule(moduleSpec('v0.0.1'))
    const agentPod = async (): Promise<Obj | undefined> => (await list(h, ['pods', '-n', INSTALLER_NAMESPACE, '-l', `${LABEL_AGENT}=${MODULE}`]))
      .find(p => p.metadata.deletionTimestamp === undefined)
    const applied = await waitForModule(h, MODULE, 'Scheduling=Applied', m => condition(m, 'Scheduling')?.reason === 'Applied', 10 * MIN)
    timings.schedulingAppliedMs = Date.now() - started
    t.equal(applied.status.phase, 'Installed', 'gtp5g stays Installed')
    const pod = await agentPod() as Obj
    t.equal(pod.spec.nodeName, node.name, 'the agent\'s pod was scheduled onto the real node')
    t.match(pod.status.containerStatuses[0].containerID, /^containerd:\/\//, 'a container of the guest\'s containerd')
    t.equal(pod.status.containerStatuses[0].ready, true, 'Ready by its own probe under the real kubelet')
    const strategies = (await manager.api<{ strategies: Array<{ StrategyNamespace: string, Priority: number, ExecutionTime: number, CommandRegex: string, K8sNamespace: string[] | null }> }>('GET', '/api/v1/strategies/self'))
      .body.data?.strategies?.filter(s => s.StrategyNamespace.startsWith(strategyTag(MODULE))) ?? []
    t.equal(strategies.length, 1, 'one strategy for the one rule')
    t.match(strategies[0], { Priority: 10, ExecutionTime: 20_000_000, CommandRegex: '^nr-gnb', K8sNamespace: ['ran'] }, 'the spec\'s defaults, as the agent on the node sent them')
    // The container's memory high-water mark, the probe's Node.js starts included (its limit is 192 MiB).
    const peak = await h.kubectl(['exec', '-n', INSTALLER_NAMESPACE, pod.metadata.name, '--', 'node', '-e', 'process.stdout.write(require("fs").readFileSync("/sys/fs/cgroup/memory.peak","utf8"))']).catch(() => '')
    if (peak.trim() !== '') timings.agentMemoryPeakMiB = Math.round(Number(peak) / 1048576)

    scheduling = { ...scheduling, credentialsSecret: { name: 'gthulhu-wrong' } }
    await applyModule(moduleSpec('v0.0.1'))
    const refused = await waitForModule(h, MODULE, 'Scheduling=AuthFailed', m => condition(m, 'Scheduling')?.reason === 'AuthFailed', 10 * MIN)
    t.match(condition(refused, 'Scheduling')?.message, /refused the login/)
    t.equal(refused.status.phase, 'Installed', 'a Manager that refuses us does not make gtp5g look unhealthy')
    const crashed = await waitFor('the agent\'s termination message', async () => {
      const p = await agentPod()
      const term = p?.status?.containerStatuses?.[0]?.lastState?.terminated ?? p?.status?.containerStatuses?.[0]?.state?.terminated
      return term?.message === undefined ? undefined : term as { message: string }
    }, { timeoutMs: 5 * MIN, intervalMs: 2000 })
    t.equal(JSON.parse(crashed.message).reason, 'AuthFailed', 'the kubelet read the JSON line the agent wrote')

    scheduling = { ...scheduling, credentialsSecret: { name: 'gthulhu-manager' } }
    await applyModule(moduleSpec('v0.0.1'))
    await waitForModule(h, MODULE, 'Scheduling=Applied again', m => condition(m, 'Scheduling')?.reason === 'Applied', 10 * MIN)
  })

  t.test('6. a source that cannot build on this kernel: BuildFailed with the compiler\'s line from the real termination message; the running module untouched', { skip: lacksNetifLltx(nodeDiskInfo.KERNEL) ? undefined : `${nodeDiskInfo.KERNEL} still has NETIF_F_LLTX: the fixture builds there` }, async t => {
    await applyModule(moduleSpec('v0.0.3'))
    // A cold kbuild in the TCG guest, beside the qemu suite's guests: 554 s in one CI run, over 900 s in the next.
    const m = await waitForModule(h, MODULE, 'BuildFailed', m => (m.status?.failedNodes as Array<{ reason: string }> | undefined)?.[0]?.reason === 'BuildFailed', 25 * MIN)
    t.match(m.status.failedNodes[0].message, /NETIF_F_LLTX/, 'the compiler\'s complaint reaches the status')
    const pod = (await pods())[0] as Obj
    const term = (pod.status.containerStatuses[0].lastState?.terminated ?? pod.status.containerStatuses[0].state?.terminated) as { message: string }
    t.equal(JSON.parse(term.message).reason, 'BuildFailed')
    t.same(await kernelModule(), { version: '0.0.1', refcnt: 0 }, 'gtp5g 0.0.1 still runs')
  })

  t.test('7. delete with unloadOnDelete: the unload pod runs, gtp5g leaves the guest kernel, the module is finalized', async t => {
    await h.kubectl(['delete', 'gtp5gmodule', MODULE, '--wait=false'])
    const unloadPods = new Set<string>()
    await waitFor('gtp5g unloaded from the guest', async () => {
      for (const p of await pods()) {
        const env = p.spec.containers[0].env as Array<{ name: string, value: string }>
        if (env.some(e => e.name === ENV.action && e.value === 'unload')) unloadPods.add(p.metadata.name)
      }
      return await kernelModule() === undefined ? true : undefined
    }, { timeoutMs: 10 * MIN, intervalMs: 2000 })
    t.ok(unloadPods.size > 0, `an unload pod ran (${[...unloadPods].join(', ')})`)
    await waitFor('the GTP5GModule gone', async () => await getJson(h, ['gtp5gmodule', MODULE]) === undefined ? true : undefined, { timeoutMs: 5 * MIN, intervalMs: 2000 })
    t.equal(await kernelModule(), undefined)
    // Garbage collection deletes the DaemonSet's pods after the finalizer goes; the kubelet
    // stops them within their grace period.
    await waitFor('no installer pods left', async () => (await pods()).length === 0 ? true : undefined, { timeoutMs: 3 * MIN, intervalMs: 2000 })
    const left = (await manager.api<{ strategies: Array<{ StrategyNamespace: string }> }>('GET', '/api/v1/strategies/self')).body.data?.strategies ?? []
    t.same(left.filter(s => s.StrategyNamespace.startsWith(strategyTag(MODULE))), [], 'the agent removed its strategy before the module was finalized')
  })
}
