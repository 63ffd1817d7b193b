// The cluster benchmark's logic, untimed: reading Metacontroller's and the hook server's
// Prometheus text, when a rollout is over, and the report rows and notes of section 2.
import path from 'node:path'
import t from 'tap'
import { clusterPoints, clusterRows, clusterSection, excerpt } from '../../bench/clustersection.js'
import type { ClusterRun } from '../../bench/clustersuite.js'
import { counter, histogram, histogramDelta, histogramMean, histogramQuantile } from '../../bench/lib/prom.js'
import { daemonSetRolledOut, moduleRolledOut } from '../../bench/lib/rollout.js'
import { met } from '../../bench/lib/report.js'
import { loadRun, runSource, saveRun } from '../../bench/lib/savedrun.js'

// Shaped like Metacontroller v4.17.2's hook client metrics (pkg/metrics/http.go: const labels
// url, controller_name, controller_type; DefBuckets), two controllers side by side.
const mc = (n: number, sum: number): string => `# HELP metacontroller_sync_request_duration_histogram_seconds A histogram of outgoing request latencies.
# TYPE metacontroller_sync_request_duration_histogram_seconds histogram
metacontroller_sync_request_duration_histogram_seconds_bucket{controller_name="gtp5g-operator",controller_type="CompositeController",method="post",url="http://127.0.0.1:1/sync",le="0.005"} 0
metacontroller_sync_request_duration_histogram_seconds_bucket{controller_name="gtp5g-operator",controller_type="CompositeController",method="post",url="http://127.0.0.1:1/sync",le="0.01"} ${n / 2}
metacontroller_sync_request_duration_histogram_seconds_bucket{controller_name="gtp5g-operator",controller_type="CompositeController",method="post",url="http://127.0.0.1:1/sync",le="0.025"} ${n * 0.9}
metacontroller_sync_request_duration_histogram_seconds_bucket{controller_name="gtp5g-operator",controller_type="CompositeController",method="post",url="http://127.0.0.1:1/sync",le="0.1"} ${n}
metacontroller_sync_request_duration_histogram_seconds_bucket{controller_name="gtp5g-operator",controller_type="CompositeController",method="post",url="http://127.0.0.1:1/sync",le="+Inf"} ${n}
metacontroller_sync_request_duration_histogram_seconds_sum{controller_name="gtp5g-operator",controller_type="CompositeController",method="post",url="http://127.0.0.1:1/sync"} ${sum}
metacontroller_sync_request_duration_histogram_seconds_count{controller_name="gtp5g-operator",controller_type="CompositeController",method="post",url="http://127.0.0.1:1/sync"} ${n}
metacontroller_sync_request_duration_histogram_seconds_bucket{controller_name="gtp5g-operator-nodes",controller_type="DecoratorController",method="post",url="http://127.0.0.1:1/node-sync",le="0.005"} 1000
metacontroller_sync_request_duration_histogram_seconds_bucket{controller_name="gtp5g-operator-nodes",controller_type="DecoratorController",method="post",url="http://127.0.0.1:1/node-sync",le="+Inf"} 1000
metacontroller_sync_request_duration_histogram_seconds_sum{controller_name="gtp5g-operator-nodes",controller_type="DecoratorController",method="post",url="http://127.0.0.1:1/node-sync"} 1
metacontroller_sync_request_duration_histogram_seconds_count{controller_name="gtp5g-operator-nodes",controller_type="DecoratorController",method="post",url="http://127.0.0.1:1/node-sync"} 1000
metacontroller_sync_requests_total{code="200",controller_name="gtp5g-operator",controller_type="CompositeController",method="post",url="http://127.0.0.1:1/sync"} ${n}
`

t.test('a histogram is read for one controller type only, and its quantiles interpolate within buckets', async t => {
  const h = histogram(mc(100, 1.5), 'metacontroller_sync_request_duration_histogram_seconds', { controller_type: 'CompositeController' })
  t.equal(h.count, 100)
  t.equal(h.sum, 1.5)
  t.same(h.buckets.map(b => b.le), [0.005, 0.01, 0.025, 0.1, Number.POSITIVE_INFINITY])
  t.equal(histogramMean(h), 0.015)
  // Rank 50 is the top of the 0.005–0.01 bucket; rank 99 is 9/10 of the way through 0.025–0.1.
  t.equal(histogramQuantile(h, 0.5), 0.01)
  t.ok(Math.abs(histogramQuantile(h, 0.99) - (0.025 + 0.075 * 0.9)) < 1e-12)
  const all = histogram(mc(100, 1.5), 'metacontroller_sync_request_duration_histogram_seconds')
  t.equal(all.count, 1100, 'without a label filter, both controllers are summed')
  t.equal(counter(mc(100, 1.5), 'metacontroller_sync_requests_total', { controller_type: 'CompositeController' }), 100)
})

t.test('the difference of two scrapes, and the edge cases of a quantile', async t => {
  const name = 'metacontroller_sync_request_duration_histogram_seconds'
  const d = histogramDelta(histogram(mc(100, 1.5), name, { controller_type: 'CompositeController' }), histogram(mc(300, 4.5), name, { controller_type: 'CompositeController' }))
  t.equal(d.count, 200)
  t.equal(d.sum, 3)
  t.equal(d.buckets[1]?.count, 100)
  t.ok(Number.isNaN(histogramQuantile({ buckets: [], sum: 0, count: 0 }, 0.5)))
  t.ok(Number.isNaN(histogramMean({ buckets: [], sum: 0, count: 0 })))
  // Everything above the highest finite bound: the bound is the best estimate, as in PromQL.
  t.equal(histogramQuantile({ buckets: [{ le: 1, count: 0 }, { le: Number.POSITIVE_INFINITY, count: 5 }], sum: 50, count: 5 }, 0.5), 1)
  // The hook server's own text (prom-client: label order and a le of "+Inf" after others).
  const hook = 'gtp5g_hook_duration_seconds_bucket{le="0.01",hook="sync"} 3\ngtp5g_hook_duration_seconds_bucket{le="+Inf",hook="sync"} 4\ngtp5g_hook_duration_seconds_sum{hook="sync"} 0.04\ngtp5g_hook_duration_seconds_count{hook="sync"} 4\ngtp5g_hook_duration_seconds_count{hook="node-sync"} 9\n'
  t.equal(histogram(hook, 'gtp5g_hook_duration_seconds', { hook: 'sync' }).count, 4)
})

t.test('a DaemonSet rollout is complete only with its newest generation observed and every pod updated and Ready', async t => {
  const ds = (generation: number, status: Record<string, number>): any => ({ metadata: { generation }, status })
  const done = { observedGeneration: 2, desiredNumberScheduled: 10, updatedNumberScheduled: 10, numberReady: 10 }
  t.ok(daemonSetRolledOut(ds(2, done), 10))
  t.notOk(daemonSetRolledOut(ds(3, done), 10), 'the controller has not seen the change yet: the old counts say nothing')
  t.notOk(daemonSetRolledOut(ds(2, { ...done, updatedNumberScheduled: 9 }), 10), 'one node still runs the old template')
  t.notOk(daemonSetRolledOut(ds(2, { ...done, numberReady: 9 }), 10), 'one new pod is not Ready yet')
  t.notOk(daemonSetRolledOut(ds(2, done), 11), 'fewer nodes than the cluster has')
  t.notOk(daemonSetRolledOut({ metadata: { generation: 1 } }, 10), 'no status yet')
})

t.test('a module rollout is complete only with a status of its newest generation at the new version', async t => {
  const m = (version: string, generation: number, status: Record<string, unknown>): any => ({ metadata: { generation }, spec: { version }, status })
  const done = { observedGeneration: 2, phase: 'Installed', installed: 10, desired: 10 }
  t.ok(moduleRolledOut(m('v0.9.13', 2, done), 'v0.9.13', 10))
  t.notOk(moduleRolledOut(m('v0.9.13', 2, { ...done, observedGeneration: 1 }), 'v0.9.13', 10), 'the status still speaks of the old version (Installed at once after the patch)')
  t.notOk(moduleRolledOut(m('v0.9.13', 2, { ...done, phase: 'Installing', installed: 7 }), 'v0.9.13', 10))
  t.notOk(moduleRolledOut(m('v0.9.14', 2, done), 'v0.9.13', 10), 'another version')
  t.notOk(moduleRolledOut(m('v0.9.13', 2, { ...done, desired: 9, installed: 9 }), 'v0.9.13', 10))
})

const run = (nodes: number, over: Partial<ClusterRun> = {}): ClusterRun => ({
  nodes,
  upMs: 1,
  nodesMs: 1,
  baselineMs: 10_000,
  operatorMs: 10_500,
  baselineRolloutMs: 20_000,
  operatorRolloutMs: 30_000,
  converged: { seconds: 30, syncs: 1, customizes: 1, nodeSyncs: nodes / 2, statusWrites: 0 },
  metacontrollerSync: { count: 40, meanMs: 12, p50Ms: 8, p99Ms: 90 },
  hookSync: { count: 42, meanMs: 10, p50Ms: 7, p99Ms: 80 },
  statusBytes: 2048,
  objectBytes: 4096,
  kubectlGet: 'NAME     VERSION   READY   INSTALLED   DESIRED   PHASE       AGE\nsample   v0.9.13   True    100         100         Installed   2m\n',
  kubectlDescribe: Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n') + '\n',
  rssMiB: { etcd: 1, 'kube-apiserver': 2, 'kube-controller-manager': 3, 'kube-scheduler': 4, kwok: 5, metacontroller: 6, hooks: 7 },
  cpuSeconds: { etcd: 1, 'kube-apiserver': 2, 'kube-controller-manager': 3, 'kube-scheduler': 4, kwok: 5, metacontroller: 6, hooks: 7 },
  metacontrollerApiRps: { apply: 12, rollout: 30 },
  phaseCalls: { apply: { syncs: 9, nodeSyncs: 900, syncMiB: 1, nodeSyncMiB: 20 }, rollout: { syncs: 19, nodeSyncs: 1900, syncMiB: 2, nodeSyncMiB: 40 } },
  ...over
})

t.test('section 2: both ratios judged, calls per minute, the size against etcd\'s limit', async t => {
  const rows = clusterRows(run(100))
  const by = (prefix: string): any => rows.find(r => r.figure.startsWith(prefix))
  t.equal(met(by('GTP5GModule apply')), true, '1.05× meets ≤ 1.1×')
  t.equal(met(by('spec.version')), false, '1.5× misses ≤ 1.1×')
  t.equal(by('/sync calls per minute').value, 2, 'one call in 30 s is two a minute')
  t.equal(by('/node-sync').value, 100)
  t.equal(by('the module\'s .status').value, 2)
  t.equal(met(by('the whole module object')), true)
  t.equal(met({ ...by('the whole module object'), value: 1536 }), false, 'etcd refuses a request of 1.5 MiB and more')
  t.equal(rows.filter(r => r.figure.startsWith('RSS')).length, 7)
  t.equal(rows.filter(r => r.figure.startsWith('CPU time')).length, 7)
  t.equal(by('/node-sync calls during the version rollout').value, 1900)
  const points = clusterPoints([run(100), run(1000)])
  t.equal(points.rollout.length, 4)
  t.equal(points.ready[0]?.value, 10.5)
})

t.test('section 2 notes: kubectl excerpts from the largest size, a missed target said, 5,000 nodes named when absent', async t => {
  const section = clusterSection([run(1000, { kubectlGet: 'NAME ... 1000\n' }), run(100)], { cores: 2, loadAverage: 3.5 }, [])
  const notes = section.notes.join('\n\n')
  t.match(notes, /Target missed in this run/)
  t.match(notes, /at 1,000 nodes/)
  t.match(notes, /\$ kubectl get gtp5gmodule\nNAME \.\.\. 1000\n```/)
  t.match(notes, /line 15\n… \(40 lines in all\)\n```/)
  t.notMatch(notes, /line 16/)
  t.match(notes, /Not in this run: 5,000 nodes/)
  const big = clusterSection([run(5000, { operatorRolloutMs: 20_000 })], { cores: 2, loadAverage: 0 }, [])
  t.notMatch(big.notes.join('\n'), /Target missed|Not in this run/)
  t.equal(excerpt('x', 'a\nb\n', 5), '```console\n$ x\na\nb\n```')
})

t.test('a run saved by bench:cluster --save is read back whole, and the report says where it came from', async t => {
  const dir = t.testdir()
  const file = path.join(dir, 'cluster-5000.json')
  const source = runSource('npm run bench:cluster -- 5000', true)
  t.match(source.date, /^\d{4}-\d{2}-\d{2}$/)
  t.match(source.commit, /^([0-9a-f]{12}(\+dirty)?|unknown)$/)
  saveRun(file, source, run(5000))
  const saved = loadRun(file)
  t.same(saved.run, run(5000), 'every figure survives the file')
  t.same(saved.source, source)
  const section = clusterSection([run(100), saved.run], { cores: 2, loadAverage: 0 }, [], [{ nodes: 5000, source: { ...source, date: '2026-12-03', commit: 'abc123def456', loadAverage: 1.25 } }])
  const notes = section.notes.join('\n\n')
  t.match(notes, /\*\*5,000 nodes were measured in a run of their own\*\*/)
  t.match(notes, /`npm run bench:cluster -- 5000` on 2026-12-03, at commit abc123def456, on 2 cores with a 1-minute load average of 1\.3/)
  t.notMatch(notes, /Not in this run: 5,000 nodes/)
  t.equal(section.rows.filter(r => r.nodes === 5000).length, clusterRows(run(5000)).length, 'its rows are in the table like any size')
})

t.test('a file that is not a saved run, or one without the Node decorator, is refused with the reason', async t => {
  const dir = t.testdir({
    'other.json': JSON.stringify({ kind: 'something-else', version: 1 }),
    'broken.json': '{"kind":',
    'half.json': JSON.stringify({ kind: 'gtp5g-operator/bench-cluster-run', version: 1, source: runSource('x', true), run: { nodes: 5000 } })
  })
  t.throws(() => loadRun(path.join(dir, 'other.json')), /is not a run saved by `npm run bench:cluster/)
  t.throws(() => loadRun(path.join(dir, 'broken.json')), /cannot read .*broken\.json/)
  t.throws(() => loadRun(path.join(dir, 'missing.json')), /cannot read .*missing\.json/)
  t.throws(() => loadRun(path.join(dir, 'half.json')), /holds no complete run/)
  const noLabels = path.join(dir, 'no-labels.json')
  saveRun(noLabels, runSource('npm run bench:cluster -- 5000 --no-node-labels', false), run(5000))
  t.throws(() => loadRun(noLabels), /without the Node decorator/)
})
