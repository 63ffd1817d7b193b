// Prometheus metrics: request counts and latency per hook, plus the process metrics prom-client
// collects. One registry per app so tests can build many apps side by side.
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client'

export interface HookMetrics {
  registry: Registry
  requests: Counter<'hook' | 'code'>
  duration: Histogram<'hook'>
  /** Request bytes per hook: what Metacontroller sends us, e.g. to size the Node decorator's traffic. */
  requestBytes: Counter<'hook'>
}

export function createMetrics (): HookMetrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  return {
    registry,
    requests: new Counter({
      name: 'gtp5g_hook_requests_total',
      help: 'Hook requests by hook and HTTP status code.',
      labelNames: ['hook', 'code'] as const,
      registers: [registry]
    }),
    duration: new Histogram({
      name: 'gtp5g_hook_duration_seconds',
      help: 'Time to answer a hook request, from the first byte received to the response sent.',
      labelNames: ['hook'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry]
    }),
    requestBytes: new Counter({
      name: 'gtp5g_hook_request_bytes_total',
      help: 'Bytes of hook request bodies received, by hook.',
      labelNames: ['hook'] as const,
      registers: [registry]
    })
  }
}
