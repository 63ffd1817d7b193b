// The HTTP shell around the pure hooks: routing, limits, errors, logs and metrics. Hook calls
// are answered by worker threads (pool.ts, answer.ts), so the event loop here only moves bytes
// and keeps /healthz answering however big a sync is; only bodies too small to stall it (pool.ts,
// INLINE_MAX_BYTES) are answered here. Decisions live in ../core.
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest, LogController } from 'fastify'
import pino from 'pino'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { HookConfig } from '../core/config.js'
import { fieldError } from '../core/schemaerror.js'
import { readBody } from './body.js'
import { badRequest, defaultLimits, type HookAnswer, type HookName } from './answer.js'
import { DEFAULT_SERVER_LIMITS, type ServerLimits } from './config.js'
import { createMetrics, type HookMetrics } from './metrics.js'
import { HookPool, INLINE_MAX_BYTES, workerHeapLimitMb } from './pool.js'

interface AppOptions {
  hooks: HookConfig
  bodyLimit: number
  logLevel?: string
  /** Where log lines go; pino's default (stdout, a write per line) where not given. main.ts passes logDestination(). */
  logStream?: pino.DestinationStream
  /** Timeouts, connection and concurrency caps; DEFAULT_SERVER_LIMITS where not given. */
  limits?: Partial<ServerLimits>
  /** The only clock the hooks see; tests pass a fixed one. */
  now?: () => Date
  /** The hook worker module (pool.ts); tests pass one that holds each job. */
  workerUrl?: URL
}

/** One hook call's hold on an in-flight slot. */
interface Call {
  /** For work sent to the pool: aborted when the client's connection closes, which drops it if still queued. */
  abort?: AbortController
  /** With the worker pool. */
  working: boolean
  closed: boolean
  released: boolean
}

/** Bodies of the routes that are not hooks: none of them takes one. */
const OTHER_BODY_LIMIT = 1024

const HOOKS: readonly HookName[] = ['customize', 'sync', 'finalize', 'node-customize', 'node-sync']

/**
 * The server's log lines, on stdout: gathered up to 4 KiB and written at least every 250 ms,
 * and at once when the process exits (pino flushes on exit). pino's default writes each line
 * on its own: a write to the container runtime's pipe and a wake-up of its reader for every
 * hook call, about 5 % of the time of a 10-node sync in a CPU profile (deciding the sync: 8 %;
 * npm run bench -- --cpu-prof). A line reaches `kubectl logs` at most a quarter of a second
 * later; only a SIGKILL (an OOM kill) can lose the last quarter second.
 */
export function logDestination (): pino.DestinationStream {
  return pino.destination({ dest: 1, minLength: 4096, periodicFlush: 250 })
}

export function buildApp (options: AppOptions): { app: FastifyInstance, metrics: HookMetrics } {
  const now = options.now ?? (() => new Date())
  const limits: ServerLimits = { ...DEFAULT_SERVER_LIMITS, ...options.limits }
  const metrics = createMetrics()
  const app = Fastify({
    // Only the hook routes take big bodies (their own bodyLimit below): a body sent anywhere
    // else, a path that does not exist included, must not be buffered up to 32 MiB.
    bodyLimit: OTHER_BODY_LIMIT,
    // The whole request must arrive within this (node's server.requestTimeout; 408 after): a
    // slow upload cannot hold its buffered body for ever. Metacontroller gives up on a hook
    // after 30 s anyway.
    requestTimeout: limits.requestTimeoutMs,
    // fastify sets server.requestTimeout after creating the server, which node 20 ignores (a
    // slow upload was never cut off): the value must reach the constructor. node checks it
    // every connectionsCheckingInterval (30 s by default).
    http: { requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: 1000 },
    // Longer than Go's idle-connection timeout (90 s), so Metacontroller never reuses a
    // connection this side has just closed (Go does not retry a POST on it).
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Bounds one connection's life, so load spreads again over the replicas after a rollout.
    maxRequestsPerSocket: 1000,
    // No route has a body schema (the worker checks the envelope), but none may coerce types.
    ajv: { customOptions: { coerceTypes: false } },
    logger: { level: options.logLevel ?? 'info', ...(options.logStream === undefined ? {} : { stream: options.logStream }) },
    // One line per hook call, written below, instead of fastify's two lines per request.
    logController: new LogController({ disableRequestLogging: true })
  })
  capConnections(app, limits.maxConnections)

  const pool = new HookPool({
    workers: limits.hookWorkers,
    config: options.hooks,
    limits: defaultLimits(options.bodyLimit),
    deadlineMs: limits.requestTimeoutMs,
    workerUrl: options.workerUrl,
    // A test's own worker module sees every job, small ones included.
    inlineMaxBytes: options.workerUrl === undefined ? INLINE_MAX_BYTES : 0,
    heapLimitMb: workerHeapLimitMb(options.bodyLimit)
  })
  app.addHook('onClose', async () => { await pool.close() })

  const answers = new WeakMap<FastifyRequest, HookAnswer>()
  // A hook call holds its slot until both its client is gone and its work settled: released on
  // the socket's close alone, a client that hangs up right after its body left the body queued
  // in the pool and the slot free for the next one (40 such 31 MiB syncs passed 1 GiB of RSS).
  const calls = new WeakMap<FastifyRequest, Call>()
  let inFlight = 0
  const settle = (call: Call): void => {
    if (call.closed && !call.working && !call.released) {
      call.released = true
      inFlight--
    }
  }

  // Hook bodies reach the worker as bytes: parsing them here would stall this event loop.
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', (request, payload, done) => {
    readBody(request.headers, payload, request.routeOptions.bodyLimit, done)
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const code = error.statusCode ?? 500
    if (code >= 400 && code < 500) {
      // Wrong content type, body too large: the client's fault, said plainly.
      return reply.code(code).send({ statusCode: code, error: STATUS_CODES[code] ?? 'Bad Request', code: error.code, message: error.message })
    }
    request.log.error({ err: error }, 'request failed')
    return reply.code(500).send({ statusCode: 500, error: 'Internal Server Error', message: 'the hook failed; Metacontroller will retry' })
  })

  // Both hooks take a callback rather than return a promise: they run on every request, and an
  // async hook costs fastify a promise and its resolution each time.
  app.addHook('onRequest', (request, reply, done) => {
    const hook = (request.routeOptions.config as { hook?: HookName }).hook
    if (hook === undefined) {
      // No other route takes a body: refuse one before a byte of it is read, and close the
      // connection rather than read it to find the next request.
      if (!hasBody(request)) {
        done()
        return
      }
      const code = request.is404 ? 404 : 413
      reply.code(code).header('connection', 'close').send({
        statusCode: code,
        error: STATUS_CODES[code],
        message: request.is404 ? `Route ${request.method}:${request.url} not found` : `${request.method} ${request.routeOptions.url ?? request.url} takes no body`
      })
      return
    }
    // Each hook call holds its body (up to bodyLimit) until answered: past the cap, "retry
    // later" before a byte of the body is read.
    if (inFlight >= limits.maxHooksInFlight) {
      reply.code(503).header('retry-after', '1').send({ statusCode: 503, error: 'Service Unavailable', message: `${limits.maxHooksInFlight} hook calls are already in flight; retry later` })
      return
    }
    inFlight++
    const call: Call = { working: false, closed: false, released: false }
    calls.set(request, call)
    reply.raw.once('close', () => {
      call.closed = true
      // Only work still queued or running has anything to drop; aborting builds a DOMException
      // with its stack, which every answered call paid for nothing (npm run bench, --cpu-prof).
      if (call.working) call.abort?.abort()
      settle(call)
    })
    done()
  })

  app.addHook('onResponse', (request, reply, done) => {
    const hook = (request.routeOptions.config as { hook?: HookName }).hook
    if (hook !== undefined) {
      metrics.requests.inc({ hook, code: String(reply.statusCode) })
      metrics.duration.observe({ hook }, reply.elapsedTime / 1000)
      const answer = answers.get(request)
      request.log.info({
        hook,
        parent: answer?.parent,
        decision: answer?.decision ?? `rejected with ${reply.statusCode}`,
        statusCode: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 100) / 100
      }, `${hook} hook`)
    }
    done()
  })

  const run = async (request: FastifyRequest, hook: HookName, body: Buffer): Promise<HookAnswer> => {
    const job = { hook, body, nowMs: now().getTime() }
    const call = calls.get(request)
    // A body answered on this thread cannot be dropped half way: no signal needed.
    if (call === undefined || pool.answersInline(body)) return await pool.run(job)
    call.abort = new AbortController()
    call.working = true
    try {
      return await pool.run(job, call.abort.signal)
    } finally {
      call.working = false
      settle(call)
    }
  }

  for (const hook of HOOKS) {
    app.post(`/${hook}`, { config: { hook }, bodyLimit: options.bodyLimit }, async (request, reply) => {
      if (!Buffer.isBuffer(request.body)) {
        // text/plain and other bodies fastify parses as strings: not a Metacontroller request.
        const refused = badRequest(fieldError('body', 'must be an object'))
        return await reply.code(refused.statusCode).type('application/json; charset=utf-8').send(refused.payload)
      }
      // Counted before the pool moves the bytes to a worker (afterwards this view is empty).
      metrics.requestBytes.inc({ hook }, request.body.byteLength)
      const answer = await run(request, hook, request.body)
      answers.set(request, answer)
      if (answer.error !== undefined) request.log.error({ err: { message: answer.error } }, `${hook} hook failed`)
      return await reply.code(answer.statusCode).type('application/json; charset=utf-8').send(answer.payload)
    })
  }

  app.get('/healthz', async () => ({ status: 'ok' }))
  // The hooks hold no state and need nothing to start: ready as soon as we listen. While
  // closing, fastify itself answers 503 so the Service stops sending work here.
  app.get('/readyz', async () => ({ status: 'ready' }))
  app.get('/metrics', async (_request, reply) => {
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics())
  })

  return { app, metrics }
}

function hasBody (request: FastifyRequest): boolean {
  const length = request.headers['content-length']
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

/**
 * At most `max` connections. node's own server.maxConnections drops every new one once the cap
 * is reached, so 64 clients that each sent one request and went quiet held the server shut for
 * the whole keep-alive timeout, Metacontroller and the kubelet's probes included. Here a new
 * connection at the cap first closes the idle keep-alive ones (between requests, or connected
 * and silent); only if every connection is busy with a request is the new one refused.
 */
function capConnections (app: FastifyInstance, max: number): void {
  const open = new Set<Socket>()
  // Before node's own listener: the new socket is not among the idle ones it would close.
  app.server.prependListener('connection', (socket: Socket) => {
    if (open.size >= max) {
      app.server.closeIdleConnections()
      for (const s of open) if (s.destroyed) open.delete(s)
    }
    if (open.size >= max) {
      socket.destroy()
      return
    }
    open.add(socket)
    socket.once('close', () => { open.delete(socket) })
  })
}
