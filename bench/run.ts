// `npm run bench -- --quick | --full`: runs the benchmark suites and writes docs/benchmarks.md
// with its plots (docs/benchmarks/*.svg). Every figure stands beside a floor measured in the
// same run, on the same machine, at the same size: on a shared or noisy machine an absolute time
// means little, a ratio means a lot. Not a test: nothing here fails on a slow machine.
//   --quick        a laptop, a few minutes (short runs, few requests at large sizes)
//   --full         longer runs and more requests: steadier percentiles
//   --cpu-prof     the hook server writes V8 CPU profiles (main thread and workers) to
//                  .cache/bench-profiles/, one set per size, for `--cpu-prof` analysis
//   --sizes=a,b    other cluster sizes than 10,1000,5000,10000
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { hookSuite } from './hookload.js'
import { machine } from './lib/machine.js'
import { lineSpec, renderSvg } from './lib/plot.js'
import { renderReport, type Report } from './lib/report.js'
import { buildServers } from './lib/servers.js'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    sizes: { type: 'string' },
    out: { type: 'string', default: 'docs/benchmarks.md' }
  }
})
if (values.quick === values.full) {
  console.error('usage: npm run bench -- --quick | --full [--cpu-prof] [--sizes=10,1000,5000,10000]')
  process.exit(2)
}
const mode = values.full === true ? 'full' : 'quick'
const sizes = values.sizes === undefined ? [10, 1000, 5000, 10000] : values.sizes.split(',').map(Number)
if (sizes.some(n => !Number.isInteger(n) || n < 1)) throw new Error(`--sizes: "${values.sizes ?? ''}" is not a list of node counts`)
const command = `npm run bench -- --${mode}${values.sizes === undefined ? '' : ` --sizes=${values.sizes}`}`
const outFile = values.out
const plotDir = path.join(path.dirname(outFile), 'benchmarks')
const log = (line: string): void => { console.error(line) }

const report: Report = {
  command,
  mode,
  machine: machine(),
  date: new Date().toISOString().slice(0, 10),
  summary: [
    'What to expect from the operator, measured. Machines differ and shared ones are noisy, so every figure stands beside a **floor** measured in the same run, on the same machine, at the same size, and the **ratio** is the figure that travels. Targets are on ratios except where an absolute limit is what matters (a probe timeout, a memory limit).'
  ],
  sections: []
}

log(`npm run bench (${mode}): building the servers`)
buildServers()
const hooks = await hookSuite({
  sizes,
  seconds: mode === 'full' ? 20 : 5,
  requests: nodes => {
    const base = mode === 'full' ? 200 : 40
    return Math.max(6, Math.round(base * Math.min(1, 1000 / nodes) * (nodes >= 10000 ? 1 : 1.5)))
  },
  hookNodeFlags: values['cpu-prof'] === true ? ['--cpu-prof', `--cpu-prof-dir=${path.join('.cache', 'bench-profiles')}`] : [],
  log
})
mkdirSync(plotDir, { recursive: true })
const latencyPlot = path.join(plotDir, 'hook-latency.svg')
writeFileSync(latencyPlot, await renderSvg(lineSpec({ title: '/sync latency against cluster size', yTitle: 'milliseconds (log)', log: true, points: hooks.latency })))
hooks.section.plots.push({ file: path.relative(path.dirname(outFile), latencyPlot), caption: '/sync p50 (solid) and p99 (dashed) against nodes, for the hook server, the same hook without the worker pool, and floors (a) and (b); both axes logarithmic.' })
report.sections.push(hooks.section)

writeFileSync(outFile, renderReport(report))
log(`wrote ${outFile} and ${latencyPlot}`)
