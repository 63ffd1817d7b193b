// Load over loopback with autocannon, and the percentiles of what it measured. autocannon's own
// histogram keeps whole milliseconds; a 10-node sync takes less than one, so every response
// time is taken from its 'response' event instead, at hrtime resolution.
import autocannon from 'autocannon'

/**
 * The hook server answers the 1,000th request on a connection with `Connection: close` and a
 * 503 to any request after it (maxRequestsPerSocket, hooks/server/app.ts). Go's net/http, which
 * Metacontroller uses, honours that header and dials again; autocannon ignores it, so it is
 * told to reconnect after as many requests as the server allows. It drops the response on which
 * it reconnects from its counts: one in a thousand.
 */
export const REQUESTS_PER_CONNECTION = 1000

export interface LoadOptions {
  url: string
  method?: 'GET' | 'POST'
  body?: Buffer
  connections: number
  /** Seconds, or … */
  duration?: number
  /** … a number of requests, … */
  amount?: number
  /** … or until this settles. */
  until?: Promise<unknown>
  /** Requests per second at most, all connections together (a probe, not a flood). */
  rate?: number
}

export interface LoadResult {
  requests: number
  /** Each 2xx response's time, in milliseconds. */
  samples: number[]
  /** 2xx responses per second over the run. */
  rps: number
  p50: number
  p99: number
  max: number
  /** Anything but a 2xx, and socket errors or timeouts: a valid run has none. */
  failures: number
}

/** The q-quantile (0..1) of samples, nearest rank. */
export function quantile (samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number
}

export async function load (o: LoadOptions): Promise<LoadResult> {
  const samples: number[] = []
  const started = performance.now()
  let finished: (error: Error | null, result: autocannon.Result) => void = () => {}
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finished = (error, result) => { if (error === null || error === undefined) resolve(result); else reject(error) }
  })
  const instance = autocannon({
    url: o.url,
    method: o.method ?? 'GET',
    ...(o.body === undefined ? {} : { body: o.body, headers: { 'content-type': 'application/json' } }),
    connections: o.connections,
    pipelining: 1,
    reconnectRate: REQUESTS_PER_CONNECTION,
    timeout: 60,
    ...(o.rate === undefined ? {} : { overallRate: o.rate }),
    ...(o.amount !== undefined ? { amount: o.amount } : { duration: o.until === undefined ? o.duration ?? 5 : 3600 })
  }, (error, result) => { finished(error, result) })
  o.until?.finally(() => { instance.stop() }).catch(() => {})
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) samples.push(ms)
  })
  const result = await done
  const seconds = (performance.now() - started) / 1000
  return {
    requests: samples.length,
    samples,
    rps: samples.length / seconds,
    p50: quantile(samples, 0.5),
    p99: quantile(samples, 0.99),
    max: quantile(samples, 1),
    failures: result.non2xx + result.errors + result.timeouts
  }
}

/**
 * Runs measured in turns with others, as one: percentiles over every response of every run,
 * and the median run's req/s (a run that met a burst of other work on the machine moves it
 * least).
 */
export function combine (runs: readonly LoadResult[]): LoadResult {
  const samples = runs.flatMap(r => r.samples)
  const rates = runs.map(r => r.rps)
  return {
    requests: samples.length,
    samples,
    rps: quantile(rates, 0.5),
    p50: quantile(samples, 0.5),
    p99: quantile(samples, 0.99),
    max: quantile(samples, 1),
    failures: runs.reduce((n, r) => n + r.failures, 0)
  }
}

/** Times `fn` `rounds` times back to back (milliseconds each). */
export function timeSync (fn: () => unknown, rounds: number): number[] {
  const samples: number[] = []
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now()
    fn()
    samples.push(performance.now() - t0)
  }
  return samples
}
