// Soak, not a test (not in CI: it takes minutes). Runs the real hook server process with its
// default settings and drives it over loopback with a mixed load of /sync, /customize and
// /finalize for a cluster of 1,000 nodes (each with its installer pod), several calls in flight,
// while /healthz is asked every 50 ms. It reports throughput and latency per hook, the server's
// resident memory after the warm-up and at the end, its event-loop delay (p99 and max, from
// prom-client's monitorEventLoopDelay on /metrics) and /healthz latency, and fails (exit 1) when
// RSS grew by 10 % or more or the event loop stalled for more than 100 ms.
//   npm run soak -- [--minutes 5] [--nodes 1000] [--concurrency 4]
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { listening } from '../test/support/serverprocess.js'
import { controller, currentTemplateHash, gtp5gModule, node, pod, type PodState, syncRequest } from '../test/support/hookfixtures.js'

function flag (name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : Number(process.argv[i + 1])
}
const minutes = flag('minutes', 5)
const size = flag('nodes', 1000)
const concurrency = flag('concurrency', 4)
const WARM_UP_MS = Math.min(60_000, minutes * 60_000 / 4)

// ---- the load: a few variants of each hook, so answers and statuses differ from call to call.
const STATES: PodState[] = ['ready', 'running', { crashed: 'BuildFailed', message: 'make: *** Error 1' }, { waiting: 'ImagePullBackOff' }]
const nodes = Array.from({ length: size }, (_, i) => node(`worker-${String(i).padStart(5, '0')}`))
const hash = currentTemplateHash({ nodes: nodes.slice(0, 1) })
const variant = (v: number, parent = gtp5gModule()): Buffer => Buffer.from(JSON.stringify(syncRequest({
  parent,
  nodes,
  pods: nodes.map((n, i) => pod(n.metadata?.name ?? '', hash, STATES[(i + v) % STATES.length] as PodState, 'sample', `p${i}`))
})))
const syncs = [0, 1, 2, 3].map(v => variant(v))
const finalizes = [0, 1].map(v => {
  const req = JSON.parse(variant(v, gtp5gModule({ deletionTimestamp: '2026-11-20T09:58:00Z' })).toString()) as Record<string, unknown>
  return Buffer.from(JSON.stringify({ ...req, finalizing: true }))
})
const customizes = [gtp5gModule(), gtp5gModule({ spec: { version: 'v0.9.14', nodeSelector: { role: 'upf' } } })].map(parent => Buffer.from(JSON.stringify({ controller, parent })))
const MIX: Array<[string, Buffer[], number]> = [['sync', syncs, 6], ['customize', customizes, 2], ['finalize', finalizes, 2]]

// ---- measurement helpers
const agent = new Agent({ keepAlive: true, maxSockets: concurrency + 2 })
async function call (url: string, method: string, body?: Buffer): Promise<{ status: number, ms: number }> {
  const started = performance.now()
  return await new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': body.length } }, res => {
      res.resume()
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }) })
    })
    req.on('error', reject)
    req.end(body)
  })
}
const rssMiB = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024
const quantile = (xs: number[], q: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN }
const median = (xs: number[]): number => quantile(xs, 0.5)
const metric = (text: string, name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN)

// ---- run
// fastify's "Server listening" line, which listening() waits for, is logged at info.
const server = spawn(process.execPath, ['--import', '@tapjs/typescript/import', 'hooks/server/main.ts'], {
  env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', TS_NODE_TRANSPILE_ONLY: '1' },
  stdio: ['ignore', 'pipe', 'pipe']
})
const running = await listening(server)
const pid = server.pid as number
console.log(`soak: ${minutes} min, ${size} nodes and pods per sync (${(syncs[0]?.length ?? 0) / 1024 / 1024 | 0} MiB), ${concurrency} calls in flight, server pid ${pid}`)

const started = Date.now()
const deadline = started + minutes * 60_000
const latencies = new Map<string, number[]>()
const codes = new Map<string, number>()
const rss: Array<{ t: number, mib: number }> = []
const loopP99: number[] = []
const loopMax: number[] = []
const healthz: number[] = []

const workers = Array.from({ length: concurrency }, async (_, w) => {
  let i = w
  const weights = MIX.flatMap(([hook, bodies, weight]) => Array.from({ length: weight }, () => [hook, bodies] as const))
  while (Date.now() < deadline) {
    const [hook, bodies] = weights[i % weights.length] as readonly [string, Buffer[]]
    const body = bodies[i % bodies.length] as Buffer
    i++
    const res = await call(`${running.url}/${hook}`, 'POST', body)
    codes.set(`${hook} ${res.status}`, (codes.get(`${hook} ${res.status}`) ?? 0) + 1)
    if (Date.now() - started > WARM_UP_MS) latencies.set(hook, [...(latencies.get(hook) ?? []), res.ms])
  }
})
const probe = (async () => {
  while (Date.now() < deadline) {
    const res = await call(`${running.url}/healthz`, 'GET')
    if (Date.now() - started > WARM_UP_MS) healthz.push(res.ms)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
})()
const sampler = (async () => {
  let last = Date.now()
  while (Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 1000))
    rss.push({ t: Date.now() - started, mib: rssMiB(pid) })
    if (Date.now() - last >= 5000) {
      last = Date.now()
      // prom-client resets its event-loop histogram on each scrape: each sample covers 5 s.
      const text = await (await fetch(`${running.url}/metrics`)).text()
      if (Date.now() - started > WARM_UP_MS) {
        loopP99.push(metric(text, 'nodejs_eventloop_lag_p99_seconds') * 1000)
        loopMax.push(metric(text, 'nodejs_eventloop_lag_max_seconds') * 1000)
      }
    }
  }
})()
await Promise.all([...workers, probe, sampler])
agent.destroy()
await running.stop()

// ---- report
const window = 30_000
const afterWarmUp = median(rss.filter(s => s.t > WARM_UP_MS && s.t <= WARM_UP_MS + window).map(s => s.mib))
const atEnd = median(rss.filter(s => s.t > minutes * 60_000 - window).map(s => s.mib))
const growth = (atEnd - afterWarmUp) / afterWarmUp * 100
const maxStall = Math.max(...loopMax)
const seconds = (Date.now() - started - WARM_UP_MS) / 1000
console.log('\ncalls by hook and status:', [...codes].sort().map(([k, v]) => `${k}×${v}`).join('  '))
for (const [hook, ms] of latencies) {
  console.log(`  ${hook.padEnd(9)} ${(ms.length / seconds).toFixed(1).padStart(6)}/s  p50 ${median(ms).toFixed(0).padStart(4)} ms  p99 ${quantile(ms, 0.99).toFixed(0).padStart(4)} ms  max ${Math.max(...ms).toFixed(0).padStart(5)} ms`)
}
console.log(`RSS after warm-up ${afterWarmUp.toFixed(0)} MiB, at the end ${atEnd.toFixed(0)} MiB: growth ${growth.toFixed(1)} % (max ${Math.max(...rss.map(s => s.mib)).toFixed(0)} MiB)`)
console.log(`event loop delay: p99 ${median(loopP99).toFixed(1)} ms (median of 5 s windows; worst window ${Math.max(...loopP99).toFixed(1)} ms), max ${maxStall.toFixed(1)} ms`)
console.log(`/healthz: p50 ${median(healthz).toFixed(1)} ms, p99 ${quantile(healthz, 0.99).toFixed(1)} ms, max ${Math.max(...healthz).toFixed(0)} ms over ${healthz.length} probes`)
const failures = [
  ...(growth >= 10 ? [`RSS grew ${growth.toFixed(1)} % (limit 10 %)`] : []),
  ...(maxStall > 100 ? [`the event loop stalled ${maxStall.toFixed(0)} ms (limit 100 ms)`] : []),
  ...([...codes.keys()].some(k => !k.endsWith(' 200')) ? ['some calls were not answered 200'] : [])
]
console.log(failures.length === 0 ? 'PASS' : `FAIL: ${failures.join('; ')}`)
process.exitCode = failures.length === 0 ? 0 : 1
