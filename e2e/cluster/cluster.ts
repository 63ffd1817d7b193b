// A local Kubernetes cluster as plain processes on loopback, for machines without a container
// engine: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok (simulated
// nodes), the real Metacontroller and this repository's hook server. Binaries come from
// e2e/cluster/build.sh (pinned upstream versions, cached) and from METACONTROLLER_DIR.
//
// Everything lives in one directory (certificates, kubeconfig, etcd data, logs, pid files), so
// `down` stops exactly what `up` started and two clusters (the demo, the e2e suite) can coexist.
import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEFAULT_TARGET_NAMESPACE } from '../../contract/index.js'
import { CACHE_DIR, METACONTROLLER_DIR, METACONTROLLER_VERSION, type Tool, TOOLS_BIN, toolPath } from '../lib/tools.js'
import { ensurePki, kubeconfig, type Pki } from './certs.js'
import { CANARY_NODE, canaryNode, simulatedNodes } from './nodes.js'
import { CANARY_POD, canaryMessage, canaryPod, canaryStage, FAULT_LABEL, FAULT_MESSAGE_ANNOTATION, FAULT_MODE_ANNOTATION, type FaultMode, kwokStages, type NodeFault, podStages, POKE_ANNOTATION } from './stages.js'
import type { InstallerReason } from '../../contract/index.js'
import { freePort, runTool, sleep } from '../lib/loopback.js'

export const REPO = fileURLToPath(new URL('../../', import.meta.url))
export const DEFAULT_CLUSTER_DIR = path.join(CACHE_DIR, 'clusters', 'demo')

export type ComponentName = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kwok' | 'metacontroller' | 'hooks'
export const COMPONENTS: readonly ComponentName[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'metacontroller', 'hooks']
/** Processes of the real node (e2e/node/realnode.ts) that share the pid files, so `down` stops them too. */
export type ExtraComponent = 'node-vm' | 'node-proxy'
export const EXTRA_COMPONENTS: readonly ExtraComponent[] = ['node-vm', 'node-proxy']
/** Where the API server of a `realNode` cluster sends CONNECT requests for kubelets. */
export const egressSocket = (dir: string): string => path.join(dir, 'node-egress.sock')

interface Ports {
  etcd: number
  etcdPeer: number
  apiserver: number
  controllerManager: number
  scheduler: number
  kwok: number
  metacontrollerMetrics: number
  metacontrollerHealth: number
  hooks: number
}

export interface UpOptions {
  /** Simulated nodes labelled for the default selector (kwok). */
  nodes?: number
  /** Installer namespace the hook server writes DaemonSets into. */
  targetNamespace?: string
  /** Progress lines ("[up 3.2s] etcd ready"). */
  log?: (line: string) => void
  /** How often kwok is started before `up` gives up on a kwok that does not act (default 3). */
  kwokStarts?: number
  /**
   * Ready the API server for a real node (e2e/node/): it reaches kubelets through the CONNECT
   * proxy of e2e/node/proxy.ts (its egress selector), with a client certificate they trust.
   * Recorded at the first `up`; the proxy and the VM themselves are e2e/node/realnode.ts's.
   */
  realNode?: boolean
}

export interface ClusterOptions {
  /** Extra kwok flags, after ours (the last of a repeated flag wins): for tests of `up` itself. */
  kwokArgs?: readonly string[]
}

export interface ComponentStatus { name: ComponentName, pid: number | undefined, running: boolean, log: string }

/** Polls `check` every 250 ms until it holds (true) or `timeoutMs` has passed (false). */
async function until (check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return true
    if (Date.now() >= deadline) return false
    await sleep(250)
  }
}

/** Something the cluster needs is not on this machine; the message says how to provide it. */
export class MissingPrerequisite extends Error {}

/** Why the cluster cannot start here, or undefined when everything it needs is present. */
export function missingPrerequisite (): string | undefined {
  const tools: Tool[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'kwok', 'helm']
  const absent = tools.filter(t => toolPath(t) === undefined)
  if (absent.length > 0) return `${absent.join(', ')} not built in ${TOOLS_BIN}: run \`bash e2e/cluster/build.sh\` (pinned versions from the Go module proxy, about 12 min the first time)`
  const mc = path.join(METACONTROLLER_DIR, 'metacontroller')
  const crds = path.join(METACONTROLLER_DIR, 'crds')
  if (!existsSync(mc) || !existsSync(crds) || readdirSync(crds).filter(f => f.endsWith('.yaml')).length === 0) {
    return `Metacontroller ${METACONTROLLER_VERSION} is missing: put its binary at ${mc} and its CRDs ` +
      `(manifests/production/metacontroller-crds-v1.yaml of its repository) in ${crds}/, or point METACONTROLLER_DIR elsewhere. ` +
      'No package registry ships it. With a container runtime: copy /usr/bin/metacontroller out of ' +
      `ghcr.io/metacontroller/metacontroller:${METACONTROLLER_VERSION}, and ` +
      `\`helm show crds oci://ghcr.io/metacontroller/metacontroller-helm --version ${METACONTROLLER_VERSION.slice(1)}\` for the CRDs. ` +
      `Without one: build tag ${METACONTROLLER_VERSION} of github.com/metacontroller/metacontroller with its Makefile, outside this repository.`
  }
  if (!existsSync(path.join(REPO, 'dist/hooks/server/main.js'))) return 'the hook server is not built: run `npm run build`'
  return undefined
}

export class LocalCluster {
  readonly dir: string
  readonly kubeconfigPath: string
  private readonly options: ClusterOptions

  constructor (dir: string = process.env.GTP5G_CLUSTER_DIR ?? DEFAULT_CLUSTER_DIR, options: ClusterOptions = {}) {
    this.dir = dir
    this.kubeconfigPath = path.join(dir, 'kubeconfig')
    this.options = options
  }

  /** Made on first use: `status` and `down` need no certificates. */
  private get pki (): Pki { return ensurePki(path.join(this.dir, 'pki')) }

  private get statePath (): string { return path.join(this.dir, 'state.json') }
  private logPath (name: ComponentName): string { return path.join(this.dir, 'logs', `${name}.log`) }
  pidPath (name: ComponentName | ExtraComponent): string { return path.join(this.dir, 'pids', `${name}.pid`) }

  /** The egress selector configuration of a cluster made with `realNode` (else undefined). */
  private realNodeArgs (): string[] {
    if (!this.state().realNode) return []
    const file = path.join(this.dir, 'egress-selector.yaml')
    // Traffic to nodes, pods and services ("cluster") goes as HTTP CONNECT through a unix socket
    // to e2e/node/proxy.ts, which admits the real node's kubelet only and dials its qemu hostfwd
    // port on 127.0.0.1: the guest's own address is not routable from here.
    writeFileSync(file, JSON.stringify({
      apiVersion: 'apiserver.k8s.io/v1beta1',
      kind: 'EgressSelectorConfiguration',
      egressSelections: [{ name: 'cluster', connection: { proxyProtocol: 'HTTPConnect', transport: { uds: { udsName: egressSocket(this.dir) } } } }]
    }, null, 2) + '\n')
    const pki = this.pki
    return [
      `--egress-selector-config-file=${file}`, '--kubelet-preferred-address-types=InternalIP',
      // The kubelet admits x509 clients of the cluster's CA (e2e/node/guest/kubelet.yaml).
      `--kubelet-client-certificate=${pki.adminCert}`, `--kubelet-client-key=${pki.adminKey}`
    ]
  }

  private state (): { targetNamespace?: string, realNode?: boolean } {
    try { return JSON.parse(readFileSync(this.statePath, 'utf8')) as { targetNamespace?: string, realNode?: boolean } } catch { return {} }
  }

  /** The ports chosen at the first `up`, kept for later ones (the kubeconfig names them). */
  private async ports (): Promise<Ports> {
    if (existsSync(this.statePath)) return (JSON.parse(readFileSync(this.statePath, 'utf8')) as { ports: Ports }).ports
    const ports: Ports = {
      etcd: await freePort(),
      etcdPeer: await freePort(),
      apiserver: await freePort(),
      controllerManager: await freePort(),
      scheduler: await freePort(),
      kwok: await freePort(),
      metacontrollerMetrics: await freePort(),
      metacontrollerHealth: await freePort(),
      hooks: await freePort()
    }
    mkdirSync(this.dir, { recursive: true })
    writeFileSync(this.statePath, JSON.stringify({ ports }, null, 2) + '\n')
    return ports
  }

  async hooksUrl (): Promise<string> { return `http://127.0.0.1:${(await this.ports()).hooks}` }

  /** Environment for helm against this cluster: its kubeconfig, and Helm's own state kept in the cluster directory. */
  helmEnv (): Record<string, string> {
    return {
      KUBECONFIG: this.kubeconfigPath,
      HELM_CACHE_HOME: path.join(this.dir, 'helm/cache'),
      HELM_CONFIG_HOME: path.join(this.dir, 'helm/config'),
      HELM_DATA_HOME: path.join(this.dir, 'helm/data')
    }
  }

  /** The pid of a component this cluster started, if that very process still runs. */
  pidOf (name: ComponentName | ExtraComponent): number | undefined {
    if (!existsSync(this.pidPath(name))) return undefined
    const [pid, startTime] = readFileSync(this.pidPath(name), 'utf8').trim().split(' ').map(Number)
    // A pid file can outlive its process and the pid be reused: the start time tells them apart.
    return pid !== undefined && startTime !== undefined && processStartTime(pid) === startTime ? pid : undefined
  }

  status (): ComponentStatus[] {
    return COMPONENTS.map(name => {
      const pid = this.pidOf(name)
      return { name, pid, running: pid !== undefined, log: this.logPath(name) }
    })
  }

  private command (name: ComponentName, ports: Ports, targetNamespace: string): { bin: string, args: string[], env?: Record<string, string> } {
    const pki = this.pki
    const kc = this.kubeconfigPath
    const tool = (t: Tool): string => toolPath(t) as string
    const secureComponent = (port: number): string[] => [
      `--kubeconfig=${kc}`, `--authentication-kubeconfig=${kc}`, `--authorization-kubeconfig=${kc}`,
      // Without these, both components retry reading the extension-apiserver CA bundle forever.
      '--authentication-skip-lookup=true', `--client-ca-file=${pki.ca}`,
      '--bind-address=127.0.0.1', `--secure-port=${port}`, `--cert-dir=${path.join(this.dir, 'certs', name)}`,
      '--leader-elect=false'
    ]
    switch (name) {
      case 'etcd':
        return {
          bin: tool('etcd'),
          args: [
            '--name=local', `--data-dir=${path.join(this.dir, 'etcd')}`,
            `--listen-client-urls=http://127.0.0.1:${ports.etcd}`, `--advertise-client-urls=http://127.0.0.1:${ports.etcd}`,
            `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
            `--initial-cluster=local=http://127.0.0.1:${ports.etcdPeer}`,
            // A throw-away test cluster: durability is not worth an fsync per write here.
            '--unsafe-no-fsync', '--log-level=warn'
          ]
        }
      case 'kube-apiserver':
        return {
          bin: tool('kube-apiserver'),
          args: [
            `--etcd-servers=http://127.0.0.1:${ports.etcd}`,
            '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${ports.apiserver}`,
            `--tls-cert-file=${pki.serverCert}`, `--tls-private-key-file=${pki.serverKey}`, `--client-ca-file=${pki.ca}`,
            '--service-account-issuer=https://kubernetes.default.svc', `--service-account-key-file=${pki.saPub}`,
            `--service-account-signing-key-file=${pki.saKey}`, '--service-cluster-ip-range=10.96.0.0/16',
            '--authorization-mode=Node,RBAC', '--allow-privileged=true', '--enable-priority-and-fairness=false',
            // The kubernetes Service's endpoints may not point at loopback; nothing here needs them.
            '--endpoint-reconciler-type=none', '--profiling=false', `--cert-dir=${path.join(this.dir, 'certs', name)}`,
            ...this.realNodeArgs()
          ]
        }
      case 'kube-controller-manager':
        return {
          bin: tool('kube-controller-manager'),
          args: [
            ...secureComponent(ports.controllerManager),
            `--service-account-private-key-file=${pki.saKey}`, `--root-ca-file=${pki.ca}`,
            // Each controller as its own ServiceAccount, as kubeadm runs it: the chart's admission
            // policy admits installer pods created by the DaemonSet controller's identity only.
            '--use-service-account-credentials=true', '--concurrent-daemonset-syncs=5',
            // No real kubelets or volumes: node IPAM and the volume controllers have nothing to do.
            '--controllers=*,-node-ipam-controller,-persistentvolume-binder-controller,-persistentvolume-expander-controller,-persistentvolume-attach-detach-controller'
          ]
        }
      case 'kube-scheduler':
        return { bin: tool('kube-scheduler'), args: secureComponent(ports.scheduler) }
      case 'kwok':
        return {
          bin: tool('kwok'),
          args: [
            `--kubeconfig=${kc}`, `--server-address=127.0.0.1:${ports.kwok}`,
            '--manage-all-nodes=false', '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
            '--enable-crds=Stage', '--node-lease-duration-seconds=40',
            ...this.options.kwokArgs ?? []
          ]
        }
      case 'metacontroller':
        return {
          bin: path.join(METACONTROLLER_DIR, 'metacontroller'),
          args: [
            `--kubeconfig=${kc}`, `--metrics-address=127.0.0.1:${ports.metacontrollerMetrics}`,
            `--health-probe-bind-address=127.0.0.1:${ports.metacontrollerHealth}`,
            // A CompositeController installed a moment ago is picked up within seconds.
            '--discovery-interval=5s', '--zap-log-level=info', '--client-go-qps=50', '--client-go-burst=100'
          ]
        }
      case 'hooks':
        return {
          bin: process.execPath,
          args: [path.join(REPO, 'dist/hooks/server/main.js')],
          env: { HOST: '127.0.0.1', PORT: String(ports.hooks), TARGET_NAMESPACE: targetNamespace, LOG_LEVEL: 'info' }
        }
    }
  }

  /** Starts one component unless it already runs; resolves once it answers its health check. */
  async start (name: ComponentName): Promise<void> {
    if (this.pidOf(name) !== undefined) return
    const ports = await this.ports()
    const { bin, args, env } = this.command(name, ports, this.targetNamespace())
    this.spawnRecorded(name, bin, args, { log: this.logPath(name), env: { ...process.env, ...env } })
    await this.waitReady(name, ports)
  }

  /**
   * Starts a process of this cluster in the background, its output appended to `log`, and records
   * its pid with its start time, so `pidOf` and `stop` know exactly that process.
   */
  spawnRecorded (name: ComponentName | ExtraComponent, bin: string, args: readonly string[], options: { log: string, cwd?: string, env?: NodeJS.ProcessEnv }): number {
    mkdirSync(path.dirname(this.pidPath(name)), { recursive: true })
    mkdirSync(path.dirname(options.log), { recursive: true })
    const out = openSync(options.log, 'a')
    const child = spawn(bin, args, { detached: true, stdio: ['ignore', out, out], cwd: options.cwd, env: options.env ?? process.env })
    closeSync(out)
    child.unref()
    if (child.pid === undefined) throw new Error(`${name}: could not start ${bin}`)
    writeFileSync(this.pidPath(name), `${child.pid} ${String(processStartTime(child.pid))}`)
    return child.pid
  }

  /** The installer namespace `up` recorded; the hook server is always started with it. */
  private targetNamespace (): string { return this.state().targetNamespace ?? DEFAULT_TARGET_NAMESPACE }

  private async healthy (name: ComponentName, ports: Ports): Promise<boolean> {
    switch (name) {
      case 'etcd': return await httpOk(`http://127.0.0.1:${ports.etcd}/health`)
      case 'kube-apiserver': return await httpsOk(`https://127.0.0.1:${ports.apiserver}/readyz`, this.pki)
      case 'kube-controller-manager': return await httpsOk(`https://127.0.0.1:${ports.controllerManager}/healthz`)
      case 'kube-scheduler': return await httpsOk(`https://127.0.0.1:${ports.scheduler}/healthz`)
      case 'kwok': return await httpOk(`http://127.0.0.1:${ports.kwok}/healthz`)
      case 'metacontroller': return await httpOk(`http://127.0.0.1:${ports.metacontrollerHealth}/readyz`)
      case 'hooks': return await httpOk(`http://127.0.0.1:${ports.hooks}/readyz`)
    }
  }

  private async waitReady (name: ComponentName, ports: Ports, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (await this.healthy(name, ports)) return
      if (this.pidOf(name) === undefined) throw new Error(`${name} exited during start-up; the end of ${this.logPath(name)}:\n${this.logTail(name)}`)
      await sleep(200)
    }
    throw new Error(`${name} did not become healthy in ${timeoutMs / 1000} s; the end of ${this.logPath(name)}:\n${this.logTail(name)}`)
  }

  logTail (name: ComponentName, lines = 40): string {
    try { return readFileSync(this.logPath(name), 'utf8').trimEnd().split('\n').slice(-lines).join('\n') } catch { return '(no log)' }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; only the process this cluster started. */
  async stop (name: ComponentName | ExtraComponent, graceMs = 10_000): Promise<void> {
    const pid = this.pidOf(name)
    if (pid !== undefined) {
      process.kill(pid, 'SIGTERM')
      const deadline = Date.now() + graceMs
      while (this.pidOf(name) !== undefined && Date.now() < deadline) await sleep(100)
      if (this.pidOf(name) !== undefined) process.kill(pid, 'SIGKILL')
      while (this.pidOf(name) !== undefined) await sleep(50)
    }
    rmSync(this.pidPath(name), { force: true })
  }

  /** Kills a component without warning (SIGKILL), as a crash would. */
  async kill (name: ComponentName): Promise<void> { await this.stop(name, 0) }

  async kubectl (args: readonly string[], input?: string): Promise<string> {
    const kubectl = toolPath('kubectl')
    if (kubectl === undefined) throw new MissingPrerequisite(missingPrerequisite() ?? 'kubectl is not built')
    const full = [`--kubeconfig=${this.kubeconfigPath}`, `--cache-dir=${path.join(this.dir, 'kube-cache')}`, ...args]
    return await runTool(kubectl, full, { input, shown: args })
  }

  /** Applies objects given as JSON (a list is sent as one v1 List). */
  async apply (objects: ReadonlyArray<Record<string, unknown>>, extra: readonly string[] = []): Promise<string> {
    return await this.kubectl(['apply', '-f', '-', ...extra], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }))
  }

  /**
   * Brings the whole cluster up; a component that already runs is left alone, so `up` is
   * idempotent. Progress goes to `options.log`.
   */
  async up (options: UpOptions = {}): Promise<void> {
    const started = Date.now()
    const say = (line: string): void => options.log?.(`[up ${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`)
    const problem = missingPrerequisite()
    if (problem !== undefined) throw new MissingPrerequisite(problem)
    const targetNamespace = options.targetNamespace ?? DEFAULT_TARGET_NAMESPACE
    const ports = await this.ports()
    const realNode = options.realNode === true || this.state().realNode === true
    writeFileSync(this.statePath, JSON.stringify({ ports, targetNamespace, ...(realNode ? { realNode } : {}) }, null, 2) + '\n')
    writeFileSync(this.kubeconfigPath, kubeconfig(this.pki, `https://127.0.0.1:${ports.apiserver}`))
    say(`cluster directory ${this.dir}`)

    const step = async (name: ComponentName): Promise<void> => {
      const already = this.pidOf(name) !== undefined
      await this.start(name)
      say(already ? `${name} already running` : `${name} ready`)
    }
    await step('etcd')
    await step('kube-apiserver')
    await Promise.all([step('kube-controller-manager'), step('kube-scheduler')])

    await this.kubectl(['apply', '--server-side', '-f', '-'], kwokStages().crd)
    await this.kubectl(['wait', '--for=condition=Established', 'crd/stages.kwok.x-k8s.io', '--timeout=60s'])
    await this.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], kwokStages().stages)
    await this.startKwok(say, options.kwokStarts ?? 3)

    await this.kubectl(['apply', '--server-side', '--force-conflicts', '-f', path.join(METACONTROLLER_DIR, 'crds')])
    await this.kubectl(['wait', '--for=condition=Established', 'crd/compositecontrollers.metacontroller.k8s.io', '--timeout=60s'])
    await step('metacontroller')
    await step('hooks')

    const nodes = options.nodes ?? 3
    if (nodes > 0) {
      await this.apply(simulatedNodes(nodes))
      await this.kubectl(['wait', '--for=condition=Ready', 'nodes', '--all', '--timeout=120s'])
      say(`${nodes} simulated node(s) Ready`)
    }
    say('cluster up')
  }

  /**
   * Gives a simulated node a fault (the installer there fails with `reason` and `message`), or
   * heals it (`fault` undefined). The node's label and annotations are the record; the kwok
   * Stages that act on them are rebuilt from all nodes' records.
   */
  async setNodeFault (node: string, fault?: { reason: InstallerReason, message: string, mode?: FaultMode }): Promise<void> {
    if (fault === undefined) {
      await this.kubectl(['label', 'node', node, `${FAULT_LABEL}-`])
      await this.kubectl(['annotate', 'node', node, `${FAULT_MESSAGE_ANNOTATION}-`, `${FAULT_MODE_ANNOTATION}-`])
    } else {
      await this.kubectl(['annotate', '--overwrite', 'node', node, `${FAULT_MESSAGE_ANNOTATION}=${fault.message}`, `${FAULT_MODE_ANNOTATION}=${fault.mode ?? 'crashloop'}`])
      await this.kubectl(['label', '--overwrite', 'node', node, `${FAULT_LABEL}=${fault.reason}`])
    }
    const listed = JSON.parse(await this.kubectl(['get', 'nodes', '-l', FAULT_LABEL, '-o', 'json'])) as { items: Array<{ metadata: { name: string, labels: Record<string, string>, annotations?: Record<string, string> } }> }
    const faults: NodeFault[] = listed.items.map(n => ({
      node: n.metadata.name,
      reason: n.metadata.labels[FAULT_LABEL] as InstallerReason,
      message: n.metadata.annotations?.[FAULT_MESSAGE_ANNOTATION] ?? '',
      mode: n.metadata.annotations?.[FAULT_MODE_ANNOTATION] === 'terminated' ? 'terminated' : 'crashloop'
    }))
    await this.apply(podStages(faults), ['--server-side', '--force-conflicts'])
    const stale = JSON.parse(await this.kubectl(['get', 'stages.kwok.x-k8s.io', '-o', 'json'])) as { items: Array<{ metadata: { name: string } }> }
    const wanted = new Set(faults.map(f => `gtp5g-e2e-fault-${f.node}`))
    const gone = stale.items.map(i => i.metadata.name).filter(n => n.startsWith('gtp5g-e2e-fault-') && !wanted.has(n))
    if (gone.length > 0) await this.kubectl(['delete', 'stages.kwok.x-k8s.io', ...gone])
    if (!await this.kwokAppliesStages()) {
      // kwok's Stage cache is stale (see canaryStage): a new kwok lists every Stage afresh.
      await this.stop('kwok')
      await this.startKwok(line => { console.error(line) }, 2)
    }
    // kwok weighs stages when a pod changes, not when a stage does: touch the node's pods, as
    // its kubelet would act on them at once.
    await this.kubectl(['annotate', 'pods', '--all-namespaces', '--overwrite', `--field-selector=spec.nodeName=${node}`, `${POKE_ANNOTATION}=${Date.now()}`])
  }

  /**
   * Starts kwok (unless it runs) and proves that it acts, not only that it answers its health
   * check: a freshly created canary node must turn Ready (kwok's node stages run) and the canary
   * pod must take the canary Stage's newest nonce (kwok's Stage cache holds every Stage applied so
   * far; `canaryStage` says why that can fail). A kwok that does not is restarted, and the end of
   * its log is shown, up to `starts` starts in all.
   */
  private async startKwok (say: (line: string) => void, starts: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const already = this.pidOf('kwok') !== undefined
      await this.start('kwok')
      const problem = await this.kwokProblem()
      if (problem === undefined) {
        say(`kwok ${already ? 'already running' : 'ready'}: the canary node is Ready and every Stage applies`)
        return
      }
      const tail = this.logTail('kwok', 20)
      if (attempt >= starts) throw new Error(`kwok ${problem}, after ${starts} start(s); the end of ${this.logPath('kwok')}:\n${tail}`)
      say(`kwok ${problem}; restarting it (start ${attempt + 1} of ${starts}). The end of its log:\n${tail}`)
      await this.stop('kwok')
    }
  }

  /** Why the running kwok does not act, or undefined when it does. */
  private async kwokProblem (): Promise<string | undefined> {
    // Both recreated: a Ready condition or a message left by an earlier kwok proves nothing.
    await this.kubectl(['delete', 'pod', '-n', CANARY_POD.namespace, CANARY_POD.name, '--ignore-not-found', '--grace-period=0', '--force'])
    await this.kubectl(['delete', 'node', CANARY_NODE, '--ignore-not-found'])
    await this.apply([canaryNode()])
    // The pod's ServiceAccount appears once the controller-manager has made it.
    const created = await until(async () => await this.apply([canaryPod(CANARY_NODE)]).then(() => true, () => false), 30_000)
    if (!created) await this.apply([canaryPod(CANARY_NODE)])
    const ready = await until(async () => await this.jsonpath(['node', CANARY_NODE], '{.status.conditions[?(@.type=="Ready")].status}') === 'True', 20_000)
    if (!ready) return 'does not initialise nodes (the canary node never turned Ready)'
    if (!await this.kwokAppliesStages()) return 'does not apply its Stages (the canary pod never took the canary Stage\'s newest nonce)'
    return undefined
  }

  /** True once kwok acts on every Stage applied so far: see `canaryStage`. */
  private async kwokAppliesStages (nonces = 3, perNonceMs = 8_000): Promise<boolean> {
    const pod = ['pod', '-n', CANARY_POD.namespace, CANARY_POD.name]
    for (let i = 0; i < nonces; i++) {
      const nonce = `${Date.now().toString(36)}-${i}`
      await this.apply([canaryStage(nonce)], ['--server-side', '--force-conflicts'])
      const deadline = Date.now() + perNonceMs
      while (Date.now() < deadline) {
        // kwok weighs stages when a pod changes, so poke the canary (again) until its cache catches up.
        await this.kubectl(['annotate', ...pod, '--overwrite', `${POKE_ANNOTATION}=${nonce}-${Date.now()}`])
        if (await until(async () => await this.jsonpath(pod, '{.status.message}') === canaryMessage(nonce), 1000)) return true
      }
    }
    return false
  }

  private async jsonpath (object: readonly string[], expression: string): Promise<string | undefined> {
    return await this.kubectl(['get', ...object, '-o', `jsonpath=${expression}`]).catch(() => undefined)
  }

  /** Stops every component this cluster started (never anything else); keeps the directory. */
  async down (options: { purge?: boolean } = {}): Promise<void> {
    for (const name of [...EXTRA_COMPONENTS, ...[...COMPONENTS].reverse()]) await this.stop(name)
    if (options.purge === true) rmSync(this.dir, { recursive: true, force: true })
  }
}

/** Field 22 of /proc/<pid>/stat (clock ticks after boot), or undefined when there is no such process. */
function processStartTime (pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const state = fields[0]
    return state === 'Z' || state === 'X' ? undefined : Number(fields[19])
  } catch {
    return undefined
  }
}

async function httpOk (url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
    return res.ok
  } catch {
    return false
  }
}

/** An HTTPS health check; with a PKI it authenticates as the admin and verifies the server. */
async function httpsOk (url: string, pki?: Pki): Promise<boolean> {
  return await new Promise(resolve => {
    const tls = pki === undefined
      ? { rejectUnauthorized: false }
      : { ca: readFileSync(pki.ca), cert: readFileSync(pki.adminCert), key: readFileSync(pki.adminKey) }
    const req = httpsRequest(url, { ...tls, timeout: 2000 }, res => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('error', () => { resolve(false) })
    req.on('timeout', () => { req.destroy(); resolve(false) })
    req.end()
  })
}
