// `npm run bench -- --quick | --full`: runs the benchmark suites and writes docs/benchmarks.md
// with its plots (docs/benchmarks/*.svg). Every figure stands beside a floor measured in the
// same run, on the same machine, at the same size: on a shared or noisy machine an absolute time
// means little, a ratio means a lot. Not a test: nothing here fails on a slow machine.
//   --quick        a laptop, a few minutes (short runs, few requests at large sizes)
//   --full         longer runs and more requests: steadier percentiles
//   --cpu-prof     the hook server writes V8 CPU profiles (main thread and workers) to
//                  .cache/bench-profiles/, one set per size, for `--cpu-prof` analysis
//   --sizes=a,b    other cluster sizes than 10,1000,5000,10000
//   --cluster=a,b  also section 2 on the local cluster (e2e/cluster: real kube-apiserver and
//                  Metacontroller, kwok nodes) at these node counts, e.g. --cluster=100,1000;
//                  each size brings up its own cluster in a temporary directory and takes it down;
//                  5,000 takes well over half an hour on two busy cores
//   --cluster-runs=FILE,FILE
//                  section 2 also shows these runs, each saved by `npm run bench:cluster -- <nodes>
//                  --save=FILE` (lib/savedrun.ts): a size of an hour or more, measured on its own;
//                  the report says each one's command, date and commit
//   --node         also section 3 (on by default with --full): the installer in a qemu (TCG) guest
//                  beside make + insmod by hand (bench/node.ts; needs scripts/installer-test-deps.sh)
//   --node-compare section 3 also runs this tree's bundle without its start-up snapshot, in turns
//                  with the snapshot start in the same boot
//   --node-only    section 3 alone, sections 1 and 2 left out (with --out=FILE, to check it)
//   --cluster-only section 2 alone (with --cluster=…), sections 1 and 3 left out
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { clusterPoints, clusterSection } from './clustersection.js'
import { type ClusterRun, clusterRun } from './clustersuite.js'
import { hookSuite } from './hookload.js'
import { machine } from './lib/machine.js'
import { barSpec, lineSpec, renderSvg, stackSpec } from './lib/plot.js'
import { renderReport, type Report } from './lib/report.js'
import { loadRun } from './lib/savedrun.js'
import { buildServers } from './lib/servers.js'
import { nodeRun, nodeSection } from './node.js'
import { type VmKernel, vmEnv } from '../test/support/realenv.js'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    sizes: { type: 'string' },
    cluster: { type: 'string' },
    'cluster-runs': { type: 'string' },
    node: { type: 'boolean' },
    'node-compare': { type: 'boolean', default: false },
    'node-only': { type: 'boolean', default: false },
    'cluster-only': { type: 'boolean', default: false },
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
const clusterSizes = values.cluster === undefined ? [] : values.cluster.split(',').map(Number)
if (clusterSizes.some(n => !Number.isInteger(n) || n < 1)) throw new Error(`--cluster: "${values.cluster ?? ''}" is not a list of node counts`)
const savedRuns = values['cluster-runs'] === undefined ? [] : values['cluster-runs'].split(',').map(loadRun)
for (const saved of savedRuns) {
  if (clusterSizes.includes(saved.run.nodes) || savedRuns.filter(s => s.run.nodes === saved.run.nodes).length > 1) {
    throw new Error(`--cluster-runs: ${saved.run.nodes} nodes would be in the report twice; give each size once`)
  }
}
const clusterOnly = values['cluster-only'] === true
if (clusterOnly && (clusterSizes.length + savedRuns.length === 0 || values['node-only'] === true)) throw new Error('--cluster-only needs --cluster=… or --cluster-runs=…, and no --node-only')
const nodeSection3 = !clusterOnly && (values.node ?? (mode === 'full' || values['node-only'] === true || values['node-compare'] === true))
const hookSections = values['node-only'] !== true
const flags = [
  values.sizes === undefined ? '' : ` --sizes=${values.sizes}`,
  values.cluster === undefined ? '' : ` --cluster=${values.cluster}`,
  values['cluster-runs'] === undefined ? '' : ` --cluster-runs=${savedRuns.map(r => `<${r.run.nodes}-node run>`).join(',')}`,
  values.node === true && mode !== 'full' ? ' --node' : '',
  values['node-compare'] === true ? ' --node-compare' : '',
  values['node-only'] === true ? ' --node-only' : '',
  clusterOnly ? ' --cluster-only' : ''
].join('')
const command = `npm run bench -- --${mode}${flags}`
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

if (hookSections) {
  log(`npm run bench (${mode}): building the servers`)
  buildServers()
  // The cluster first: it needs the most prerequisites (the cluster binaries, Metacontroller, the
  // built hook server), and a missing one should stop the run before the long part, not after.
  const runs: ClusterRun[] = []
  if (clusterSizes.length > 0) {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'hooks/tsconfig.build.json'], { stdio: 'inherit' })
    for (const nodes of clusterSizes) {
      log(`cluster: ${nodes} kwok nodes`)
      runs.push(await clusterRun(nodes, { log, convergedSeconds: mode === 'full' ? 180 : 60 }))
    }
  }
  runs.push(...savedRuns.map(saved => saved.run))
  runs.sort((a, b) => a.nodes - b.nodes)
  if (clusterOnly) {
    report.sections.push({
      title: '1. Hook server over HTTP (not in this run)',
      intro: ['This run was `--cluster-only`: section 2 alone.'],
      rows: [],
      plots: [],
      notes: []
    })
  } else {
    const hooks = await hookSuite({
      sizes,
      seconds: mode === 'full' ? 20 : 5,
      // Enough requests for a p99 at 1,000 nodes; a few at the sizes where one takes seconds.
      requests: nodes => mode === 'full' ? Math.max(40, Math.round(200_000 / nodes)) : Math.max(10, Math.round(30_000 / nodes)),
      rounds: mode === 'full' ? 8 : 5,
      hookNodeFlags: values['cpu-prof'] === true ? ['--cpu-prof', `--cpu-prof-dir=${path.join('.cache', 'bench-profiles')}`] : [],
      log
    })
    mkdirSync(plotDir, { recursive: true })
    const latencyPlot = path.join(plotDir, 'hook-latency.svg')
    writeFileSync(latencyPlot, await renderSvg(lineSpec({ title: '/sync latency against cluster size', yTitle: 'milliseconds (log)', log: true, points: hooks.latency })))
    hooks.section.plots.push({ file: path.relative(path.dirname(outFile), latencyPlot), caption: '/sync p50 (solid) and p99 (dashed) against nodes, for the hook server, the same hook without the worker pool, and floors (a) and (b); both axes logarithmic.' })
    report.sections.push(hooks.section)
  }

  if (runs.length > 0) {
    mkdirSync(plotDir, { recursive: true })
    const points = clusterPoints(runs)
    const readyPlot = path.join(plotDir, 'cluster-ready.svg')
    writeFileSync(readyPlot, await renderSvg(lineSpec({ title: 'apply → Ready against node count', yTitle: 'seconds', log: runs.length > 1, points: points.ready })))
    const rolloutPlot = path.join(plotDir, 'cluster-rollout.svg')
    writeFileSync(rolloutPlot, await renderSvg(lineSpec({ title: 'version change → rollout complete against node count', yTitle: 'seconds', log: runs.length > 1, points: points.rollout })))
    report.sections.push(clusterSection(runs, report.machine, [
      { file: path.relative(path.dirname(outFile), readyPlot), caption: 'Apply → Ready against node count: the operator and the same DaemonSet applied by hand.' },
      { file: path.relative(path.dirname(outFile), rolloutPlot), caption: 'Version change → rollout complete against node count: the operator and the same DaemonSet changed by hand.' }
    ], savedRuns.map(saved => ({ nodes: saved.run.nodes, source: saved.source }))))
  } else {
    report.sections.push({
      title: '2. Cluster (not in this run)',
      intro: [
        'Apply → `condition=Ready` and a version change → rollout complete for a GTP5GModule, each against the same DaemonSet applied by hand, on the local cluster (real kube-apiserver, real Metacontroller, kwok nodes), with the syncs once converged, Metacontroller\'s own hook latency and the status object\'s size, runs with `npm run bench -- --quick --cluster=100,1000` (or one size at a time with `npm run bench:cluster -- <nodes>`). This run did not include it, so this report has no table for it and **no apply → Ready or rollout plot**.'
      ],
      rows: [],
      plots: [],
      notes: []
    })
  }
}
// The node last: a qemu guest, the longest single run, and its prerequisites are checked first.
if (nodeSection3) {
  const env = vmEnv()
  if (typeof env === 'string') throw new Error(`section 3 (--node): ${env}`)
  const kernel = env.kernels.at(-1) as VmKernel
  log(`node: qemu guest on ${kernel.release} (TCG; several minutes)`)
  const run = await nodeRun(env, kernel, { rounds: mode === 'full' ? 5 : 3, compareImage: values['node-compare'] === true })
  if (run.failure !== undefined) throw new Error(`section 3: the guest did not reach its end; console tail:\n${run.failure}`)
  const { section, bars, parts } = nodeSection(run, env.IMAGE_REF)
  mkdirSync(plotDir, { recursive: true })
  const barsPlot = path.join(plotDir, 'node-install.svg')
  writeFileSync(barsPlot, await renderSvg(barSpec({ title: 'Installer against make + insmod by hand (qemu TCG guest)', yTitle: 'seconds to ready (log)', log: true, bars })))
  const partsPlot = path.join(plotDir, 'node-warm-parts.svg')
  writeFileSync(partsPlot, await renderSvg(stackSpec({ title: 'Where a warm install and a restart spend their time', xTitle: 'seconds from process start to ready', parts })))
  section.plots.push(
    { file: path.relative(path.dirname(outFile), barsPlot), caption: 'Cold install, warm install and restart to ready, beside the same work by hand in the same boot (median runs; logarithmic axis).' },
    { file: path.relative(path.dirname(outFile), partsPlot), caption: 'The median warm install and restart split into their parts, from the installer\'s own log.' }
  )
  report.sections.push(section)
} else {
  report.sections.push({
    title: '3. Node (not in this run)',
    intro: [
      'Cold install, warm install and restart of the installer in a qemu guest, beside `make` + `insmod` by hand in the same boot, run with `npm run bench -- --full` or `--node` (after `bash scripts/installer-test-deps.sh`; `npm run bench:installer` prints the same run). This run did not include it.'
    ],
    rows: [],
    plots: [],
    notes: []
  })
}

writeFileSync(outFile, renderReport(report))
log(`wrote ${outFile} and its plots in ${plotDir}`)
