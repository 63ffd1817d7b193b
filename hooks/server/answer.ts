// One hook call from request bytes to response text: parse, check the envelope, decide (the
// pure core), serialize. It runs in a worker thread (worker.ts) so that parsing a body of tens
// of MiB never stalls the event loop that answers /healthz; it does no I/O of its own.
import { TypeCompiler, type ValueError, ValueErrorType } from '@sinclair/typebox/compiler'
import { MAX_OBJECT_DEPTH } from '../core/children.js'
import type { HookConfig } from '../core/config.js'
import { customize, finalize, sync } from '../core/hooks.js'
import { nodeCustomize, nodeSync } from '../core/nodelabels.js'
import { tooDeep } from '../core/k8s.js'
import { CustomizeRequestSchema, type CustomizeResponse, type NodeSyncRequest, NodeSyncRequestSchema, type NodeSyncResponse, type SyncRequest, SyncRequestSchema, type SyncResponse } from '../core/metacontroller.js'

/** The CompositeController's hooks on GTP5GModules, and the Node DecoratorController's. */
export type HookName = 'customize' | 'sync' | 'finalize' | 'node-customize' | 'node-sync'

export interface HookJob {
  hook: HookName
  /** The raw body (application/json). */
  body: Uint8Array
  /** The hooks' clock, as epoch milliseconds. */
  nowMs: number
}

export interface HookAnswer {
  statusCode: number
  /** The JSON response body. */
  payload: string
  /** For the log line: the parent and what was decided. */
  parent?: string
  decision?: string
  /** A 500's cause, logged by the server, never sent. */
  error?: string
}

export interface AnswerLimits {
  /**
   * Most objects and arrays a body may hold. JSON.parse turns `{}` (2 bytes) into ~60 bytes of
   * heap, so a body of nothing but empty objects costs 20 times its size and minutes of garbage
   * collection; realistic requests hold one per ~84 bytes. Counted before parsing.
   */
  maxContainers: number
}

/** One object or array per 16 bytes: 5 times the density of real requests. */
export function defaultLimits (bodyLimit: number): AnswerLimits {
  return { maxContainers: Math.floor(bodyLimit / 16) }
}

const compiled = {
  sync: TypeCompiler.Compile(SyncRequestSchema),
  customize: TypeCompiler.Compile(CustomizeRequestSchema),
  nodeSync: TypeCompiler.Compile(NodeSyncRequestSchema)
}

const json = (statusCode: number, body: Record<string, unknown>): HookAnswer => ({ statusCode, payload: JSON.stringify(body) })
const badRequest = (body: Record<string, unknown>): HookAnswer => json(400, { statusCode: 400, error: 'Bad Request', ...body })

/** `{` and `[` bytes, inside strings too: an upper bound of the containers JSON.parse will build, at memchr speed. */
function countContainers (bytes: Uint8Array, stopAfter: number): number {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let count = 0
  for (const byte of [0x7b, 0x5b]) {
    for (let at = buf.indexOf(byte); at !== -1 && count <= stopAfter; at = buf.indexOf(byte, at + 1)) count++
  }
  return count
}

/**
 * fastify's JSON parsing (secure-json-parse with protoAction and constructorAction "error"):
 * a `__proto__` key, or a `constructor` holding a `prototype`, refuses the body.
 */
function poisoned (value: unknown): boolean {
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v !== 'object' || v === null) continue
    if (!Array.isArray(v)) {
      if (Object.hasOwn(v, '__proto__')) return true
      const ctor = (v as Record<string, unknown>).constructor
      if (Object.hasOwn(v, 'constructor') && typeof ctor === 'object' && ctor !== null && Object.hasOwn(ctor, 'prototype')) return true
    }
    for (const child of Object.values(v)) stack.push(child)
  }
  return false
}

function parse (bytes: Uint8Array): { ok: true, value: unknown } | { ok: false, answer: HookAnswer } {
  if (bytes.byteLength === 0) {
    return { ok: false, answer: badRequest({ code: 'FST_ERR_CTP_EMPTY_JSON_BODY', message: 'Body cannot be empty when content-type is set to \'application/json\'' }) }
  }
  let text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
  if (text.charCodeAt(0) === 0xFEFF) text = text.slice(1)
  try {
    const value: unknown = JSON.parse(text)
    if ((text.includes('"__proto__"') || text.includes('"constructor"')) && poisoned(value)) throw new Error('poisoned')
    return { ok: true, value }
  } catch {
    return { ok: false, answer: badRequest({ code: 'FST_ERR_CTP_INVALID_JSON_BODY', message: 'Body is not valid JSON but content-type is set to \'application/json\'' }) }
  }
}

/** What an envelope error says, in ajv's words (the 400s fastify gave before the worker). */
function describe (error: ValueError): { field: string, message: string } {
  // A JSON pointer: "/" inside a key ("DaemonSet.apps/v1") is escaped as "~1".
  const path = error.path.split('/').slice(1).map(p => p.replaceAll('~1', '/').replaceAll('~0', '~'))
  const field = path.length === 0 ? 'body' : path.join('.')
  const at = path.length === 0 ? 'body' : `body/${path.slice(0, -1).join('/')}`.replace(/\/$/, '')
  const missing = path.at(-1)
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty: return { field, message: `${at} must have required property '${missing ?? ''}'` }
    case ValueErrorType.Object: return { field, message: `${field === 'body' ? 'body' : `body/${path.join('/')}`} must be object` }
    case ValueErrorType.String: return { field, message: `body/${path.join('/')} must be string` }
    case ValueErrorType.Boolean: return { field, message: `body/${path.join('/')} must be boolean` }
    case ValueErrorType.StringMinLength: return { field, message: `body/${path.join('/')} must NOT have fewer than 1 characters` }
    default: return { field, message: `body/${path.join('/')} ${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}` }
  }
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

function describeSync (res: SyncResponse): string {
  const finalized = res.finalized === undefined ? '' : ` finalized=${res.finalized}`
  return `phase=${res.status.phase ?? 'unknown'} children=${res.children.length}${finalized}`
}

function describeNodeSync (res: NodeSyncResponse): string {
  return Object.entries(res.labels).map(([k, v]) => `${k}=${v ?? '(removed)'}`).join(' ')
}

function describeCustomize (res: CustomizeResponse): string {
  return `related=${res.relatedResources.map(r => r.resource).join(',')}`
}

export function answerHook (job: HookJob, config: HookConfig, limits: AnswerLimits): HookAnswer {
  const containers = countContainers(job.body, limits.maxContainers)
  if (containers > limits.maxContainers) {
    return json(413, {
      statusCode: 413,
      error: 'Payload Too Large',
      code: 'TOO_MANY_OBJECTS',
      message: `the body holds more than ${limits.maxContainers} JSON objects and arrays (one per 16 bytes of BODY_LIMIT_BYTES); real requests hold one per ~84 bytes`
    })
  }
  const parsed = parse(job.body)
  if (!parsed.ok) return parsed.answer
  let body = parsed.value
  // v2 object maps may be null when empty; the schema spells them as maps only.
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const { children, related, attachments, ...rest } = body as Record<string, unknown>
    body = { ...rest, ...(children === null ? {} : { children }), ...(related === null ? {} : { related }), ...(attachments === null ? {} : { attachments }) }
  }
  if (job.hook === 'node-customize' || job.hook === 'node-sync') return answerNodeHook(job.hook, body)
  const check = job.hook === 'customize' ? compiled.customize : compiled.sync
  if (!check.Check(body)) {
    const error = check.Errors(body).First()
    if (error !== undefined) return badRequest(describe(error))
  }
  const request = body as SyncRequest
  const deep = job.hook === 'customize' ? undefined : tooDeepChild(request)
  if (deep !== undefined) return badRequest(deep)
  const parent = request.parent.metadata.name
  try {
    if (job.hook === 'customize') {
      const res = customize(request, config)
      return { statusCode: 200, payload: JSON.stringify(res), parent, decision: describeCustomize(res) }
    }
    const res = (job.hook === 'sync' ? sync : finalize)(request, config, new Date(job.nowMs))
    return { statusCode: 200, payload: JSON.stringify(res), parent, decision: describeSync(res) }
  } catch (err) {
    // 500 makes Metacontroller retry with backoff; it never applies a partial answer.
    return { ...json(500, { statusCode: 500, error: 'Internal Server Error', message: 'the hook failed; Metacontroller will retry' }), parent, error: (err as Error).stack ?? String(err) }
  }
}

/** The Node decorator's hooks: the same envelope checks, answers from nodelabels.ts. */
function answerNodeHook (hook: 'node-customize' | 'node-sync', body: unknown): HookAnswer {
  const check = hook === 'node-customize' ? compiled.customize : compiled.nodeSync
  if (!check.Check(body)) {
    const error = check.Errors(body).First()
    if (error !== undefined) return badRequest(describe(error))
  }
  if (hook === 'node-customize') {
    const req = body as { parent: { metadata: { name: string } } }
    const res = nodeCustomize()
    return { statusCode: 200, payload: JSON.stringify(res), parent: req.parent.metadata.name, decision: describeCustomize(res) }
  }
  const req = body as NodeSyncRequest
  try {
    const res = nodeSync(req)
    return { statusCode: 200, payload: JSON.stringify(res), parent: req.object.metadata.name, decision: describeNodeSync(res) }
  } catch (err) {
    return { ...json(500, { statusCode: 500, error: 'Internal Server Error', message: 'the hook failed; Metacontroller will retry' }), parent: req.object.metadata.name, error: (err as Error).stack ?? String(err) }
  }
}
