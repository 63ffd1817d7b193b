// `npm run demo`: the README's first command. A local cluster (real kube-apiserver, real
// Metacontroller, simulated nodes), this chart installed with Helm, the README's sample
// GTP5GModule applied, and its status printed as it converges. With `--real-node` a Debian 12 VM
// running a real kubelet and containerd (e2e/node/) joins too, and the installer really builds
// and loads gtp5g there (from GitHub by default: the guest resolves names through qemu).
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { parseArgs } from 'node:util'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { LocalCluster, missingPrerequisite, MissingPrerequisite, REPO } from './cluster/cluster.js'
import { LABEL_ENABLED } from '../contract/index.js'
import { CHART, HOOK_NAMESPACE, INSTALLER_NAMESPACE, RELEASE, SAMPLE } from '../test/support/release.js'
import { METACONTROLLER_DIR, TOOLS_BIN, toolPath } from './cluster/tools.js'
import { HOST_FROM_GUEST, nodeDisk, RealNode } from './node/realnode.js'
import { AgentKubelet } from './lib/agentkubelet.js'
import { GTHULHU_DEPS_BIN, GthulhuManager, gthulhuMissing } from './lib/gthulhu.js'
import { loopback } from '../test/support/loopbackhttp.js'

const NODES = Number(process.env.DEMO_NODES ?? 3)
const { values: flags } = parseArgs({
  options: { 'real-node': { type: 'boolean', default: false }, kernel: { type: 'string', default: '6.12' }, scheduling: { type: 'boolean', default: false }, source: { type: 'string' } }
})
/**
 * `--real-node --source FILE`: a gtp5g source tarball you have (a machine without internet, a
 * patched tree), served on the host's loopback, fetched by the guest at 10.0.2.2 and pinned by
 * its sha256, instead of the sample's GitHub URL.
 */
const SOURCE = flags.source
const REAL_NODE = flags['real-node'] === true
/** `npm run demo -- --scheduling`: also spec.scheduling against the real Gthulhu Manager, until Ctrl-C. */
const SCHEDULING = flags.scheduling === true
const started = Date.now()
const say = (line: string): void => { console.log(`[demo ${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`) }

/** spec.source for --source: the file served on 127.0.0.1 for as long as the demo runs. */
let served: Awaited<ReturnType<typeof loopback>> | undefined
async function servedSource (): Promise<{ source?: { url: string, sha256: string } }> {
  if (SOURCE === undefined) return {}
  const bytes = readFileSync(SOURCE)
  const server = served = await loopback({ '/source.tar.gz': bytes })
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  say(`serving ${SOURCE} (sha256 ${sha256}) to the real node at http://${HOST_FROM_GUEST}:${new URL(server.base).port}/source.tar.gz`)
  return { source: { url: `http://${HOST_FROM_GUEST}:${new URL(server.base).port}/source.tar.gz`, sha256 } }
}

function prepare (): void {
  const missing = (): boolean => !existsSync(path.join(METACONTROLLER_DIR, 'metacontroller'))
  // Say what is missing that no command here can fetch before spending minutes on builds.
  if (missing() && !onPath('buildah')) throw new MissingPrerequisite(missingPrerequisite() ?? 'Metacontroller is missing')
  if (SCHEDULING) {
    if (!existsSync(path.join(GTHULHU_DEPS_BIN, 'ferretdb')) || !existsSync(path.join(GTHULHU_DEPS_BIN, 'migrate'))) {
      say('building FerretDB and golang-migrate for the Gthulhu Manager (once)')
      execFileSync('bash', [path.join(REPO, 'e2e/cluster/build-gthulhu-deps.sh')], { stdio: ['ignore', 'ignore', 'inherit'] })
    }
    const problem = gthulhuMissing()
    if (problem !== undefined) throw new MissingPrerequisite(problem)
  }
  if (toolPath('kwok') === undefined || toolPath('helm') === undefined || toolPath('kube-apiserver') === undefined) {
    say('building the pinned Kubernetes, etcd, kwok and Helm binaries (once; about 12 min on 2 cores)')
    execFileSync('bash', [path.join(REPO, 'e2e/cluster/build.sh')], { stdio: ['ignore', 'ignore', 'inherit'] })
  }
  // Its official image and chart, where the network allows (scripts/metacontroller.sh).
  try {
    execFileSync('bash', [path.join(REPO, 'scripts/metacontroller.sh')], { stdio: ['ignore', 'ignore', 'inherit'] })
  } catch {
    throw new MissingPrerequisite(missingPrerequisite() ?? 'Metacontroller is missing')
  }
  if (REAL_NODE && typeof nodeDisk(flags.kernel) === 'string') {
    say(`building the real node: kubelet, containerd, runc, CNI plugins, crictl and a Debian 12 disk for the ${String(flags.kernel)} kernel (once; about 25 min on 2 cores)`)
    execFileSync('bash', [path.join(REPO, 'e2e/node/guest-disk.sh'), String(flags.kernel)], { stdio: ['ignore', 'ignore', 'inherit'] })
  }
  say('building the hook server (npm run build)')
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO, stdio: 'inherit' })
}

function onPath (command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some(dir => existsSync(path.join(dir, command)))
}

async function main (): Promise<void> {
  prepare()
  const cluster = new LocalCluster()
  await cluster.up({ nodes: NODES, targetNamespace: INSTALLER_NAMESPACE, realNode: REAL_NODE, log: line => { console.log(`  ${line}`) } })
  say(`the cluster is up; its ${NODES} kwok nodes are SIMULATED: installer pods do not really run there, kwok reports them as the installer would`)
  let node: RealNode | undefined
  if (REAL_NODE) {
    const disk = nodeDisk(flags.kernel)
    if (typeof disk === 'string') throw new MissingPrerequisite(disk)
    node = new RealNode(cluster, disk, { labels: { [LABEL_ENABLED]: 'true' }, resolvConf: 'nameserver 10.0.2.3\n' })
    await node.start()
    say(`booting the REAL node ${node.name} (Debian 12, kernel ${disk.KERNEL}, qemu without KVM: a few minutes); console: ${node.consolePath}`)
    await node.waitReady(20 * 60_000)
    say(`${node.name} joined Ready: ${(await cluster.kubectl(['get', 'node', node.name, '-o', 'wide'])).trim().split('\n').pop() ?? ''}`)
  }

  const helm = toolPath('helm') as string
  const env = { ...process.env, ...cluster.helmEnv() }
  execFileSync(helm, ['upgrade', '--install', RELEASE, CHART, '-n', HOOK_NAMESPACE, '--create-namespace', '--set', `hooks.url=${await cluster.hooksUrl()}`, '--wait'], { env, stdio: 'ignore' })
  say(`helm: chart ${path.relative(REPO, CHART)} installed as "${RELEASE}" (CRD, CompositeController, installer namespace; hooks at ${await cluster.hooksUrl()})`)
  await cluster.kubectl(['apply', '-f', SAMPLE])
  if (node !== undefined) {
    // The guest holds the installer image built with this repository (no registry needed).
    await cluster.kubectl(['patch', 'gtp5gmodule', 'sample', '--type=merge', '-p', JSON.stringify({ spec: { image: node.disk.INSTALLER_IMAGE, ...(await servedSource()) } })])
  }
  say(`applied ${path.relative(REPO, SAMPLE)}; watching its status${node === undefined ? '' : ' (the real node downloads and builds gtp5g: several minutes under TCG)'}:`)

  let last = ''
  const deadline = Date.now() + (node === undefined ? 120_000 : 30 * 60_000)
  for (;;) {
    const m = JSON.parse(await cluster.kubectl(['get', 'gtp5gmodule', 'sample', '-o', 'json'])) as { status?: { phase?: string, desired?: number, installed?: number, failed?: number, message?: string } }
    const s = m.status ?? {}
    const line = `phase ${s.phase ?? '-'}  desired ${s.desired ?? '-'}  installed ${s.installed ?? '-'}  failed ${s.failed ?? '-'}  ${s.message ?? ''}`
    if (line !== last) {
      if (process.stdout.isTTY) process.stdout.write(`\r\x1b[K  ${line}`)
      else console.log(`  ${line}`)
      last = line
    }
    if (s.phase === 'Installed' || Date.now() > deadline) break
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  if (process.stdout.isTTY) process.stdout.write('\n')
  console.log(`\n${await cluster.kubectl(['get', 'gtp5g'])}`)
  console.log(`Look around:
  export KUBECONFIG=${cluster.kubeconfigPath} PATH=${TOOLS_BIN}:$PATH
  kubectl get gtp5g                       # the modules, as users see them
  kubectl describe gtp5gmodule sample     # conditions, per-node lists
  kubectl get ds,pods -n ${INSTALLER_NAMESPACE} -o wide
  kubectl apply -f - <<< '{"apiVersion":"operator.gthulhu.io/v1alpha1","kind":"GTP5GModule","metadata":{"name":"sample"},"spec":{"version":"v0.9.15"}}'
${node === undefined
? ''
: `The real node ${node.name}:
  kubectl get pods -n ${INSTALLER_NAMESPACE} -o wide --field-selector spec.nodeName=${node.name}
  kubectl logs -n ${INSTALLER_NAMESPACE} <that pod>                          # the installer's steps, with timings
  kubectl exec -it -n ${INSTALLER_NAMESPACE} <that pod> -- cat /sys/module/gtp5g/version
  kubectl get --raw /api/v1/nodes/${node.name}/proxy/logs/kubelet.log      # the guest's kubelet
`}Logs of every component: ${path.join(cluster.dir, 'logs')}
Stop it: npm run demo:down`)
  if (SCHEDULING) await schedulingDemo(cluster)
}

/**
 * spec.scheduling on the demo cluster: the real Gthulhu Manager on FerretDB, a gNB pod (kwok),
 * the sample with a scheduling rule, the agent run for its pod as in e2e/scheduling.test.ts.
 * Runs until Ctrl-C, which stops the Manager and the agent; the cluster stays (npm run demo:down).
 */
async function schedulingDemo (cluster: LocalCluster): Promise<void> {
  const kubectl = async (args: readonly string[], input?: string): Promise<string> => await cluster.kubectl(args, input)
  const manager = new GthulhuManager(path.join(cluster.dir, 'gthulhu'), { kubeconfig: cluster.kubeconfigPath, kubectl })
  await manager.start()
  say(`the real Gthulhu Manager answers at ${manager.url} (FerretDB underneath; logs in ${path.join(manager.dir, 'logs')})`)
  const kubelet = new AgentKubelet({ kubectl }, INSTALLER_NAMESPACE, path.join(cluster.dir, 'gthulhu', 'agents'))
  kubelet.start()
  await kubectl(['create', 'namespace', 'ran']).catch(() => '')
  await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'gnb-0', namespace: 'ran', labels: { 'app.kubernetes.io/name': 'ueransim-gnb' } }, spec: { containers: [{ name: 'gnb', image: 'towards5gs/ueransim-gnb:v3.2.3' }] } }))
  await kubectl(['create', 'secret', 'generic', 'gthulhu-manager', '-n', INSTALLER_NAMESPACE, `--from-literal=username=${manager.adminUser}`, `--from-literal=password=${manager.adminPassword}`]).catch(() => '')
  const rules = [{ name: 'gnb', podSelector: { 'app.kubernetes.io/name': 'ueransim-gnb' }, namespaces: ['ran'] }]
  await kubectl(['patch', 'gtp5gmodule', 'sample', '--type=merge', '-p', JSON.stringify({ spec: { scheduling: { managerUrl: manager.url, credentialsSecret: { name: 'gthulhu-manager' }, rules } } })])
  say('gNB pod ran/gnb-0 created (kwok), spec.scheduling added to the sample; the agent runs as a local process for its pod (kwok nodes run nothing)')
  let last = ''
  const signal = new AbortController()
  process.once('SIGINT', () => { signal.abort() })
  const stop = new Promise<void>(resolve => { signal.signal.addEventListener('abort', () => { resolve() }) })
  say('watching the Scheduling condition and the Manager\'s strategies (Ctrl-C stops the Manager and the agent):')
  while (!signal.signal.aborted) {
    const m = JSON.parse(await kubectl(['get', 'gtp5gmodule', 'sample', '-o', 'json'])) as { status?: { phase?: string, conditions?: Array<{ type: string, status: string, reason: string }> } }
    const c = m.status?.conditions?.find(x => x.type === 'Scheduling')
    const strategies = (await manager.api<{ strategies: Array<{ StrategyNamespace: string, Priority: number, ExecutionTime: number, CommandRegex: string }> }>('GET', '/api/v1/strategies/self')).body.data?.strategies ?? []
    const line = `phase ${m.status?.phase ?? '-'}  Scheduling ${c?.status ?? '-'}/${c?.reason ?? '-'}  strategies ${strategies.map(s => `${s.StrategyNamespace} ${s.CommandRegex} prio ${s.Priority} slice ${s.ExecutionTime / 1e6} ms`).join('; ') || 'none'}`
    if (line !== last) { console.log(`  ${line}`); last = line }
    await Promise.race([stop, new Promise(resolve => setTimeout(resolve, 1000))])
  }
  await kubelet.stop()
  await manager.stop()
  say('the Manager and the agent stopped; the cluster keeps running (npm run demo:down)')
}

try {
  if (SOURCE !== undefined && !REAL_NODE) throw new MissingPrerequisite('--source is for the real node: add --real-node (kwok nodes download nothing)')
  await main()
} catch (error) {
  console.error(error instanceof MissingPrerequisite ? `cannot run the demo: ${error.message}` : error)
  process.exitCode = 1
} finally {
  // The installer has its copy by now (the node's cache); the cluster keeps running.
  await served?.close()
}
