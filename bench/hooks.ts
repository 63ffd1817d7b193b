// Benchmark, not a test: how the hooks scale with cluster size. For each size it prints the
// median time of one /sync through fastify (app.inject: parse, validate, decide, serialize) and
// the same for the baseline that any hook pays, JSON.parse + JSON.stringify of the same bytes,
// measured in the same run; plus the request size and the heap growth.
//   npm run bench:hooks
import { buildApp } from '../hooks/server/app.js'
import { CONFIG, currentTemplateHash, node, NOW, pod, syncRequest } from '../test/support/hookfixtures.js'

const ROUNDS = 7
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN

async function time (fn: () => Promise<unknown> | unknown): Promise<number> {
  const samples: number[] = []
  for (let i = 0; i < ROUNDS; i++) {
    const start = process.hrtime.bigint()
    await fn()
    samples.push(Number(process.hrtime.bigint() - start) / 1e6)
  }
  return median(samples)
}

const { app } = buildApp({ hooks: CONFIG, bodyLimit: 256 * 1024 * 1024, logLevel: 'silent', now: () => NOW })
console.log('nodes+pods  request MiB  sync ms (median of 7)  JSON baseline ms  ratio  heap growth MiB')
for (const size of [100, 1000, 5000, 10000]) {
  const nodes = Array.from({ length: size }, (_, i) => node(`worker-${i}`))
  const hash = currentTemplateHash({ nodes: nodes.slice(0, 1) })
  const pods = nodes.map((n, i) => pod(n.metadata?.name ?? '', hash, i % 10 === 9 ? { crashed: 'BuildFailed', message: 'error' } : 'ready', 'sample', `p${i}`))
  const payload = JSON.stringify(syncRequest({ nodes, pods }))
  global.gc?.()
  const heapBefore = process.memoryUsage().heapUsed
  let status = 0
  const sync = await time(async () => {
    const res = await app.inject({ method: 'POST', url: '/sync', headers: { 'content-type': 'application/json' }, payload })
    status = res.statusCode
  })
  const heapGrowth = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024
  if (status !== 200) throw new Error(`sync answered ${status}`)
  const baseline = await time(() => JSON.stringify(JSON.parse(payload)))
  console.log(`${String(size).padStart(10)}  ${(payload.length / 1024 / 1024).toFixed(1).padStart(11)}  ${sync.toFixed(1).padStart(21)}  ${baseline.toFixed(1).padStart(16)}  ${(sync / baseline).toFixed(2).padStart(5)}  ${heapGrowth.toFixed(1).padStart(15)}`)
}
await app.close()
