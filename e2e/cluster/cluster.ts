// A local Kubernetes cluster as plain processes on loopback, for machines without a container
// engine: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok (simulated
// nodes), the real Metacontroller and this repository's hook server. Binaries come from
// e2e/cluster/build.sh (pinned upstream versions, cached) and from METACONTROLLER_DIR.
// How each component starts and shows it is ready: components.ts; its processes: processes.ts;
// the kwok Stages that play the kubelet, node faults included: stages.ts.
//
// Everything lives in one directory (certificates, kubeconfig, etcd data, logs, pid files), so
// `down` stops exactly what `up` started and two clusters (the demo, the e2e suite) can coexist.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { DEFAULT_TARGET_NAMESPACE } from '../../contract/index.js'
import { CACHE_DIR, METACONTROLLER_DIR, METACONTROLLER_VERSION, REPO, type Tool, TOOLS_BIN, toolPath } from './tools.js'
import { ensurePki, kubeconfig, type Pki } from './certs.js'
import { COMPONENT_TABLE, type ComponentContext, type ComponentName, COMPONENTS, type Ports } from './components.js'
import { CANARY_NODE, canaryNode, simulatedNodes } from './nodes.js'
import { Processes } from './processes.js'
import { CANARY_POD, canaryMessage, canaryPod, canaryStage, type FaultSpec, kwokStages, pokeNodePods, POKE_ANNOTATION, writeNodeFault } from './stages.js'
import { freePort, runTool, sleep } from './loopback.js'

export { COMPONENTS, type ComponentName, egressSocket } from './components.js'
export { REPO } from './tools.js'
export const DEFAULT_CLUSTER_DIR = path.join(CACHE_DIR, 'clusters', 'demo')

/** Processes of the real node (e2e/node/realnode.ts) that share the pid files, so `down` stops them too. */
export type ExtraComponent = 'node-vm' | 'node-proxy'
export const EXTRA_COMPONENTS: readonly ExtraComponent[] = ['node-vm', 'node-proxy']

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
  /** Extra environment of the hook server (hooks/server/config.ts), e.g. NODE_LABELS=false. */
  hookEnv?: Readonly<Record<string, string>>
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
  private readonly processes: Processes<ComponentName | ExtraComponent>

  constructor (dir: string = process.env.GTP5G_CLUSTER_DIR ?? DEFAULT_CLUSTER_DIR, options: ClusterOptions = {}) {
    this.dir = dir
    this.kubeconfigPath = path.join(dir, 'kubeconfig')
    this.options = options
    this.processes = new Processes(dir)
  }

  /** Made on first use: `status` and `down` need no certificates. */
  private get pki (): Pki { return ensurePki(path.join(this.dir, 'pki')) }

  private get statePath (): string { return path.join(this.dir, 'state.json') }
  private logPath (name: ComponentName): string { return path.join(this.dir, 'logs', `${name}.log`) }
  pidPath (name: ComponentName | ExtraComponent): string { return this.processes.pidPath(name) }

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

  /** Metacontroller's Prometheus endpoint (its --metrics-address, on loopback). */
  async metacontrollerMetricsUrl (): Promise<string> { return `http://127.0.0.1:${(await this.ports()).metacontrollerMetrics}/metrics` }

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
  pidOf (name: ComponentName | ExtraComponent): number | undefined { return this.processes.pidOf(name) }

  status (): ComponentStatus[] {
    return COMPONENTS.map(name => {
      const pid = this.pidOf(name)
      return { name, pid, running: pid !== undefined, log: this.logPath(name) }
    })
  }

  /** Starts one component unless it already runs; resolves once it answers its health check. */
  async start (name: ComponentName): Promise<void> {
    if (this.pidOf(name) !== undefined) return
    const context = await this.componentContext()
    const { bin, args, env } = COMPONENT_TABLE[name].command(context)
    this.spawnRecorded(name, bin, args, { log: this.logPath(name), env: { ...process.env, ...env } })
    await this.waitReady(name, context)
  }

  /** What the component table needs to know of this cluster, as `up` recorded it. */
  private async componentContext (): Promise<ComponentContext> {
    const ports = await this.ports()
    const state = this.state()
    return {
      dir: this.dir,
      kubeconfig: this.kubeconfigPath,
      pki: this.pki,
      ports,
      targetNamespace: state.targetNamespace ?? DEFAULT_TARGET_NAMESPACE,
      realNode: state.realNode === true,
      kwokArgs: this.options.kwokArgs ?? [],
      hookEnv: this.options.hookEnv ?? {}
    }
  }

  /**
   * Starts a process of this cluster in the background, its output appended to `log`, and records
   * its pid with its start time, so `pidOf` and `stop` know exactly that process.
   */
  spawnRecorded (name: ComponentName | ExtraComponent, bin: string, args: readonly string[], options: { log: string, cwd?: string, env?: NodeJS.ProcessEnv }): number {
    return this.processes.spawn(name, bin, args, options)
  }

  private async waitReady (name: ComponentName, context: ComponentContext, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (await COMPONENT_TABLE[name].healthy(context)) return
      if (this.pidOf(name) === undefined) throw new Error(`${name} exited during start-up; the end of ${this.logPath(name)}:\n${this.logTail(name)}`)
      await sleep(200)
    }
    throw new Error(`${name} did not become healthy in ${timeoutMs / 1000} s; the end of ${this.logPath(name)}:\n${this.logTail(name)}`)
  }

  logTail (name: ComponentName, lines = 40): string {
    try { return readFileSync(this.logPath(name), 'utf8').trimEnd().split('\n').slice(-lines).join('\n') } catch { return '(no log)' }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; only the process this cluster started. */
  async stop (name: ComponentName | ExtraComponent, graceMs = 10_000): Promise<void> { await this.processes.stop(name, graceMs) }

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
  async setNodeFault (node: string, fault?: FaultSpec): Promise<void> {
    await writeNodeFault(this, node, fault)
    if (!await this.kwokAppliesStages()) {
      // kwok's Stage cache is stale (see canaryStage): a new kwok lists every Stage afresh.
      await this.stop('kwok')
      await this.startKwok(line => { console.error(line) }, 2)
    }
    await pokeNodePods(this, node)
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
