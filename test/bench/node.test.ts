// Section 3's arithmetic, untimed: the guest's records read back, the median run, a run split
// into parts that add up to its time, the cold runs paired with the hand-run builds around them,
// the rows and their targets, and the plot specifications (log bars stand on a decade).
import t from 'tap'
import { coldComparison, fromRecords, median, medianRun, nodeSection, type NodeRun, runParts, type InstallerRun } from '../../bench/node.js'
import { barSpec, stackSpec } from '../../bench/lib/plot.js'
import { met, renderTable, type Row } from '../../bench/lib/report.js'
import { parseRecords } from '../support/vm.js'

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
  // By hand 60, 70, 50, 62 s around cold runs of 72, 66 and 61 s: paired 1.11×, 1.10×, 1.09×.
  raw: [{ ms: 60_000, make: 55_000 }, { ms: 70_000, make: 64_000 }, { ms: 50_000, make: 46_000 }, { ms: 62_000, make: 57_000 }],
  cold: [
    run(72_000, { phases: { build: 62_000 }, hostCache: 0, entry: 'plain' }),
    run(66_000, { phases: { build: 57_000 }, hostCache: 0, entry: 'plain' }),
    run(61_000, { phases: { first: 2000, lock: 200, download: 190, extract: 600, build: 55_000, 'cache-lookup': 100, 'cache-store': 200, load: 100, 'load-dependency': 150, verify: 20 }, hostCache: 0, entry: 'plain' })
  ],
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

t.test('the guest\'s records: hand-run builds and cold runs in boot order, a failed build no floor, the last cold run\'s snapshot', async t => {
  const phases = 'first=2100 kernel=3 inspect=9 lock=150 cache-lookup=40 headers=30 download=190 extract=610 build=50050 cache-store=260 load-dependency=140 load=90 verify=25 startup=900 bootstrap=300 done=54400'
  const records = parseRecords([
    '@@GTP5G boot kernel=6.12.117+deb12-amd64 cpus=2 variants=tree=/opt/x/gtp5g-installer cold=3',
    '@@GTP5G step=raw-warmup ms=80000 extract=500 make=79000 load=500 exit=0 version=0.0.1',
    '@@GTP5G step=raw-1 ms=47380 extract=400 make=46500 load=480 exit=0 version=0.0.1',
    `@@GTP5G step=cold-1 ms=54500 probe=file version=0.0.1 entry=plain hostcache=0 ${phases}`,
    '@@GTP5G step=snapshot-1 waited=5900 build=5770 bytes=5767168 blobs=1',
    '@@GTP5G step=raw-2 ms=39080 extract=400 make=38200 load=480 exit=0 version=0.0.1',
    '@@GTP5G step=cold-2 ms=-1 probe=file version=none entry=plain hostcache=0 first=2000 build=- done=0',
    '@@GTP5G step=snapshot-2 waited=0 build= bytes= blobs=0',
    '@@GTP5G step=raw-3 ms=9000 extract=400 make=8100 load=500 exit=2 version=none',
    `@@GTP5G step=cold-3 ms=50000 probe=file version=0.0.1 entry=plain hostcache=0 ${phases}`,
    '@@GTP5G step=snapshot-3 waited=6100 build=6000 bytes=5767168 blobs=1',
    '@@GTP5G step=raw-4 ms=44000 extract=400 make=43100 load=500 exit=0 version=0.0.1',
    '@@GTP5G step=end'
  ].join('\n'))
  const r = fromRecords(records, { rounds: 3, coldRuns: 3, variants: ['tree'], kernel: 'k', guestMs: 1, console: '' })
  t.equal(r.cpus, 2)
  t.same(r.raw.slice(0, 2), [{ ms: 47_380, make: 46_500 }, { ms: 39_080, make: 38_200 }])
  t.ok(Number.isNaN(r.raw[2]?.ms) && Number.isNaN(r.raw[2]?.make), 'a build that failed is no floor')
  t.equal(r.raw.length, 4, 'the warm-up left out')
  t.same(r.cold.map(c => c.ms), [54_500, Number.NaN, 50_000])
  t.match(r.cold[0], { probe: 'file', entry: 'plain', hostCache: 0, phases: { build: 50_050, first: 2100 } })
  t.equal(r.cold[1]?.phases.build, undefined)
  t.same(r.snapshot, { buildMs: 6000, bytes: 5_767_168 }, 'the last cold run\'s: the one warm and restart start from')
  t.equal(r.failure, undefined)
  const c = coldComparison(r)
  t.equal(c.pairs[0], 54_500 / ((47_380 + 39_080) / 2))
  t.ok(Number.isNaN(c.pairs[1]) && Number.isNaN(c.pairs[2]), 'no pair for a failed cold run, nor beside a failed build')
  t.equal(c.paired, c.pairs[0], 'the median of the pairs there are')
})

t.test('cold runs paired with the hand-run builds around them', async t => {
  const c = coldComparison(node)
  t.same(c.pairs.map(r => Number(r.toFixed(4))), [1.1077, 1.1, 1.0893])
  t.equal(c.paired, 66_000 / 60_000)
  t.equal(c.cold, 66_000)
  t.equal(c.raw, 61_000, 'the median of four: the two middle ones\' mean')
  t.equal(c.build, 57_000)
  t.equal(c.rawMake, 56_000)
  t.same(c.makePairs.map(r => Number(r.toFixed(4))), [1.042, 1.0364, 1.068])
  // A drift the medians pool but the pairs cancel: by hand 40, 50, 60, 70 s, each cold run 10 % over its neighbours.
  const drift = coldComparison({ ...node, raw: [40, 50, 60, 70].map(ms => ({ ms: ms * 1000, make: ms * 1000 })), cold: [49_500, 60_500, 71_500].map(ms => run(ms)) })
  t.equal(Number(drift.paired.toFixed(6)), 1.1)
})

t.test('rows: the paired cold ratio against its target, the medians and the make step beside their floors, warm and restart against absolute targets, unloads counted', async t => {
  const { section, bars, parts } = nodeSection(node, 'img')
  const row = (prefix: string) => section.rows.find(r => r.figure.startsWith(prefix))
  t.match(row('cold install → ready (download'), { value: 66_000 / 60_000, unit: '×', target: { kind: 'value<=', limit: 1.15 } })
  t.equal(met(row('cold install → ready (download') as Row), true, 'a median of 1.10×, within 1.15×')
  t.match(row('cold install → ready, median of 3'), { value: 66, floor: { value: 61 } })
  t.equal(row('cold install → ready, median of 3')?.target, undefined, 'shown, not judged')
  t.match(row('the installer\'s `make` step'), { value: 57, floor: { value: 56 } })
  t.match(renderTable(section.rows), /\| 1\.10 × \|.*\| ≤ 1\.15 × \| met \|/)
  const cold = section.notes.find(n => n.startsWith('**Cold**')) ?? ''
  t.match(cold, /by hand 60\.00 s .*\*\*cold 72\.00 s\*\* .*1\.11×.*by hand 62\.00 s/, 'the runs in boot order, with their pairs')
  t.match(cold, /an empty host cache, nothing loaded \(3 from main\.mjs\)/)
  t.match(section.notes.find(n => n.startsWith('**The rest of the cold run**')), /median run \(66\.00 s\)/)
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
