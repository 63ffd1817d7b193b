// The long fuzz run (not in CI; CI runs 20,000 cases in test/hooks/fuzz.test.ts):
//   npm run fuzz                              100,000 cases from a random base seed (printed)
//   npm run fuzz -- --cases 1000000           more
//   npm run fuzz -- --minutes 30              as many as fit in 30 minutes
//   npm run fuzz -- --seed 123 --cases 1 --print   replay one case: prints the request and the answer
// Case i uses seed base+i, so the seed a failure prints replays it alone.
import { buildApp } from '../hooks/server/app.js'
import { CONFIG, NOW } from '../test/support/hookfixtures.js'
import { fuzzCase, reproduction, runCase } from '../test/support/fuzz.js'

function flag (name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? undefined : process.argv[i + 1]
}

const base = Number(flag('seed') ?? Math.floor(Math.random() * 2 ** 31))
const minutes = flag('minutes')
const cases = Number(flag('cases') ?? (minutes === undefined ? 100_000 : Number.MAX_SAFE_INTEGER))
const deadline = minutes === undefined ? Number.POSITIVE_INFINITY : Date.now() + Number(minutes) * 60_000
const print = process.argv.includes('--print')

const { app } = buildApp({ hooks: CONFIG, bodyLimit: 64 * 1024 * 1024, logLevel: print ? 'error' : 'silent', now: () => NOW })
console.log(`fuzzing /sync, /finalize, /customize from base seed ${base}`)
const started = Date.now()
const codes = new Map<number, number>()
let failures = 0
let run = 0
for (; run < cases && Date.now() < deadline; run++) {
  const c = fuzzCase((base + run) >>> 0)
  const result = await runCase(app, c)
  codes.set(result.statusCode ?? 0, (codes.get(result.statusCode ?? 0) ?? 0) + 1)
  if (print) {
    console.log(`request (${c.payload.length} bytes): ${c.payload.length > 20_000 ? c.payload.slice(0, 20_000) + '…' : c.payload}`)
    const res = await app.inject({ method: 'POST', url: c.route, headers: { 'content-type': 'application/json' }, payload: c.payload })
    console.log(`answer ${res.statusCode}: ${res.body.slice(0, 20_000)}`)
  }
  if (result.failure !== undefined) {
    failures++
    console.log(`FAIL ${reproduction(c)}\n  ${result.failure}`)
  }
  if (run > 0 && run % 10_000 === 0) console.log(`${run} cases, ${failures} failures, ${((Date.now() - started) / 1000).toFixed(0)} s`)
}
await app.close()
const seconds = (Date.now() - started) / 1000
console.log(`${run} cases in ${seconds.toFixed(1)} s (${(run / seconds).toFixed(0)}/s), ${failures} failures; answers: ${[...codes].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}×${v}`).join(' ')}`)
process.exitCode = failures === 0 ? 0 : 1
