// Section 2 of `npm run bench`: the whole operator on the local cluster (real kube-apiserver,
// real Metacontroller, the hook server; kwok nodes) at one size, beside its floor measured on
// the same warm cluster in the same run: the very DaemonSet the hooks build, applied by hand,
// until every pod is Ready, then its version changed until the rollout is complete. Also the
// syncs once converged, Metacontroller's own hook latency (its /metrics) beside the hook
// server's, the status object's size, what kubectl shows of it, and each component's RSS at the
// end. bench/cluster.ts prints it.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { COMPONENTS, type ComponentName, LocalCluster } from '../e2e/cluster/cluster.js'
import { CHART, HOOK_NAMESPACE, INSTALLER_NAMESPACE, RELEASE, SAMPLE } from '../test/support/release.js'
import { simulatedNodes } from '../e2e/cluster/nodes.js'
import { toolPath } from '../e2e/cluster/tools.js'
import { counter, type Histogram, histogram, histogramMean, histogramQuantile } from './lib/prom.js'
import { daemonSetRolledOut, moduleRolledOut } from './lib/rollout.js'

/** The sample's version, and the one both rollouts change to (kwok runs no installer: any valid tag does). */
export const FROM_VERSION = 'v0.9.14'
export const TO_VERSION = 'v0.9.13'
/**
 * The rollouts' maxUnavailable, set with the version change on both sides. The sample's default
 * of 1 replaces one node at a time: thousands of sequential replacements at the larger sizes.
 */
export const ROLLOUT_MAX_UNAVAILABLE = '10%'
/** etcd's --max-request-bytes default, which e2e/cluster leaves as it is: the largest object etcd takes. */
export const ETCD_MAX_REQUEST_BYTES = 1_572_864

export interface Latency { count: number, meanMs: number, p50Ms: number, p99Ms: number }

export interface ClusterRun {
  nodes: number
  /** etcd → hook server, without nodes. */
  upMs: number
  /** The kwok nodes created (by the benchmark, as `up` would) and Ready. */
  nodesMs: number
  /** Floor: the DaemonSet applied by hand → every pod Ready. */
  baselineMs: number
  /** `kubectl apply` of a GTP5GModule → status Installed on every node. */
  operatorMs: number
  /** Floor: the hand-applied DaemonSet changed to TO_VERSION → rollout complete. */
  baselineRolloutMs: number
  /** `spec.version` patched to TO_VERSION → status Installed at it on every node. */
  operatorRolloutMs: number
  /** Once converged, for `seconds`: hook calls and status writes. */
  converged: { seconds: number, syncs: number, customizes: number, nodeSyncs: number, statusWrites: number }
  /** The composite /sync as Metacontroller times it (its /metrics), whole run. */
  metacontrollerSync: Latency
  /** The same calls as the hook server times them (its /metrics), whole run. */
  hookSync: Latency
  /** Bytes of the module as compact JSON (as the API server stores a custom resource): `.status` and the whole object. */
  statusBytes: number
  objectBytes: number
  /** `kubectl get gtp5gmodule` and `kubectl describe gtp5gmodule sample`, as printed at the end. */
  kubectlGet: string
  kubectlDescribe: string
  rssMiB: Record<ComponentName, number>
  /** CPU time (user + system) each process used from its start to the end of the run. */
  cpuSeconds: Record<ComponentName, number>
  /**
   * Metacontroller's API requests per second (client-go's rest_client_requests_total) during the
   * operator's apply → Installed and during its rollout: near its --client-go-qps, its client's
   * rate limiter is what it waits on.
   */
  metacontrollerApiRps: { apply: number, rollout: number }
  /**
   * Hook calls and the bytes Metacontroller sent with them during the operator's apply → Installed
   * and its rollout: each change to a shard's node list re-syncs the label decorator of that shard's nodes.
   */
  phaseCalls: Record<'apply' | 'rollout', { syncs: number, nodeSyncs: number, syncMiB: number, nodeSyncMiB: number }>
}

export interface ClusterRunOptions {
  log?: (line: string) => void
  /** How long to count syncs once converged (default 60 s, the CompositeController's resync period). */
  convergedSeconds?: number
  /** Install the chart with its Node decorator (nodeLabels.enabled, the default) or without, to see what it costs. */
  nodeLabels?: boolean
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** What a wait reads: `kubectl get <args> -o json`, or one API path as is (`kubectl get --raw`). */
type Query = string[] | { raw: string }

/**
 * Polls `kubectl get` until `done`; the deadline grows with the cluster, and so does the pause
 * between polls: each poll starts a kubectl process, and at 5,000 nodes polling every 100 ms kept
 * kubectl at about 45 % of a core beside the control plane it was timing, through waits that last
 * many minutes there. A poll every `nodes / 2` ms (100 ms to 2 s) costs a run at most that much.
 */
async function until (cluster: LocalCluster, query: Query, done: (o: any) => boolean, timeoutMs: number, nodes: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  const args = Array.isArray(query) ? ['get', ...query, '-o', 'json'] : ['get', '--raw', query.raw]
  const pauseMs = Math.min(2000, Math.max(100, nodes / 2))
  while (Date.now() < deadline) {
    const out = await cluster.kubectl(args).catch(() => undefined)
    if (out !== undefined && done(JSON.parse(out))) return
    await sleep(pauseMs)
  }
  throw new Error(`gave up after ${Math.round(timeoutMs / 60_000)} min waiting on kubectl ${args.join(' ')}`)
}

const rssMiB = (pid: number | undefined): number => {
  if (pid === undefined) return 0
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? 0 : Number(m[1]) / 1024
}

/** utime + stime of /proc/<pid>/stat, in seconds (USER_HZ is 100 on Linux). */
const cpuSeconds = (pid: number | undefined): number => {
  if (pid === undefined) return 0
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

const scrape = async (url: string): Promise<string> => {
  const res = await fetch(url)
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`)
  return await res.text()
}

const latency = (h: Histogram): Latency => ({ count: h.count, meanMs: histogramMean(h) * 1000, p50Ms: histogramQuantile(h, 0.5) * 1000, p99Ms: histogramQuantile(h, 0.99) * 1000 })

// Metacontroller v4.17.2 labels its hook client's metrics with the controller's type and the URL;
// the hook server with the hook's name.
const MC_SYNC = 'metacontroller_sync_request_duration_histogram_seconds'
const MC_COMPOSITE = { controller_type: 'CompositeController' }
const HOOK_DURATION = 'gtp5g_hook_duration_seconds'

/**
 * The simulated nodes of `up`, created faster for thousands of them: server-side apply (one
 * request a node, where kubectl's client-side apply reads each first) in chunks, a few kubectl
 * processes at a time; then every node Ready, with a deadline that grows with the count.
 */
async function createNodes (cluster: LocalCluster, count: number, timeoutMs: number): Promise<void> {
  const all = simulatedNodes(count)
  const chunks = Array.from({ length: Math.ceil(all.length / NODE_CHUNK) }, (_, i) => all.slice(i * NODE_CHUNK, (i + 1) * NODE_CHUNK))
  const workers = Array.from({ length: Math.min(NODE_WRITERS, chunks.length) }, async () => {
    for (let chunk = chunks.shift(); chunk !== undefined; chunk = chunks.shift()) await cluster.apply(chunk, ['--server-side'])
  })
  await Promise.all(workers)
  // One list every two seconds: `kubectl wait --all` waits on the nodes one at a time, minutes at 5,000.
  const deadline = Date.now() + timeoutMs
  const ready = '{range .items[?(@.metadata.labels.type=="kwok")]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'
  for (;;) {
    const out = await cluster.kubectl(['get', 'nodes', '-o', `jsonpath=${ready}`]).catch(() => '')
    if (out.split('\n').filter(line => line === 'True').length === count) return
    if (Date.now() > deadline) throw new Error(`the ${count} simulated nodes were not all Ready after ${Math.round(timeoutMs / 60_000)} min`)
    await sleep(2000)
  }
}
const NODE_CHUNK = 250
const NODE_WRITERS = 4

/** One cluster of `nodes` kwok nodes in a directory of its own, always taken down again. */
export async function clusterRun (nodes: number, options: ClusterRunOptions = {}): Promise<ClusterRun> {
  const started = Date.now()
  // Each step stamped with the time since the start, so a slow size shows where its time went.
  const log = (line: string): void => { options.log?.(`[${((Date.now() - started) / 1000).toFixed(0)} s] ${line}`) }
  const convergedSeconds = options.convergedSeconds ?? 60
  // A minute per 100 nodes and at least ten, for each wait: generous, as a shared machine needs.
  const waitMs = Math.max(600_000, nodes * 600)
  const dir = mkdtempSync(path.join(tmpdir(), 'gtp5g-bench-'))
  // kwok logs every lease renewal at INFO: at 5,000 nodes, 500 JSON lines a second of a CPU the
  // control plane needs. Warnings and errors are still logged.
  // Without the decorator the hook server keeps no node lists either, as the chart tells it.
  const cluster = new LocalCluster(dir, { kwokArgs: ['--v=WARN'], hookEnv: { NODE_LABELS: String(options.nodeLabels ?? true) } })
  try {
    let t0 = Date.now()
    await cluster.up({ nodes: 0, targetNamespace: INSTALLER_NAMESPACE, log })
    const upMs = Date.now() - t0
    t0 = Date.now()
    await createNodes(cluster, nodes, waitMs)
    const nodesMs = Date.now() - t0
    log(`cluster ${nodes}: nodes created and Ready`)
    const hooksUrl = await cluster.hooksUrl()
    execFileSync(toolPath('helm') as string, ['install', RELEASE, CHART, '-n', HOOK_NAMESPACE, '--create-namespace', '--set', `hooks.url=${hooksUrl}`, '--set', `nodeLabels.enabled=${String(options.nodeLabels ?? true)}`, '--wait'],
      { env: { ...process.env, ...cluster.helmEnv() }, stdio: 'ignore' })

    // The floor: the very DaemonSet the hooks would return, applied by hand under another name.
    const built = async (spec: Record<string, unknown>): Promise<Record<string, unknown>> => {
      const res = await fetch(`${hooksUrl}/sync`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ controller: {}, parent: { apiVersion: 'operator.gthulhu.io/v1alpha1', kind: 'GTP5GModule', metadata: { name: 'baseline' }, spec }, children: {}, related: {} })
      })
      return ((await res.json()) as { children: Array<Record<string, unknown>> }).children[0] as Record<string, unknown>
    }
    const ds = await built({ version: FROM_VERSION })
    const dsNext = await built({ version: TO_VERSION, maxUnavailable: ROLLOUT_MAX_UNAVAILABLE })
    const baselineDs = ['daemonset', '-n', INSTALLER_NAMESPACE, 'gtp5g-installer-baseline']
    // Twice: the first pass warms the controllers' and the scheduler's caches and is not counted,
    // so floor and operator both run on a warm cluster.
    let baselineMs = 0
    let baselineRolloutMs = 0
    for (const pass of ['warm-up', 'baseline']) {
      log(`cluster ${nodes}: DaemonSet by hand (${pass})`)
      t0 = Date.now()
      await cluster.apply([ds])
      await until(cluster, baselineDs, d => d.status?.numberReady === nodes, waitMs, nodes)
      if (pass === 'baseline') {
        baselineMs = Date.now() - t0
        log(`cluster ${nodes}: DaemonSet by hand, ${FROM_VERSION} → ${TO_VERSION} (rollout)`)
        t0 = Date.now()
        await cluster.apply([dsNext])
        await until(cluster, baselineDs, d => daemonSetRolledOut(d, nodes), waitMs, nodes)
        baselineRolloutMs = Date.now() - t0
      }
      await cluster.kubectl(['delete', ...baselineDs, '--wait=true'])
      // One pod asked for, not the list: at 5,000 nodes the whole list is tens of MiB a poll.
      await until(cluster, { raw: `/api/v1/namespaces/${INSTALLER_NAMESPACE}/pods?limit=1` }, l => l.items.length === 0, waitMs, nodes)
    }

    const mcUrl = await cluster.metacontrollerMetricsUrl()
    const mcRequests = async (): Promise<number> => counter(await scrape(mcUrl), 'rest_client_requests_total', {})
    log(`cluster ${nodes}: GTP5GModule apply → Installed`)
    const hookTotals = async (): Promise<{ syncs: number, nodeSyncs: number, syncMiB: number, nodeSyncMiB: number }> => {
      const text = await scrape(`${hooksUrl}/metrics`)
      return {
        syncs: counter(text, 'gtp5g_hook_requests_total', { hook: 'sync' }),
        nodeSyncs: counter(text, 'gtp5g_hook_requests_total', { hook: 'node-sync' }),
        syncMiB: counter(text, 'gtp5g_hook_request_bytes_total', { hook: 'sync' }) / 2 ** 20,
        nodeSyncMiB: counter(text, 'gtp5g_hook_request_bytes_total', { hook: 'node-sync' }) / 2 ** 20
      }
    }
    const minus = (a: Awaited<ReturnType<typeof hookTotals>>, b: Awaited<ReturnType<typeof hookTotals>>): Awaited<ReturnType<typeof hookTotals>> =>
      ({ syncs: a.syncs - b.syncs, nodeSyncs: a.nodeSyncs - b.nodeSyncs, syncMiB: a.syncMiB - b.syncMiB, nodeSyncMiB: a.nodeSyncMiB - b.nodeSyncMiB })
    let requests = await mcRequests()
    let totals = await hookTotals()
    t0 = Date.now()
    await cluster.kubectl(['apply', '-f', SAMPLE])
    await until(cluster, ['gtp5gmodule', 'sample'], m => m.status?.phase === 'Installed' && m.status.installed === nodes, waitMs, nodes)
    const operatorMs = Date.now() - t0
    // One scrape each ends the apply's counts and starts the rollout's.
    const requestsAfterApply = await mcRequests()
    const applyRps = (requestsAfterApply - requests) / (operatorMs / 1000)
    requests = requestsAfterApply
    const totalsAfterApply = await hookTotals()
    const applyCalls = minus(totalsAfterApply, totals)
    totals = totalsAfterApply

    log(`cluster ${nodes}: GTP5GModule ${FROM_VERSION} → ${TO_VERSION} (rollout)`)
    t0 = Date.now()
    await cluster.kubectl(['patch', 'gtp5gmodule', 'sample', '--type=merge', '-p', JSON.stringify({ spec: { version: TO_VERSION, maxUnavailable: ROLLOUT_MAX_UNAVAILABLE } })])
    await until(cluster, ['gtp5gmodule', 'sample'], m => moduleRolledOut(m, TO_VERSION, nodes), waitMs, nodes)
    const operatorRolloutMs = Date.now() - t0
    const metacontrollerApiRps = { apply: applyRps, rollout: (await mcRequests() - requests) / (operatorRolloutMs / 1000) }
    const phaseCalls = { apply: applyCalls, rollout: minus(await hookTotals(), totals) }

    // Converged: whatever the rollout set off (the node labels, a last status write) is left a few
    // seconds to finish, then every hook call and status write for a while is counted.
    log(`cluster ${nodes}: counting syncs once converged (${convergedSeconds} s)`)
    await sleep(5000)
    const resourceVersion = async (): Promise<string> => await cluster.kubectl(['get', 'gtp5gmodule', 'sample', '-o', 'jsonpath={.metadata.resourceVersion}'])
    const hooksBefore = await scrape(`${hooksUrl}/metrics`)
    const rvBefore = await resourceVersion()
    let statusWrites = 0
    let rv = rvBefore
    const windowEnd = Date.now() + convergedSeconds * 1000
    while (Date.now() < windowEnd) {
      await sleep(1000)
      const now = await resourceVersion()
      if (now !== rv) { statusWrites++; rv = now }
    }
    const hooksAfter = await scrape(`${hooksUrl}/metrics`)
    const calls = (hook: string): number => counter(hooksAfter, 'gtp5g_hook_requests_total', { hook }) - counter(hooksBefore, 'gtp5g_hook_requests_total', { hook })
    const converged = { seconds: convergedSeconds, syncs: calls('sync'), customizes: calls('customize'), nodeSyncs: calls('node-sync'), statusWrites }

    const mcMetrics = await scrape(mcUrl)
    const metacontrollerSync = latency(histogram(mcMetrics, MC_SYNC, MC_COMPOSITE))
    const hookSync = latency(histogram(hooksAfter, HOOK_DURATION, { hook: 'sync' }))

    const object = JSON.parse(await cluster.kubectl(['get', 'gtp5gmodule', 'sample', '-o', 'json'])) as { status?: unknown }
    const statusBytes = Buffer.byteLength(JSON.stringify(object.status ?? {}))
    const objectBytes = Buffer.byteLength(JSON.stringify(object))
    const kubectlGet = await cluster.kubectl(['get', 'gtp5gmodule'])
    const kubectlDescribe = await cluster.kubectl(['describe', 'gtp5gmodule', 'sample'])

    const rss = Object.fromEntries(COMPONENTS.map(name => [name, rssMiB(cluster.pidOf(name))])) as Record<ComponentName, number>
    const cpu = Object.fromEntries(COMPONENTS.map(name => [name, cpuSeconds(cluster.pidOf(name))])) as Record<ComponentName, number>
    return { nodes, upMs, nodesMs, baselineMs, operatorMs, baselineRolloutMs, operatorRolloutMs, converged, metacontrollerSync, hookSync, statusBytes, objectBytes, kubectlGet, kubectlDescribe, rssMiB: rss, cpuSeconds: cpu, metacontrollerApiRps, phaseCalls }
  } finally {
    await cluster.down({ purge: true })
  }
}
