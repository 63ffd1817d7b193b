// The HTTP shell around the pure hooks: routing, envelope validation, errors, logs and metrics.
// Decisions live in ../core; nothing here changes what the operator decides.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest, LogController } from 'fastify'
import { STATUS_CODES } from 'node:http'
import { MAX_OBJECT_DEPTH } from '../core/children.js'
import type { HookConfig } from '../core/config.js'
import { customize, finalize, sync } from '../core/hooks.js'
import { tooDeep } from '../core/k8s.js'
import {
  type CustomizeRequest, CustomizeRequestSchema, type CustomizeResponse, type SyncRequest, SyncRequestSchema, type SyncResponse
} from '../core/metacontroller.js'
import { createMetrics, type HookMetrics } from './metrics.js'

export interface AppOptions {
  hooks: HookConfig
  bodyLimit: number
  logLevel?: string
  /** The only clock the hooks see; tests pass a fixed one. */
  now?: () => Date
}

type HookName = 'customize' | 'sync' | 'finalize'

interface HookOutcome { parent: string, decision: string }

function describeSync (res: SyncResponse): string {
  const finalized = res.finalized === undefined ? '' : ` finalized=${res.finalized}`
  return `phase=${res.status.phase ?? 'unknown'} children=${res.children.length}${finalized}`
}

function describeCustomize (res: CustomizeResponse): string {
  return `related=${res.relatedResources.map(r => r.resource).join(',')}`
}

/** `body/parent/metadata` + missing `name` → `parent.metadata.name`. */
function fieldOf (error: FastifyError): string {
  const first = error.validation?.[0]
  if (first === undefined) return 'body'
  const missing = (first.params as { missingProperty?: string } | undefined)?.missingProperty
  // instancePath is a JSON pointer: "/" inside a key (DaemonSet.apps/v1) is escaped as "~1".
  const segments = first.instancePath.split('/').filter(p => p !== '').map(p => p.replaceAll('~1', '/').replaceAll('~0', '~'))
  const path = [...segments, ...(missing === undefined ? [] : [missing])]
  return path.length === 0 ? 'body' : path.join('.')
}

/**
 * Observed children are echoed back when the spec is invalid, so they must be serializable:
 * no Kubernetes object nests anywhere near MAX_OBJECT_DEPTH, and JSON.stringify overflows the
 * stack a little past 1,000 levels.
 */
function tooDeepChild (body: SyncRequest): { field: string, message: string } | undefined {
  for (const [kind, group] of Object.entries(body.children ?? {})) {
    for (const [name, child] of Object.entries(group)) {
      const path = tooDeep(child, MAX_OBJECT_DEPTH)
      if (path !== undefined) {
        const field = ['children', kind, name, ...path].join('.')
        return { field, message: `${field}: nested deeper than ${MAX_OBJECT_DEPTH} levels, which no Kubernetes object is` }
      }
    }
  }
  return undefined
}

export function buildApp (options: AppOptions): { app: FastifyInstance, metrics: HookMetrics } {
  const now = options.now ?? (() => new Date())
  const metrics = createMetrics()
  const app = Fastify({
    bodyLimit: options.bodyLimit,
    // fastify's ajv coerces types by default ("true" and 1 pass as booleans, 5 as a name): a
    // Metacontroller request is JSON with real types, and anything else is a bad request.
    ajv: { customOptions: { coerceTypes: false } },
    logger: { level: options.logLevel ?? 'info' },
    // One line per hook call, written below, instead of fastify's two lines per request.
    logController: new LogController({ disableRequestLogging: true })
  }).withTypeProvider<TypeBoxTypeProvider>()

  const outcomes = new WeakMap<FastifyRequest, HookOutcome>()

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation !== undefined) {
      return reply.code(400).send({ statusCode: 400, error: 'Bad Request', field: fieldOf(error), message: error.message })
    }
    const code = error.statusCode ?? 500
    if (code >= 400 && code < 500) {
      // Malformed JSON, wrong content type, body too large: the client's fault, said plainly.
      return reply.code(code).send({ statusCode: code, error: STATUS_CODES[code] ?? 'Bad Request', code: error.code, message: error.message })
    }
    request.log.error({ err: error }, 'hook failed')
    // 500 makes Metacontroller retry with backoff; it never applies a partial answer.
    return reply.code(500).send({ statusCode: 500, error: 'Internal Server Error', message: 'the hook failed; Metacontroller will retry' })
  })

  app.addHook('onResponse', async (request, reply) => {
    const hook = request.routeOptions.config as { hook?: HookName }
    if (hook.hook === undefined) return
    const seconds = reply.elapsedTime / 1000
    metrics.requests.inc({ hook: hook.hook, code: String(reply.statusCode) })
    metrics.duration.observe({ hook: hook.hook }, seconds)
    const outcome = outcomes.get(request)
    request.log.info({
      hook: hook.hook,
      parent: outcome?.parent,
      decision: outcome?.decision ?? `rejected with ${reply.statusCode}`,
      statusCode: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 100) / 100
    }, `${hook.hook} hook`)
  })

  app.post('/customize', { schema: { body: CustomizeRequestSchema }, config: { hook: 'customize' } }, async request => {
    const body = request.body as CustomizeRequest
    const res = customize(body, options.hooks)
    outcomes.set(request, { parent: body.parent.metadata.name, decision: describeCustomize(res) })
    return res
  })

  for (const [path, hook] of [['/sync', sync], ['/finalize', finalize]] as const) {
    app.post(path, { schema: { body: SyncRequestSchema }, config: { hook: path.slice(1) as HookName } }, async (request, reply) => {
      const body = request.body as SyncRequest
      const deep = tooDeepChild(body)
      if (deep !== undefined) return await reply.code(400).send({ statusCode: 400, error: 'Bad Request', ...deep })
      const res = hook(body, options.hooks, now())
      outcomes.set(request, { parent: body.parent.metadata.name, decision: describeSync(res) })
      return res
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
