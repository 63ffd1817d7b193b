// Section 1 of `npm run bench`: the hook server over real HTTP on loopback, loaded by autocannon,
// beside its floors measured in the same run at the same size:
//   floor (a)  JSON.parse of the same request + JSON.stringify of the same response, in process:
//              what any hook written in JavaScript pays;
//   floor (b)  a bare fastify route that parses the same body and answers a tiny object, under
//              the same load (bench/lib/routeserver.ts);
// and the same answerHook on the event loop without the worker pool (bench/lib/inlineserver.ts),
// to show what the pool costs at small sizes and what it saves at large ones.
import type { Point } from './lib/plot.js'
import type { Row, Section } from './lib/report.js'
import { load, type LoadResult, quantile, REQUESTS_PER_CONNECTION, timeSync } from './lib/load.js'
import { syncPayload } from './lib/payload.js'
import { bodyLimitFor, type ServerKind, startServer } from './lib/servers.js'

export interface HookSuiteOptions {
  sizes: number[]
  /** Seconds of load at sizes answered in milliseconds (10 nodes). */
  seconds: number
  /** Requests at a size, for sizes answered in tens of milliseconds or more. */
  requests: (nodes: number) => number
  /** Node flags for the hook server, e.g. --cpu-prof. */
  hookNodeFlags?: string[]
  log?: (line: string) => void
}

interface Measured {
  sync: LoadResult
  /** 10 nodes only: four connections at once (Metacontroller's workers on several parents). */
  parallel?: LoadResult
  healthzIdle?: LoadResult
  healthzBusy?: LoadResult
  rssPeakMB: number
  response?: string
}

const HEALTHZ_AT = 5000
/** A probe every 10 ms: far more often than a kubelet, often enough to catch a stall. */
const HEALTHZ_RATE = 100
const MB = 1e6
const SERIES: Record<ServerKind | 'floor', string> = {
  hook: 'hook server (worker pool)',
  inline: 'hook on the event loop (no pool)',
  route: 'floor (b): bare fastify route',
  floor: 'floor (a): JSON.parse + JSON.stringify'
}

async function measure (kind: ServerKind, nodes: number, body: Buffer, o: HookSuiteOptions): Promise<Measured> {
  const server = await startServer(kind, bodyLimitFor(body.byteLength), kind === 'hook' ? o.hookNodeFlags : [])
  try {
    const url = `${server.url}/sync`
    const small = nodes <= 100
    const sync = { url, method: 'POST' as const, body, connections: 1 }
    // Warm-up: the JIT, the worker's first job, the sockets.
    await load({ ...sync, ...(small ? { duration: 1 } : { amount: 2 }) })
    const result = await load({ ...sync, ...(small ? { duration: o.seconds } : { amount: o.requests(nodes) }) })
    const m: Measured = { sync: result, rssPeakMB: 0 }
    if (small) m.parallel = await load({ ...sync, connections: 4, duration: o.seconds })
    if (nodes === HEALTHZ_AT && kind !== 'route') {
      m.healthzIdle = await load({ url: `${server.url}/healthz`, connections: 1, duration: 2, rate: HEALTHZ_RATE })
      const syncs = load({ ...sync, amount: o.requests(nodes) })
      m.healthzBusy = await load({ url: `${server.url}/healthz`, connections: 1, rate: HEALTHZ_RATE, until: syncs })
      await syncs
    }
    if (kind === 'hook') m.response = await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).text()
    m.rssPeakMB = server.rss().peak / MB
    const failures = result.failures + (m.parallel?.failures ?? 0) + (m.healthzBusy?.failures ?? 0)
    if (failures > 0) throw new Error(`${kind} at ${nodes} nodes: ${failures} responses were not 2xx; the figures would measure refusals, not work`)
    return m
  } finally {
    await server.stop()
  }
}

export async function hookSuite (o: HookSuiteOptions): Promise<{ section: Section, latency: Point[] }> {
  const log = o.log ?? (() => {})
  const rows: Row[] = []
  const latency: Point[] = []
  const payloads: string[] = []
  for (const nodes of o.sizes) {
    const body = syncPayload(nodes)
    payloads.push(`${nodes.toLocaleString('en-US')} nodes: ${(body.length / 1024 / 1024).toFixed(2)} MiB`)
    log(`hook server: ${nodes} nodes, ${(body.length / 1024 / 1024).toFixed(1)} MiB`)
    const route = await measure('route', nodes, body, o)
    const inline = await measure('inline', nodes, body, o)
    const hook = await measure('hook', nodes, body, o)
    // Floor (a), in this process after the servers are gone: as many rounds as requests made.
    const response = JSON.parse(hook.response ?? '{}') as unknown
    const rounds = Math.max(hook.sync.requests, 30)
    const a = timeSync(() => JSON.stringify(JSON.parse(body.toString('utf8')) === undefined ? null : response), rounds)
    const floorA = { p50: quantile(a, 0.5), p99: quantile(a, 0.99) }
    for (const [kind, m] of [['hook', hook], ['inline', inline], ['route', route]] as const) {
      latency.push({ nodes, series: SERIES[kind], stat: 'p50', value: m.sync.p50 }, { nodes, series: SERIES[kind], stat: 'p99', value: m.sync.p99 })
    }
    latency.push({ nodes, series: SERIES.floor, stat: 'p50', value: floorA.p50 }, { nodes, series: SERIES.floor, stat: 'p99', value: floorA.p99 })

    const fa = (name: string, value: number): Row['floor'] => ({ name: `(a) parse+stringify ${name}`, value })
    rows.push(
      { figure: '/sync p50', nodes, value: hook.sync.p50, unit: 'ms', floor: fa('p50', floorA.p50) },
      { figure: '/sync p99', nodes, value: hook.sync.p99, unit: 'ms', floor: fa('p99', floorA.p99), ...(nodes === 5000 ? { target: { kind: 'ratio<=', limit: 1.2 } } : {}) },
      { figure: '/sync p99', nodes, value: hook.sync.p99, unit: 'ms', floor: { name: '(b) fastify route p99', value: route.sync.p99 } },
      { figure: '/sync req/s, 1 connection', nodes, value: hook.sync.rps, unit: 'req/s', floor: { name: '(b) fastify route', value: route.sync.rps }, ...(nodes === 10 ? { target: { kind: 'ratio>=', limit: 0.8 } } : {}) },
      { figure: '/sync req/s, no pool, 1 connection', nodes, value: inline.sync.rps, unit: 'req/s', floor: { name: '(b) fastify route', value: route.sync.rps } }
    )
    if (hook.parallel !== undefined && route.parallel !== undefined && inline.parallel !== undefined) {
      rows.push(
        { figure: '/sync req/s, 4 connections', nodes, value: hook.parallel.rps, unit: 'req/s', floor: { name: '(b) fastify route', value: route.parallel.rps } },
        { figure: '/sync req/s, no pool, 4 connections', nodes, value: inline.parallel.rps, unit: 'req/s', floor: { name: '(b) fastify route', value: route.parallel.rps } }
      )
    }
    if (hook.healthzBusy !== undefined && hook.healthzIdle !== undefined) {
      rows.push({ figure: '/healthz p99 during back-to-back syncs', nodes, value: hook.healthzBusy.p99, unit: 'ms', floor: { name: '/healthz p99, idle', value: hook.healthzIdle.p99 }, target: { kind: 'value<', limit: 50 } })
    }
    if (inline.healthzBusy !== undefined && inline.healthzIdle !== undefined) {
      rows.push({ figure: '/healthz p99 during syncs, no pool', nodes, value: inline.healthzBusy.p99, unit: 'ms', floor: { name: '/healthz p99, idle', value: inline.healthzIdle.p99 } })
    }
    rows.push({ figure: 'peak RSS', nodes, value: hook.rssPeakMB, unit: 'MB', floor: { name: '(b) fastify route', value: route.rssPeakMB }, ...(nodes === 5000 ? { target: { kind: 'value<=', limit: 300 } } : {}) })
    log(`  hook p50 ${hook.sync.p50.toFixed(2)} ms p99 ${hook.sync.p99.toFixed(2)} ms ${hook.sync.rps.toFixed(0)} req/s; route p99 ${route.sync.p99.toFixed(2)} ms ${route.sync.rps.toFixed(0)} req/s; floor (a) p99 ${floorA.p99.toFixed(2)} ms; RSS ${hook.rssPeakMB.toFixed(0)} MB`)
  }
  return {
    latency,
    section: {
      title: '1. Hook server over HTTP',
      intro: [
        'The real hook server (built JavaScript, default settings, `LOG_LEVEL=info` as deployed; at 10,000 nodes `BODY_LIMIT_BYTES` raised to 64 MiB as the README says for clusters that large; the bare route gets the same limit) is loaded over loopback by [autocannon](https://github.com/mcollina/autocannon) with one connection and requests back to back, as one Metacontroller worker syncing one GTP5GModule does (each parent is synced by one worker at a time). Each server is a fresh process per size; response times are taken per response at hrtime resolution.',
        'Beside it, measured at the same size in the same run: **floor (a)**, `JSON.parse` of the same request bytes and `JSON.stringify` of the same response, in process, as many rounds as the hook answered; **floor (b)**, a bare fastify route that parses the same body with fastify\'s own parser and answers `{"ok":true}`, under the same load; and the hook\'s own `answerHook` called on the event loop of a fastify route (**no pool**), to show what the worker pool costs and saves.',
        `Request: one GTP5GModule, N Nodes and N installer Pods, built from the unit-test fixtures, which copy \`kubectl get -o json\` of real kubelet nodes: 12 images each with a digest and a tag name, the four kubelet conditions with heartbeat times and messages, InternalIP and Hostname addresses (distinct per node), capacity, allocatable, nodeInfo, podCIDRs; pods with owner references, node affinity, four conditions and container statuses, one in ten crash-looping with a termination message. Sizes: ${payloads.join('; ')}.`,
        `The hook server answers the ${REQUESTS_PER_CONNECTION.toLocaleString('en-US')}th request on a connection with \`Connection: close\` (maxRequestsPerSocket) and a 503 to any request sent after it on that connection. That cap suits Metacontroller: its client is Go's net/http, which sends one request at a time per connection (no pipelining), honours \`Connection: close\` by dialing again for the next request, and so never meets the 503; one new TCP connection per 1,000 syncs costs nothing measurable, and it lets connections spread over the replicas again after a rollout. autocannon ignores the header, so it is told to reconnect after ${REQUESTS_PER_CONNECTION.toLocaleString('en-US')} requests (\`reconnectRate\`); a run with any non-2xx answer is refused rather than reported.`,
        `/healthz is probed ${HEALTHZ_RATE} times a second on its own connection, first idle (its floor), then while ${HEALTHZ_AT.toLocaleString('en-US')}-node syncs run back to back. RSS is the server process's peak (VmHWM), its worker threads included.`
      ],
      rows,
      plots: [],
      notes: []
    }
  }
}
