// One hook call from request bytes to response text: parse, check the envelope, decide (the
// pure core), serialize. It runs in a worker thread (worker.ts) so that parsing a body of tens
// of MiB never stalls the event loop that answers /healthz; it does no I/O of its own.
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { parse as secureJsonParse } from 'secure-json-parse'
import { MAX_OBJECT_DEPTH } from '../core/children.js'
import type { HookConfig } from '../core/config.js'
import { customize, finalize, sync } from '../core/hooks.js'
import { nodeCustomize, nodeSync } from '../core/nodelabels.js'
import { isObject, tooDeep } from '../core/k8s.js'
import { type FieldError, fieldError, fieldName, schemaError } from '../core/schemaerror.js'
import { type CustomizeRequest, CustomizeRequestSchema, type CustomizeResponse, type NodeSyncRequest, NodeSyncRequestSchema, type NodeSyncResponse, type SyncRequest, SyncRequestSchema, type SyncResponse } from '../core/metacontroller.js'

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

/** A request that is not a Metacontroller request: 400, naming the field (schemaerror.ts words it). */
export const badRequest = ({ field, message }: FieldError): HookAnswer => json(400, { statusCode: 400, error: 'Bad Request', field, message })

/** `{` and `[` bytes, inside strings too: an upper bound of the containers JSON.parse will build, at memchr speed. */
function countContainers (bytes: Uint8Array, stopAfter: number): number {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let count = 0
  for (const byte of [0x7b, 0x5b]) {
    for (let at = buf.indexOf(byte); at !== -1 && count <= stopAfter; at = buf.indexOf(byte, at + 1)) count++
  }
  return count
}

/** The body as text, or the answer that refuses it before it is parsed. */
export type DecodedBody = { ok: true, text: string } | { ok: false, answer: HookAnswer }

/**
 * Decodes the body, refusing an empty one and one that would build too many containers. A
 * body of at most `maxContainers` bytes cannot hold more, so it is not counted (every sync of a
 * small cluster was).
 */
export function decodeBody (bytes: Uint8Array, limits: AnswerLimits): DecodedBody {
  if (bytes.byteLength === 0) return { ok: false, answer: badRequest(fieldError('body', 'required')) }
  if (bytes.byteLength > limits.maxContainers && countContainers(bytes, limits.maxContainers) > limits.maxContainers) {
    return {
      ok: false,
      answer: json(413, {
        statusCode: 413,
        error: 'Payload Too Large',
        code: 'TOO_MANY_OBJECTS',
        message: `the body holds more than ${limits.maxContainers} JSON objects and arrays (one per 16 bytes of BODY_LIMIT_BYTES); real requests hold one per ~84 bytes`
      })
    }
  }
  return { ok: true, text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') }
}

/**
 * Whether a key in `text` could spell `__proto__` or `constructor`. JSON can only write the
 * letters of either as themselves or as a `\u00XX` escape, so a text with neither name and no
 * such escape cannot hold one: for it JSON.parse builds exactly what secure-json-parse would,
 * without that library's two regular-expression passes over the whole text (in a CPU profile of
 * 10-node syncs, about an eighth of the parse). Any other text goes through secure-json-parse.
 */
export function mayHoldPrototypeKey (text: string): boolean {
  return text.includes('__proto__') || text.includes('constructor') || text.includes('\\u00')
}

/**
 * The body as fastify's own JSON parser reads it: secure-json-parse, which also refuses a
 * `__proto__` key or a `constructor` holding a `prototype`, however their names are escaped.
 */
export function parse (text: string): { ok: true, value: unknown } | { ok: false, answer: HookAnswer } {
  try {
    const value = mayHoldPrototypeKey(text)
      ? secureJsonParse(text, undefined, { protoAction: 'error', constructorAction: 'error' })
      // secure-json-parse allows a leading byte order mark, and so does this.
      : JSON.parse(text.charCodeAt(0) === 0xFEFF ? text.slice(1) : text)
    return { ok: true, value }
  } catch (err) {
    return { ok: false, answer: badRequest(fieldError('body', `is not valid JSON (${(err as Error).message})`)) }
  }
}

/**
 * Observed children are echoed back when the spec is invalid, so they must be serializable:
 * no Kubernetes object nests anywhere near MAX_OBJECT_DEPTH, and JSON.stringify overflows the
 * stack a little past 1,000 levels.
 */
function tooDeepChild (body: SyncRequest): FieldError | undefined {
  for (const [kind, group] of Object.entries(body.children ?? {})) {
    for (const [name, child] of Object.entries(group)) {
      const path = tooDeep(child, MAX_OBJECT_DEPTH)
      if (path !== undefined) {
        return fieldError(fieldName(body, ['children', kind, name, ...path]), `nested deeper than ${MAX_OBJECT_DEPTH} levels, which no Kubernetes object is`)
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
  const decoded = decodeBody(job.body, limits)
  return decoded.ok ? answerText(job.hook, decoded.text, job.nowMs, config) : decoded.answer
}

/** answerHook after decodeBody: the worker drops the bytes in between (worker.ts). */
export function answerText (hook: HookName, text: string, nowMs: number, config: HookConfig): HookAnswer {
  const parsed = parse(text)
  if (!parsed.ok) return parsed.answer
  let body = parsed.value
  // v2 object maps may be null when empty; the schema spells them as maps only.
  if (isObject(body)) {
    const { children, related, attachments, ...rest } = body
    body = { ...rest, ...(children === null ? {} : { children }), ...(related === null ? {} : { related }), ...(attachments === null ? {} : { attachments }) }
  }
  if (hook === 'node-customize' || hook === 'node-sync') return answerNodeHook(hook, body, config)
  const check = hook === 'customize' ? compiled.customize : compiled.sync
  if (!check.Check(body)) {
    const error = check.Errors(body).First()
    if (error !== undefined) return badRequest(schemaError(error, body))
  }
  const request = body as SyncRequest
  const deep = hook === 'customize' ? undefined : tooDeepChild(request)
  if (deep !== undefined) return badRequest(deep)
  const parent = request.parent.metadata.name
  try {
    if (hook === 'customize') {
      const res = customize(request, config)
      return { statusCode: 200, payload: JSON.stringify(res), parent, decision: describeCustomize(res) }
    }
    const res = (hook === 'sync' ? sync : finalize)(request, config, new Date(nowMs))
    return { statusCode: 200, payload: JSON.stringify(res), parent, decision: describeSync(res) }
  } catch (err) {
    // 500 makes Metacontroller retry with backoff; it never applies a partial answer.
    return { ...json(500, { statusCode: 500, error: 'Internal Server Error', message: 'the hook failed; Metacontroller will retry' }), parent, error: (err as Error).stack ?? String(err) }
  }
}

/** The Node decorator's hooks: the same envelope checks, answers from nodelabels.ts. */
function answerNodeHook (hook: 'node-customize' | 'node-sync', body: unknown, config: HookConfig): HookAnswer {
  const check = hook === 'node-customize' ? compiled.customize : compiled.nodeSync
  if (!check.Check(body)) {
    const error = check.Errors(body).First()
    if (error !== undefined) return badRequest(schemaError(error, body))
  }
  if (hook === 'node-customize') {
    const req = body as CustomizeRequest
    const res = nodeCustomize(req, config)
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
