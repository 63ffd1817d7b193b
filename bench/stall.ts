// Benchmark, not a test: does a big sync stall the hook server? Starts the real server process
// (hooks/server/main.ts, default settings), posts one /sync of N realistic nodes and N pods
// over loopback, and meanwhile asks GET /healthz every 5 ms on another connection. Reports the
// sync's latency, /healthz latency while it ran (max = the event-loop stall as a client sees
// it), and the server's own event-loop delay from /metrics (prom-client's monitorEventLoopDelay).
//   npm run bench:stall -- [nodes…]          (default 1000 5000)
import { spawn } from 'node:child_process'
import { Agent, request } from 'node:http'
import { listening } from '../test/support/serverprocess.js'
import { currentTemplateHash, node, pod, syncRequest } from '../test/support/hookfixtures.js'

const sizes = process.argv.slice(2).map(Number).filter(n => n > 0)

function payloadFor (size: number): string {
  const nodes = Array.from({ length: size }, (_, i) => node(`worker-${String(i).padStart(5, '0')}`))
  const hash = currentTemplateHash({ nodes: nodes.slice(0, 1) })
  const pods = nodes.map((n, i) => pod(n.metadata?.name ?? '', hash, i % 10 === 9 ? { crashed: 'BuildFailed', message: 'error' } : 'ready', 'sample', `p${i}`))
  return JSON.stringify(syncRequest({ nodes, pods }))
}

/** One request on its own keep-alive agent; resolves with the status and the milliseconds it took. */
async function call (agent: Agent, url: string, method: string, body?: Buffer): Promise<{ status: number, ms: number }> {
  const started = performance.now()
  return await new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, res => {
      res.resume()
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }) })
    })
    req.on('error', reject)
    req.end(body)
  })
}

const metric = (text: string, name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN)

const child = spawn(process.execPath, ['--import', '@tapjs/typescript/import', 'hooks/server/main.ts'], {
  env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', TS_NODE_TRANSPILE_ONLY: '1', ...(process.env.BODY_LIMIT_BYTES === undefined ? { BODY_LIMIT_BYTES: String(256 * 1024 * 1024) } : {}) },
  stdio: ['ignore', 'pipe', 'pipe']
})
const server = await listening(child)
const hooks = new Agent({ keepAlive: true })
const probes = new Agent({ keepAlive: true })
console.log('nodes+pods  MiB   sync ms  status  /healthz during sync: n  p50 ms  max ms  server event-loop max ms')
for (const size of sizes.length > 0 ? sizes : [1000, 5000]) {
  // Encoded once, so the client spends no time on it while it measures /healthz.
  const body = Buffer.from(payloadFor(size))
  for (let round = 0; round < 2; round++) {
    await call(probes, `${server.url}/metrics`, 'GET') // resets the server's event-loop histogram
    const latencies: number[] = []
    const state = { done: false }
    const probing = (async () => {
      while (!state.done) {
        latencies.push((await call(probes, `${server.url}/healthz`, 'GET')).ms)
        await new Promise(resolve => setTimeout(resolve, 5))
      }
    })()
    const sync = await call(hooks, `${server.url}/sync`, 'POST', body)
    state.done = true
    await probing
    const metrics = await fetch(`${server.url}/metrics`).then(async r => await r.text())
    const sorted = [...latencies].sort((a, b) => a - b)
    if (round === 1) {
      console.log(`${String(size).padStart(10)}  ${(body.length / 1024 / 1024).toFixed(1).padStart(4)}  ${sync.ms.toFixed(0).padStart(8)}  ${String(sync.status).padStart(6)}  ${String(latencies.length).padStart(23)}  ${(sorted[Math.floor(sorted.length / 2)] ?? 0).toFixed(1).padStart(6)}  ${(sorted.at(-1) ?? 0).toFixed(0).padStart(6)}  ${(metric(metrics, 'nodejs_eventloop_lag_max_seconds') * 1000).toFixed(0).padStart(24)}`)
    }
  }
}
hooks.destroy()
probes.destroy()
await server.stop()
