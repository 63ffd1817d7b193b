// Section 3's arithmetic, untimed: the median run, a run split into parts that add up to its
// time, the rows and their targets, and the plot specifications (log bars stand on a decade).
import t from 'tap'
import { median, medianRun, nodeSection, type NodeRun, runParts, type InstallerRun } from '../../bench/node.js'
import { barSpec, stackSpec } from '../../bench/lib/plot.js'
import { met, type Row } from '../../bench/lib/report.js'

const run = (ms: number, extra: Partial<InstallerRun> = {}): InstallerRun => ({
  ms,
  probe: 'file',
  phases: { first: 1000, startup: 900, bootstrap: 300, kernel: 5, inspect: 10, lock: 100, 'cache-lookup': 50, 'load-dependency': 200, load: 150, verify: 5, done: ms - 40 },
  outcome: 'loaded-from-cache',
  ...extra
})

const node: NodeRun = {
  kernel: '6.12.117+deb12-amd64',
  cpus: 2,
  rawBefore: 60_000,
  rawAfter: 70_000,
  cold: run(72_000),
  floorWarm: [400, 300, 500],
  floorRestart: [150, 160, 170],
  warm: { tree: [run(2500), run(1900), run(3000)] },
  restart: { tree: [run(900, { uevents: 0, unloads: 0 }), run(800, { uevents: 0, unloads: 0 }), run(1200, { uevents: 2, unloads: 1 })] },
  guestMs: 1
}

t.test('median and the median run', async t => {
  t.equal(median([3, 1, 2]), 2)
  t.equal(median([4, 1, 3, 2]), 2.5)
  t.ok(Number.isNaN(median([Number.NaN])))
  t.equal(medianRun([run(3), run(1), run(2), run(Number.NaN)])?.ms, 2)
})

t.test('a run\'s parts add up to its time to ready', async t => {
  const r = run(2000)
  const parts = runParts(r)
  t.equal(parts.reduce((a, p) => a + p.value, 0), 2000)
  t.same(parts.slice(0, 2), [{ part: 'process and Node.js start-up', value: 400 }, { part: 'loading the installer\'s modules', value: 600 }], 'start-up split where the log says')
  t.match(parts.at(-1), { part: 'readiness file written and seen', value: 40 })
  const old = runParts(run(2000, { probe: 'check', phases: { first: 1000, done: 1500 } }))
  t.match(old[0], { part: 'Node.js start-up and module loading', value: 1000 }, 'an installer without the split')
  t.match(old.at(-1), { part: 'one `check` (a Node.js start)', value: 500 })
})

t.test('rows: cold against the mean of both hand-run builds, warm and restart against absolute targets, unloads counted', async t => {
  const { section, bars, parts } = nodeSection(node, 'img')
  const row = (prefix: string) => section.rows.find(r => r.figure.startsWith(prefix))
  t.match(row('cold'), { value: 72, floor: { value: 65 }, target: { kind: 'ratio<=', limit: 1.15 } })
  t.equal(met(row('cold') as Row), true, '72 s against 65 s: 1.11×, within 1.15×')
  t.match(row('warm'), { value: 2.5, floor: { value: 0.4 }, target: { kind: 'value<=', limit: 2 } })
  t.match(row('restart'), { value: 0.9, target: { kind: 'value<=', limit: 1 } })
  t.match(row('gtp5g unloads'), { value: 1, target: { kind: 'value<=', limit: 0 } })
  t.equal(met(row('gtp5g unloads') as Row), false, 'one unload misses the target')
  t.match(row('kernel uevents'), { value: 2 })
  t.same(new Set(bars.map(b => b.group)), new Set(['cold install', 'warm install', 'restart']))
  t.ok(parts.some(p => p.run === 'warm install, installer') && parts.some(p => p.run === 'restart, installer'))
})

t.test('plots: log bars stand on whole decades; stacked parts keep their order', async t => {
  const bars = barSpec({ title: 't', yTitle: 's', log: true, bars: [{ group: 'a', series: 'x', value: 0.15 }, { group: 'a', series: 'y', value: 72 }, { group: 'b', series: 'x', value: Number.NaN }] }) as unknown as { data: { values: unknown[] }, encoding: { y: { scale: { type: string, domain: number[] } } } }
  t.same(bars.encoding.y.scale, { type: 'log', domain: [0.1, 100] })
  t.equal(bars.data.values.length, 2, 'no bar for a missing figure')
  const stack = stackSpec({ title: 't', xTitle: 's', parts: [{ run: 'r', part: 'a', order: 0, value: 1 }, { run: 'r', part: 'b', order: 1, value: 0 }] }) as unknown as { data: { values: unknown[] }, encoding: { order: { field: string } } }
  t.equal(stack.data.values.length, 1, 'empty parts left out')
  t.equal(stack.encoding.order.field, 'order')
})
