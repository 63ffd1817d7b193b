// The benchmark report's logic, untimed: ratios against floors, targets met or missed, the
// markdown a reader sees, the plot specification, and the percentiles the load helper reports.
import t from 'tap'
import { quantile } from '../../bench/lib/load.js'
import { lineSpec } from '../../bench/lib/plot.js'
import { formatNumber, formatRatio, met, ratio, renderReport, renderTable, type Report, type Row } from '../../bench/lib/report.js'

t.test('ratio is value over floor, and n/a without a usable floor', async t => {
  t.equal(ratio(120, 100), 1.2)
  t.ok(Number.isNaN(ratio(1, 0)))
  t.ok(Number.isNaN(ratio(1, undefined)))
  t.ok(Number.isNaN(ratio(Number.NaN, 3)))
  t.ok(Number.isNaN(ratio(1, -2)))
})

t.test('targets, one row per situation', async t => {
  const floor = { name: 'f', value: 100 }
  const cases: Array<[string, Row, boolean | undefined]> = [
    ['no target', { figure: 'x', value: 500, unit: 'ms', floor }, undefined],
    ['ratio<= at the limit', { figure: 'x', value: 120, unit: 'ms', floor, target: { kind: 'ratio<=', limit: 1.2 } }, true],
    ['ratio<= above', { figure: 'x', value: 121, unit: 'ms', floor, target: { kind: 'ratio<=', limit: 1.2 } }, false],
    ['ratio>= at the limit', { figure: 'x', value: 80, unit: 'req/s', floor, target: { kind: 'ratio>=', limit: 0.8 } }, true],
    ['ratio>= below', { figure: 'x', value: 79, unit: 'req/s', floor, target: { kind: 'ratio>=', limit: 0.8 } }, false],
    ['ratio target without a floor cannot be met', { figure: 'x', value: 1, unit: 'ms', target: { kind: 'ratio<=', limit: 1.2 } }, false],
    ['value< is strict', { figure: 'x', value: 50, unit: 'ms', target: { kind: 'value<', limit: 50 } }, false],
    ['value< below', { figure: 'x', value: 49.9, unit: 'ms', target: { kind: 'value<', limit: 50 } }, true],
    ['value<= at the limit', { figure: 'x', value: 300, unit: 'MB', floor, target: { kind: 'value<=', limit: 300 } }, true],
    ['value<= NaN is missed', { figure: 'x', value: Number.NaN, unit: 'MB', target: { kind: 'value<=', limit: 300 } }, false]
  ]
  for (const [name, row, want] of cases) t.equal(met(row), want, name)
})

t.test('numbers keep three significant digits', async t => {
  t.equal(formatNumber(0.33549), '0.335')
  t.equal(formatNumber(1.234), '1.23')
  t.equal(formatNumber(25.77), '25.8')
  t.equal(formatNumber(1625.4), '1,625')
  t.equal(formatNumber(Number.NaN), 'n/a')
  t.equal(formatNumber(0), '0', 'a count of nothing')
})

t.test('a ratio that would round onto its limit shows a third decimal', async t => {
  t.equal(formatRatio(1.2004, { kind: 'ratio<=', limit: 1.2 }), '1.200×')
  t.equal(formatRatio(1.2, { kind: 'ratio<=', limit: 1.2 }), '1.20×')
  t.equal(formatRatio(1.234, { kind: 'ratio<=', limit: 1.2 }), '1.23×')
  t.equal(formatRatio(0.7996, { kind: 'ratio>=', limit: 0.8 }), '0.800×')
  t.equal(formatRatio(Number.NaN), '')
})

t.test('a table row shows the value, its floor, the ratio and the verdict', async t => {
  const table = renderTable([
    { figure: '/sync p99', nodes: 5000, value: 600, unit: 'ms', floor: { name: '(a) parse+stringify p99', value: 400 }, target: { kind: 'ratio<=', limit: 1.2 } },
    { figure: 'peak RSS', nodes: 5000, value: 250, unit: 'MB', target: { kind: 'value<=', limit: 300 } }
  ])
  const lines = table.split('\n')
  t.equal(lines.length, 4)
  t.equal(lines[2], '| /sync p99 | 5,000 | 600 ms | (a) parse+stringify p99 | 400 ms | 1.50× | ≤ 1.2× floor | **missed** |')
  t.equal(lines[3], '| peak RSS | 5,000 | 250 MB |  |  |  | ≤ 300 MB | met |')
})

t.test('the report states the machine, the command and every target', async t => {
  const report: Report = {
    command: 'npm run bench -- --quick',
    mode: 'quick',
    date: '2026-12-03',
    machine: { cpu: 'Some CPU', cores: 2, memoryBytes: 8 * 1024 ** 3, node: 'v20.20.2', os: 'Linux 6.1 x64', loadAverage: 1.5 },
    summary: ['Intro.'],
    sections: [{
      title: '1. Hook server',
      intro: ['How.'],
      rows: [{ figure: '/healthz p99', nodes: 5000, value: 12, unit: 'ms', floor: { name: 'idle', value: 2 }, target: { kind: 'value<', limit: 50 } }],
      plots: [{ file: 'benchmarks/hook-latency.svg', caption: 'Latency.' }],
      notes: ['Why.']
    }]
  }
  const md = renderReport(report)
  t.match(md, /`npm run bench -- --quick` \(quick mode\)/)
  t.match(md, /\| CPU \| Some CPU \|/)
  t.match(md, /\| RAM \| 8\.0 GiB \|/)
  t.match(md, /\| Node\.js \| v20\.20\.2 \|/)
  t.match(md, /\| 1\. Hook server \| \/healthz p99 \| 5,000 \| 12\.0 ms \| < 50 ms \| met \|/)
  t.match(md, /!\[Latency\.\]\(benchmarks\/hook-latency\.svg\)/)
  t.ok(md.endsWith('Why.\n'))
})

t.test('the latency plot drops points a log scale cannot show', async t => {
  const spec = lineSpec({ title: 't', yTitle: 'ms', log: true, points: [{ nodes: 10, series: 'a', stat: 'p50', value: 1 }, { nodes: 10, series: 'a', value: 0 }, { nodes: 10, series: 'b', value: Number.NaN }] }) as { data: { values: unknown[] }, encoding: { x: { scale: unknown } } }
  t.same(spec.data.values, [{ nodes: 10, series: 'a', stat: 'p50', value: 1 }])
  t.same(spec.encoding.x.scale, { type: 'log' })
})

t.test('quantile is nearest rank', async t => {
  const xs = Array.from({ length: 100 }, (_, i) => 100 - i)
  t.equal(quantile(xs, 0.5), 50)
  t.equal(quantile(xs, 0.99), 99)
  t.equal(quantile(xs, 1), 100)
  t.equal(quantile([7], 0.99), 7)
  t.ok(Number.isNaN(quantile([], 0.5)))
})
