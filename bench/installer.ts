// The node benchmark on its own (section 3 of `npm run bench`, see bench/node.ts): one qemu
// (TCG) boot of the newest prepared Debian kernel on the installer image, printed on the terminal.
//   --compare-image   also run this tree's bundle without its start-up snapshot (the ES module
//                     entry), in turns with the launcher's snapshot start in the same boot
//   --rounds=N        warm and restart runs per installer, and cold runs (default 3)
// Usage: bash scripts/installer-test-deps.sh && npm run bench:installer [-- --compare-image]
import { parseArgs } from 'node:util'
import { vmEnv } from '../test/support/realenv.js'
import { coldComparison, median, nodeRun, type InstallerRun } from './node.js'

const { values } = parseArgs({ options: { 'compare-image': { type: 'boolean', default: false }, rounds: { type: 'string', default: '3' } } })
const env = vmEnv()
if (typeof env === 'string') {
  console.error(env)
  process.exit(1)
}
const kernel = env.kernels.at(-1)
if (kernel === undefined) process.exit(1)
const run = await nodeRun(env, kernel, { rounds: Number(values.rounds), compareImage: values['compare-image'] })
if (run.failure !== undefined) console.log(run.failure)
const s = (ms: number): string => Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'n/a'
const phases = (r: InstallerRun): string => Object.entries(r.phases).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${v}`).join(', ')
console.log(`gtp5g-installer on a node — kernel ${run.kernel}, ${run.cpus} vCPUs, qemu TCG, image ${env.IMAGE_REF}`)
// In boot order: by hand, cold, by hand, …, by hand.
run.raw.forEach((r, i) => {
  console.log(`  raw make + insmod   ${s(r.ms)} (make ${s(r.make)})`)
  const c = run.cold[i]
  if (c !== undefined) console.log(`  cold install        ${s(c.ms)}  (${c.probe}; ${c.entry ?? '-'}; host cache ${c.hostCache ?? '?'} files; ${phases(c)})`)
})
const cold = coldComparison(run)
console.log(`  cold / by hand      paired median ${cold.paired.toFixed(2)}× (${cold.pairs.map(r => r.toFixed(2)).join(', ')}); make step ${s(cold.build)} against ${s(cold.rawMake)} by hand`)
console.log(`  warm floor (insmod) ${run.floorWarm.map(s).join(', ')}`)
console.log(`  restart floor       ${run.floorRestart.map(s).join(', ')}`)
for (const [name, runs] of Object.entries(run.warm)) {
  console.log(`  warm [${name}]  median ${s(median(runs.map(r => r.ms)))}`)
  for (const r of runs) console.log(`    ${s(r.ms)} ${r.outcome ?? '?'} (${r.probe}; ${phases(r)})`)
}
for (const [name, runs] of Object.entries(run.restart)) {
  console.log(`  restart [${name}]  median ${s(median(runs.map(r => r.ms)))}`)
  for (const r of runs) console.log(`    ${s(r.ms)} ${r.outcome ?? '?'} uevents ${r.uevents ?? '?'} unloads ${r.unloads ?? '?'} (${r.probe}; ${phases(r)})`)
}
console.log(`  whole guest run ${(run.guestMs / 1000).toFixed(1)} s`)
