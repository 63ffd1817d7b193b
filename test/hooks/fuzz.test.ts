// Structure-aware fuzzing of /sync, /finalize and /customize (fuzz.ts), seeded: the same 20,000
// cases every run, so CI is reproducible; `npm run fuzz` runs more from other seeds. Each case
// must be answered without a crash or a 5xx, and a 200 must keep the observed DaemonSet.
// FUZZ_SEED and FUZZ_CASES override the defaults; a failure prints the seed that replays it.
import t from 'tap'
import { buildApp } from '../../hooks/server/app.js'
import { CONFIG, NOW } from '../support/hookfixtures.js'
import { fuzzCase, reproduction, runCase } from '../support/fuzz.js'

const SEED = Number(process.env.FUZZ_SEED ?? 20261120)
const CASES = Number(process.env.FUZZ_CASES ?? 20_000)

t.test(`${CASES} fuzzed hook requests from seed ${SEED}: no crash, no 5xx, children kept`, async t => {
  const { app } = buildApp({ hooks: CONFIG, bodyLimit: 64 * 1024 * 1024, logLevel: 'silent', now: () => NOW })
  t.teardown(async () => await app.close())
  const started = Date.now()
  const codes = new Map<number, number>()
  const failures: string[] = []
  let run = 0
  for (; run < CASES; run++) {
    const c = fuzzCase((SEED + run) >>> 0)
    const result = await runCase(app, c)
    codes.set(result.statusCode ?? 0, (codes.get(result.statusCode ?? 0) ?? 0) + 1)
    if (result.failure !== undefined && failures.length < 20) failures.push(`${reproduction(c)}\n  ${result.failure}`)
  }
  const seconds = (Date.now() - started) / 1000
  t.comment(`${run} cases in ${seconds.toFixed(1)} s; answers: ${[...codes].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}×${v}`).join(' ')}`)
  t.same(failures, [], 'no case failed')
  t.ok((codes.get(200) ?? 0) > CASES / 2, 'most cases are answered 200: the mutations keep requests realistic enough to reach the hooks')
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'the server still answers')
})
