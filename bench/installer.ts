// Installer benchmark (not a test): one qemu (TCG) boot of Debian's kernel on the installer
// image, running the same scenario as test/installer/qemu.test.ts, and prints
//   cold    = empty cache: download (file://) + sha256 + kbuild + load, until ready
//   warm    = module not loaded, cache hit: load only
//   restart = module already loaded at the desired version: the no-op path
//   planted = a foreign .ko in the cache entry: rebuilt from source, then loaded
// all measured INSIDE the guest from process start to the installer's "done" log line.
// TCG emulation is several times slower than the hardware: compare runs, not absolute values.
// Usage: bash scripts/installer-test-deps.sh && npm run bench:installer
import { vmEnv } from '../test/support/realenv.js'
import { bootScenario } from '../test/support/vm.js'

const env = vmEnv()
if (typeof env === 'string') {
  console.error(env)
  process.exit(1)
}
// The newest prepared kernel.
const kernel = env.kernels.at(-1)
if (kernel === undefined) process.exit(1)
const run = await bootScenario(env, kernel)
const ms = (step: string): string => {
  const r = run.records.get(step)
  if (r?.ms === undefined || r.ms === '-1') return 'n/a (step failed, see the guest console above)'
  return `${(Number(r.ms) / 1000).toFixed(2)} s  (${r.outcome ?? '?'})`
}
if (!run.records.has('end')) console.log(run.console.slice(-4000))
console.log(`gtp5g-installer benchmark — kernel ${kernel.release}, image ${env.IMAGE_REF}, qemu TCG`)
console.log(`  cold install    ${ms('cold')}`)
const parts = run.records.get('cold-steps') ?? {}
console.log(`    of which (ms): ${Object.entries(parts).filter(([k]) => k !== 'step').map(([k, v]) => `${k} ${v}`).join(', ')}`)
console.log(`  warm install    ${ms('warm')}`)
console.log(`  restart         ${ms('restart')}`)
console.log(`  planted entry   ${ms('foreign')}  (provenance check failed: rebuilt from source)`)
console.log(`  whole guest run ${(run.bootMs / 1000).toFixed(1)} s (boot, all scenario steps, disk staging)`)
