// Section 2 of the report from the cluster runs (bench/clustersuite.ts): its table, the points of
// its plots, and the notes that say what a reader sees with kubectl. Pure: no clock, no I/O.
import { COMPONENTS } from '../e2e/cluster/components.js'
import { MAX_INSTALLED_NODES, MAX_LISTED_NODES } from '../hooks/core/api.js'
import { type ClusterRun, ETCD_MAX_REQUEST_BYTES, FROM_VERSION, ROLLOUT_MAX_UNAVAILABLE, TO_VERSION } from './clustersuite.js'
import type { Point } from './lib/plot.js'
import { met, type Row, type Section } from './lib/report.js'
import type { RunSource } from './lib/savedrun.js'

const perMinute = (n: number, seconds: number): number => seconds > 0 ? n * 60 / seconds : Number.NaN

export function clusterRows (r: ClusterRun): Row[] {
  const window = r.converged.seconds
  return [
    { figure: 'GTP5GModule apply → Installed on every node', nodes: r.nodes, value: r.operatorMs / 1000, unit: 's', floor: { name: 'same DaemonSet by hand → all pods Ready', value: r.baselineMs / 1000 }, target: { kind: 'ratio<=', limit: 1.1 } },
    { figure: `spec.version ${FROM_VERSION} → ${TO_VERSION}: Installed at it on every node`, nodes: r.nodes, value: r.operatorRolloutMs / 1000, unit: 's', floor: { name: 'same DaemonSet by hand, version changed → rollout complete', value: r.baselineRolloutMs / 1000 }, target: { kind: 'ratio<=', limit: 1.1 } },
    { figure: '/sync calls per minute once converged', nodes: r.nodes, value: perMinute(r.converged.syncs, window), unit: '/min' },
    { figure: '/customize calls per minute once converged', nodes: r.nodes, value: perMinute(r.converged.customizes, window), unit: '/min' },
    { figure: '/node-sync calls per minute once converged (node labels)', nodes: r.nodes, value: perMinute(r.converged.nodeSyncs, window), unit: '/min' },
    { figure: 'status writes per minute once converged', nodes: r.nodes, value: perMinute(r.converged.statusWrites, window), unit: '/min' },
    { figure: '/sync mean as Metacontroller times it (its /metrics)', nodes: r.nodes, value: r.metacontrollerSync.meanMs, unit: 'ms', floor: { name: 'the hook server\'s own /sync mean', value: r.hookSync.meanMs } },
    { figure: '/sync p99 as Metacontroller times it (from its buckets)', nodes: r.nodes, value: r.metacontrollerSync.p99Ms, unit: 'ms', floor: { name: 'the hook server\'s own /sync p99 (buckets)', value: r.hookSync.p99Ms } },
    { figure: '/sync calls in the whole run (Metacontroller)', nodes: r.nodes, value: r.metacontrollerSync.count, unit: 'calls' },
    { figure: 'the module\'s .status (compact JSON)', nodes: r.nodes, value: r.statusBytes / 1024, unit: 'KiB', target: { kind: 'value<', limit: ETCD_MAX_REQUEST_BYTES / 1024 } },
    { figure: 'the whole module object (compact JSON, managedFields included)', nodes: r.nodes, value: r.objectBytes / 1024, unit: 'KiB', target: { kind: 'value<', limit: ETCD_MAX_REQUEST_BYTES / 1024 } },
    { figure: 'Metacontroller API requests/s during apply → Installed (its --client-go-qps is 50 here)', nodes: r.nodes, value: r.metacontrollerApiRps.apply, unit: '/s' },
    { figure: 'Metacontroller API requests/s during the version rollout', nodes: r.nodes, value: r.metacontrollerApiRps.rollout, unit: '/s' },
    ...(['apply', 'rollout'] as const).flatMap(phase => {
      const c = r.phaseCalls[phase]
      const during = phase === 'apply' ? 'during apply → Installed' : 'during the version rollout'
      return [
        { figure: `/sync calls ${during}`, nodes: r.nodes, value: c.syncs, unit: 'calls' },
        { figure: `/node-sync calls ${during} (node labels)`, nodes: r.nodes, value: c.nodeSyncs, unit: 'calls' },
        { figure: `bytes Metacontroller sent to /sync ${during}`, nodes: r.nodes, value: c.syncMiB, unit: 'MiB' },
        { figure: `bytes Metacontroller sent to /node-sync ${during}`, nodes: r.nodes, value: c.nodeSyncMiB, unit: 'MiB' }
      ]
    }),
    ...COMPONENTS.map(name => ({ figure: `RSS ${name}`, nodes: r.nodes, value: r.rssMiB[name], unit: 'MiB' })),
    ...COMPONENTS.map(name => ({ figure: `CPU time ${name}, whole run`, nodes: r.nodes, value: r.cpuSeconds[name], unit: 's' }))
  ]
}

export function clusterPoints (runs: readonly ClusterRun[]): { ready: Point[], rollout: Point[] } {
  return {
    ready: runs.flatMap(r => [
      { nodes: r.nodes, series: 'operator: GTP5GModule apply → Installed', value: r.operatorMs / 1000 },
      { nodes: r.nodes, series: 'floor: the DaemonSet applied by hand → all pods Ready', value: r.baselineMs / 1000 }
    ]),
    rollout: runs.flatMap(r => [
      { nodes: r.nodes, series: 'operator: spec.version changed → Installed at it', value: r.operatorRolloutMs / 1000 },
      { nodes: r.nodes, series: 'floor: the DaemonSet\'s version changed by hand → rollout complete', value: r.baselineRolloutMs / 1000 }
    ])
  }
}

/** The first `lines` lines of a command's output, and how many it printed in all, as a markdown code block. */
export function excerpt (command: string, output: string, lines: number): string {
  const all = output.trimEnd().split('\n')
  const shown = all.slice(0, lines)
  const more = all.length > lines ? [`… (${all.length} lines in all)`] : []
  return ['```console', `$ ${command}`, ...shown, ...more, '```'].join('\n')
}

/**
 * Section 2 of the report. `saved` names the runs measured on their own and taken in from a file
 * (lib/savedrun.ts): the report says where each came from.
 */
export function clusterSection (runs: readonly ClusterRun[], context: { cores: number, loadAverage: number }, plots: Section['plots'], saved: ReadonlyArray<{ nodes: number, source: RunSource }> = []): Section {
  const rows = runs.flatMap(clusterRows)
  const largest = runs.reduce<ClusterRun | undefined>((a, r) => a === undefined || r.nodes > a.nodes ? r : a, undefined)
  const notes: string[] = saved.map(({ nodes, source }) =>
    `**${nodes.toLocaleString('en-US')} nodes were measured in a run of their own**, not in this report's run (one size of that many nodes takes up to an hour here): \`${source.command}\` on ${source.date}, at commit ${source.commit}, on ${source.cores} cores with a 1-minute load average of ${source.loadAverage.toFixed(1)} at its start. Its floor (the DaemonSet by hand) was measured in that same run, on the same cluster, as for every size.`)
  if (rows.some(r => met(r) === false)) {
    notes.push(`**Target missed in this run.** The control plane, Metacontroller and the hook server share ${context.cores} cores with whatever else runs on the machine (1-minute load average ${context.loadAverage.toFixed(1)} at the start): the operator path has more processes taking turns on them than the DaemonSet alone (Metacontroller's watch and its client's rate limits, /customize and /sync, its apply, the status write, and the node-label decorator, which re-syncs the nodes of each shard whose node list changed), so a loaded machine stretches it more. Compare runs on a quiet machine before reading much into a ratio.`)
  }
  if (largest !== undefined) {
    const describeLines = largest.kubectlDescribe.trimEnd().split('\n').length
    notes.push(
      `What a user sees at ${largest.nodes.toLocaleString('en-US')} nodes: the module's status is ${(largest.statusBytes / 1024).toFixed(1)} KiB and the whole object ${(largest.objectBytes / 1024).toFixed(1)} KiB, against etcd's request limit of ${(ETCD_MAX_REQUEST_BYTES / 1024 / 1024).toFixed(1)} MiB (\`--max-request-bytes\`, its default, which the local cluster keeps): \`installedNodes\` names every installed node (up to ${MAX_INSTALLED_NODES.toLocaleString('en-US')}, so the Node decorator can label each one) and \`failedNodes\` at most ${MAX_LISTED_NODES}, so the status grows by one name per node. \`kubectl get\` prints the CRD's printer columns; \`kubectl describe\` prints ${describeLines} lines, most of them that list.`,
      excerpt('kubectl get gtp5gmodule', largest.kubectlGet, 4),
      excerpt('kubectl describe gtp5gmodule sample', largest.kubectlDescribe, 16)
    )
  }
  if (!runs.some(r => r.nodes >= 5000)) notes.push('Not in this run: 5,000 nodes. Measure them on their own with `npm run bench:cluster -- 5000 --save=FILE` and add them with `--cluster-runs=FILE`: on two shared cores the first pass of the hand-applied DaemonSet alone had 4,951 of its 5,000 pods created and 3,684 Ready after 25 minutes (the kube-controller-manager\'s and kwok\'s client rate limits, beside kwok renewing 5,000 node leases), and a run makes six such passes (the DaemonSet\'s warm-up, its apply and rollout, then the operator\'s).')
  return {
    title: '2. Cluster',
    intro: [
      'The local cluster of `npm run cluster` (real etcd, kube-apiserver, controller-manager, scheduler and Metacontroller v4.17.2, the hook server, kwok for the nodes), one fresh cluster per size with the chart installed. **Floor:** the very DaemonSet the hooks build, applied by hand under another name until every pod is Ready, on the same cluster in the same run, after one warm-up pass that is not counted; then its version changed by hand (the DaemonSet the hooks build for the new version) until the rollout is complete (`updatedNumberScheduled` = `numberReady` = the node count, `observedGeneration` current). **Operator:** `kubectl apply` of the README\'s sample GTP5GModule until its status is Installed on every node (Metacontroller\'s watch, /customize and /sync, its apply of the DaemonSet, the DaemonSet controller and kwok, then the status written back); then `spec.version` patched until the status, computed from that generation, says Installed on every node (the hooks count only ready pods of the current template). kwok marks pods Ready at once, so both measure the control plane, not an installer.',
      `Both rollouts change \`maxUnavailable\` to ${ROLLOUT_MAX_UNAVAILABLE} with the version: the sample's default of 1 replaces one node at a time. **Once converged** counts the hook calls and status writes for ${runs[0]?.converged.seconds ?? 60} s after the rollout (the CompositeController resyncs every 60 s). Metacontroller's /sync latency is its own histogram (\`metacontroller_sync_request_duration_histogram_seconds\`, the composite controller's calls over the whole run) beside the hook server's (\`gtp5g_hook_duration_seconds\`); p99 is estimated from the buckets. RSS is each process at the end, CPU time each process's user + system time over the whole run (on a machine of few cores, where the time goes).`
    ],
    rows,
    plots,
    notes
  }
}
