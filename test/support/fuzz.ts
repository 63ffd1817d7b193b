// Structure-aware fuzzing of the hook routes: realistic Metacontroller requests (hookfixtures.ts),
// then a few mutations at random places — drop, retype, duplicate, deepen, enlarge, prototype
// keys — posted through app.inject. Every case is derived from one 32-bit seed, so a failure is
// reproduced by its seed alone. Used by test/hooks/fuzz.test.ts (CI) and bench/fuzz.ts (`npm run fuzz`).
import { isDeepStrictEqual } from 'node:util'
import { daemonSetName, LABEL_TEMPLATE_HASH } from '../../contract/index.js'
import { isObject, type KubeObject } from '../../hooks/core/k8s.js'
import { DAEMONSET_KEY, LAST_APPLIED_ANNOTATION } from '../../hooks/core/metacontroller.js'
import type { buildApp } from '../../hooks/server/app.js'
import { CONFIG, controller, currentTemplateHash, gtp5gModule, node, observedDaemonSet, pod, type PodState, syncRequest } from './hookfixtures.js'

type App = ReturnType<typeof buildApp>['app']
type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/** mulberry32: small, fast, and the same sequence everywhere for a seed. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

class Rand {
  readonly next: () => number
  constructor (seed: number) { this.next = prng(seed) }
  int (n: number): number { return Math.floor(this.next() * n) }
  chance (p: number): boolean { return this.next() < p }
  pick<T> (xs: readonly T[]): T { return xs[this.int(xs.length)] as T }
}

export type Route = '/sync' | '/finalize' | '/customize'

export interface FuzzCase {
  seed: number
  route: Route
  /** The request body as sent (JSON text, possibly not valid JSON after a raw mutation). */
  payload: string
  /** What was done to the realistic request, for the reproduction message. */
  mutations: string[]
  /** The request before serialization, to check the answer against (undefined for raw text). */
  request: Record<string, Json>
}

const SPECS: Array<Record<string, Json>> = [
  {},
  { nodeSelector: { site: 'edge' } },
  { nodeSelector: {} },
  { tolerations: [{ key: 'upf', operator: 'Exists', effect: 'NoSchedule' }, { operator: 'Exists' }] },
  { image: 'registry.example/installer@sha256:' + 'e'.repeat(64), source: { url: 'https://mirror.example/gtp5g-{version}.tgz', sha256: 'a'.repeat(64) } },
  { maxUnavailable: '25%', kernelVersion: '5.15.0-91-generic' },
  { unloadOnDelete: false },
  { btf: true },
  { version: 'latest' },
  { maxUnavailable: 0 }
]

const STATES: PodState[] = ['ready', 'running', 'creating', { waiting: 'ImagePullBackOff' }, { crashed: 'BuildFailed', message: 'error: x' }, { terminated: 'ModuleInUse', message: 'in use' }, { exited: 2 }]

/** A realistic request: a module (maybe deleting, maybe with a previous status), nodes, pods, an observed DaemonSet, other modules. */
function realistic (r: Rand, route: Route): Record<string, Json> {
  const spec = { version: 'v0.9.14', ...r.pick(SPECS) }
  const deleting = route === '/finalize' || r.chance(0.15)
  const parent = gtp5gModule({ spec, ...(deleting ? { deletionTimestamp: r.pick(['2026-11-20T09:58:00Z', '2026-11-01T00:00:00Z', 'not a date']) } : {}) })
  if (route === '/customize') return JSON.parse(JSON.stringify({ controller, parent })) as Record<string, Json>
  const nodes = Array.from({ length: r.int(4) }, (_, i) => node(`node-${i}`, r.chance(0.8) ? { 'gtp5g.gthulhu.io/enabled': 'true', site: 'edge' } : { other: 'x' },
    r.chance(0.2) ? [{ key: 'upf', effect: 'NoSchedule' }] : []))
  const hash = templateHashOr({ nodes, parent }, 'oldhash')
  const pods = nodes.filter(() => r.chance(0.8)).map(n => pod(n.metadata?.name ?? '', r.chance(0.8) ? hash : 'oldhash', r.pick(STATES)))
  const older = r.chance(0.3) ? [gtp5gModule({ name: 'older', created: '2026-11-01T00:00:00Z', spec: { version: 'v0.9.14', nodeSelector: { site: 'edge' } } })] : []
  const children: KubeObject[] = []
  if (r.chance(0.7)) {
    const desired = syncRequestChild(nodes)
    const observed = observedDaemonSet(desired)
    if (r.chance(0.5)) observed.metadata = { ...observed.metadata, annotations: { [LAST_APPLIED_ANNOTATION]: JSON.stringify(desired) } }
    children.push(observed)
  }
  const request = syncRequest({ parent, nodes, pods, modules: [...older, parent], children, finalizing: deleting && route === '/sync' ? r.chance(0.5) : route === '/finalize' })
  if (r.chance(0.4)) (request.parent as Record<string, unknown>).status = { phase: 'Installing', conditions: [{ type: 'Ready', status: 'False', reason: 'Installing', message: 'm', lastTransitionTime: '2026-11-20T09:00:00Z' }], lastUpdateTime: '2026-11-20T09:00:00Z' }
  return JSON.parse(JSON.stringify(request)) as Record<string, Json>
}

function syncRequestChild (nodes: ReturnType<typeof node>[]): KubeObject {
  const hash = templateHashOr({ nodes }, 'oldhash')
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: daemonSetName('sample'), namespace: CONFIG.targetNamespace, labels: { 'gtp5g.gthulhu.io/module': 'sample' } },
    spec: { selector: { matchLabels: { 'gtp5g.gthulhu.io/module': 'sample' } }, template: { metadata: { labels: { [LABEL_TEMPLATE_HASH]: hash } }, spec: { containers: [{ name: 'installer', image: CONFIG.installerImage }] } } }
  }
}

function templateHashOr (parts: Parameters<typeof currentTemplateHash>[0], fallback: string): string {
  try { return currentTemplateHash(parts) } catch { return fallback }
}

type Container = Json[] | { [key: string]: Json }
interface Slot { parent: Container, key: string | number, path: string }

const isContainer = (v: Json | undefined): v is Container => v !== null && typeof v === 'object'

/** Hot spots get most mutations: specs, statuses, pod states, names, observed children. */
const HOT = new Set(['spec', 'status', 'metadata', 'children', 'related', 'containerStatuses', 'state', 'lastState', 'terminated', 'waiting',
  'labels', 'annotations', 'taints', 'tolerations', 'nodeSelector', 'name', 'namespace', 'conditions', 'source', 'maxUnavailable',
  'creationTimestamp', 'deletionTimestamp', 'generation', 'message', 'reason', 'nodeName', 'failedNodes', 'installedNodes', 'phase', 'image', 'version'])

/**
 * A random place in the tree, found by walking down from the root: at each level stop here or
 * go on into a child, preferring the fields the hooks read. Cheaper than listing every place.
 */
function randomSlot (r: Rand, root: Container): Slot {
  let parent: Container = root
  let path = ''
  for (let depth = 0; ; depth++) {
    const keys: Array<string | number> = Array.isArray(parent) ? parent.map((_, i) => i) : Object.keys(parent)
    if (keys.length === 0) return { parent, key: Array.isArray(parent) ? 0 : 'x', path: `${path}.x` }
    const hot = keys.filter(k => typeof k === 'number' || HOT.has(k))
    const key = hot.length > 0 && r.chance(0.8) ? r.pick(hot) : r.pick(keys)
    const here = `${path}${typeof key === 'number' ? `[${key}]` : `.${key}`}`
    const child = (parent as Record<string | number, Json>)[key]
    // Rarely the envelope itself (that is a 400 and tells little), mostly what the hooks read.
    if (!isContainer(child) || r.chance(depth < 2 ? 0.03 : 0.25)) return { parent, key, path: here }
    parent = child
    path = here
  }
}

/** Placeholders replaced in the JSON text, so nesting far deeper than JSON.stringify could write is cheap. */
const DEEP = '\u0000deep:'

function scalar (r: Rand): Json {
  return r.pick<Json>([null, true, false, 0, -1, 1, 1.5, 1e308, -0, 2 ** 53 + 2, '', 'x', 'true', '1', '0%', '150%', ' ', '\u0000', 'a'.repeat(300), '$(shell id)', 'v0.9.14', '{version}', 'ftp://x', '__proto__'])
}

function anyValue (r: Rand, depth = 0): Json {
  const k = depth > 2 ? 0 : r.int(4)
  if (k === 0) return scalar(r)
  if (k === 1) return Array.from({ length: r.int(3) }, () => anyValue(r, depth + 1))
  if (k === 2) return Object.fromEntries(Array.from({ length: r.int(3) }, () => [r.pick(['a', 'name', 'key', 'status', 'metadata', 'spec', 'type']), anyValue(r, depth + 1)]))
  return {}
}

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__']

function mutate (r: Rand, root: Record<string, Json>, log: string[]): void {
  const { parent, key, path } = randomSlot(r, root)
  const get = (): Json => (parent as Record<string | number, Json>)[key] as Json
  const set = (v: Json): void => { (parent as Record<string | number, Json>)[key] = v }
  switch (r.int(7)) {
    case 0: // drop
      if (Array.isArray(parent)) parent.splice(key as number, 1)
      else delete parent[key as string]
      log.push(`drop ${path}`)
      return
    case 1: { // retype
      const v = anyValue(r)
      set(v)
      log.push(`retype ${path} = ${JSON.stringify(v)?.slice(0, 60)}`)
      return
    }
    case 2: { // duplicate a subtree somewhere else
      const other = randomSlot(r, root)
      const copy = (other.parent as Record<string | number, Json>)[other.key]
      set(copy === undefined ? null : structuredClone(copy))
      log.push(`duplicate ${other.path} → ${path}`)
      return
    }
    case 3: { // deepen
      const depth = r.pick([2, 10, 100, 1000, 5_000, 20_000])
      if (depth > 1000) set(`${DEEP}${depth}:${r.chance(0.5) ? '[' : 'o'}`)
      else {
        let v = get()
        for (let i = 0; i < depth; i++) v = r.chance(0.5) ? [v] : { a: v }
        set(v)
      }
      log.push(`deepen ${path} by ${depth}`)
      return
    }
    case 4: { // enlarge
      const v = get()
      if (Array.isArray(v) && v.length > 0) {
        // At most a few thousand elements and about a megabyte: the point is many of a kind,
        // not the parse time of a big body (the scale tests and the soak cover that).
        const bytes = JSON.stringify(v).length
        const times = Math.max(2, Math.min(Math.floor(r.pick([10, 200, 2000]) / v.length), Math.floor(1_000_000 / bytes)))
        set(Array.from({ length: v.length * times }, (_, i) => structuredClone(v[i % v.length] as Json)))
        log.push(`enlarge ${path} ×${times}`)
      } else if (typeof v === 'string') {
        const n = r.pick([1000, 100_000])
        set(v.repeat(Math.max(1, Math.ceil(n / Math.max(1, v.length)))).slice(0, n) || 'x'.repeat(n))
        log.push(`lengthen ${path} to ${n}`)
      } else {
        set(Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, `v${i}`])))
        log.push(`enlarge ${path} into a 500-key map`)
      }
      return
    }
    case 5: { // a prototype key, as an own property so that it is serialized
      const target = get()
      const obj = isObject(target) ? target : parent
      if (Array.isArray(obj)) return
      const k = r.pick(PROTO_KEYS)
      const v = r.chance(0.5) ? anyValue(r) : { polluted: true }
      Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true })
      log.push(`prototype key ${k} in ${path}`)
      return
    }
    default: { // swap two siblings' values (object keys or array order)
      const v = get()
      if (Array.isArray(v) && v.length > 1) { v.reverse(); log.push(`reverse ${path}`) } else { set(scalar(r)); log.push(`scalar ${path}`) }
    }
  }
}

function serialize (request: Record<string, Json>): string {
  return JSON.stringify(request).replace(/"\\u0000deep:(\d+):(.)"/g, (_, n: string, kind: string) => {
    const depth = Number(n)
    return kind === '[' ? '['.repeat(depth) + '1' + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
  })
}

const ROUTES: Route[] = ['/sync', '/sync', '/finalize', '/customize']

/**
 * Realistic requests are built once per (route, variant) and cloned per case: building one runs
 * the hooks (for the template hash), which would cost more than the case itself.
 */
const VARIANTS = 48
const bases = new Map<string, string>()
function baseRequest (route: Route, variant: number): Record<string, Json> {
  const key = `${route}#${variant}`
  let text = bases.get(key)
  if (text === undefined) {
    text = JSON.stringify(realistic(new Rand(0x9e3779b9 ^ (variant * 7919) ^ route.length), route))
    bases.set(key, text)
  }
  return JSON.parse(text) as Record<string, Json>
}

export function fuzzCase (seed: number): FuzzCase {
  const r = new Rand(seed)
  const route = r.pick(ROUTES)
  const request = baseRequest(route, r.int(VARIANTS))
  const mutations: string[] = []
  const count = r.pick([0, 1, 1, 2, 2, 3, 5])
  for (let i = 0; i < count; i++) mutate(r, request, mutations)
  let payload = serialize(request)
  if (r.chance(0.01)) { payload = payload.slice(0, r.int(payload.length)); mutations.push('truncate the JSON text') }
  return { seed, route, payload, mutations, request }
}

/** The observed DaemonSets of a request: name → object. */
function observedChildren (request: Record<string, Json>): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>()
  const group = isObject(request.children) ? request.children[DAEMONSET_KEY] : undefined
  if (!isObject(group)) return out
  for (const child of Object.values(group)) {
    const name = isObject(child) && isObject(child.metadata) ? child.metadata.name : undefined
    if (typeof name === 'string') out.set(name, child as Record<string, unknown>)
  }
  return out
}

/** What schemaerror.ts says of a kind of schema error it has no words for. */
const UNWORDED = 'does not match the schema ('

/** What is wrong with an answer, or undefined. The rules the issue asks for: no 5xx, children kept. */
export function checkAnswer (c: FuzzCase, statusCode: number, body: string): string | undefined {
  if (statusCode >= 500) return `answered ${statusCode}: ${body.slice(0, 300)}`
  let parsed: unknown
  try { parsed = JSON.parse(body) } catch { return `answered ${statusCode} with a body that is not JSON: ${body.slice(0, 200)}` }
  if (statusCode !== 200) {
    if (statusCode !== 400 && statusCode !== 413 && statusCode !== 415) return `unexpected status ${statusCode}: ${body.slice(0, 300)}`
    if (!isObject(parsed) || typeof parsed.message !== 'string') return `a ${statusCode} without a message: ${body.slice(0, 200)}`
    if (statusCode === 400) {
      // Our one wording (hooks/core/schemaerror.ts): the field, then what is wrong in our words.
      if (typeof parsed.field !== 'string' || !parsed.message.startsWith(`${parsed.field}: `)) return `a 400 that does not name its field first: ${body.slice(0, 200)}`
      if (parsed.message.includes(UNWORDED)) return `a 400 in no words of ours: ${body.slice(0, 200)}`
    }
    return undefined
  }
  if (!isObject(parsed)) return 'a 200 whose body is not an object'
  // The installer's pods, the nodes, every module, the scheduling agent's pods, and each scheduling rule's pods.
  if (c.route === '/customize') return Array.isArray(parsed.relatedResources) && parsed.relatedResources.length >= 4 ? undefined : `customize answered ${body.slice(0, 200)}`
  if (!isObject(parsed.status) || !Array.isArray(parsed.children)) return `sync answered without status or children: ${body.slice(0, 200)}`
  if (parsed.finalized === true) return undefined // the parent is going away: Metacontroller deletes nothing it still needs
  const returned = new Set(parsed.children.map(ch => isObject(ch) && isObject(ch.metadata) ? ch.metadata.name : undefined))
  const parentName = isObject(c.request.parent) && isObject(c.request.parent.metadata) ? c.request.parent.metadata.name : undefined
  // What the server saw: the JSON text, not the object it was written from (-0 is written as 0).
  let sent: Record<string, Json> | undefined
  for (const [name] of observedChildren(c.request)) {
    // Only a child that is ours (the name the module's DaemonSet has) must survive: Metacontroller
    // deletes every observed child the answer leaves out.
    if (typeof parentName !== 'string' || name !== daemonSetName(parentName)) continue
    if (!returned.has(name)) return `observed child ${name} was dropped (returned ${JSON.stringify([...returned])})`
    const degraded = (parsed.status.conditions as Array<Record<string, unknown>> | undefined)?.find(x => x?.type === 'Degraded')
    if (degraded?.reason === 'InvalidSpec' || degraded?.reason === 'PolicyDenied') {
      if (typeof degraded.message === 'string' && degraded.message.includes(UNWORDED)) return `an ${String(degraded.reason)} condition in no words of ours: ${degraded.message}`
      const kept = parsed.children.find(ch => isObject(ch) && isObject(ch.metadata) && ch.metadata.name === name) as Record<string, unknown>
      sent ??= JSON.parse(c.payload) as Record<string, Json>
      const observed = observedChildren(sent).get(name) ?? {}
      for (const field of ['apiVersion', 'kind'] as const) {
        if (!isDeepStrictEqual(kept[field], observed[field])) return `the child kept for an invalid spec has ${field} ${JSON.stringify(kept[field])}, the observed one ${JSON.stringify(observed[field])}`
      }
      if (!isDeepStrictEqual((kept.metadata as Record<string, unknown>).namespace, (observed.metadata as Record<string, unknown>).namespace)) return 'the child kept for an invalid spec is in another namespace than the observed one'
    }
  }
  return undefined
}

export interface CaseResult { failure?: string, statusCode?: number }

export async function runCase (app: App, c: FuzzCase): Promise<CaseResult> {
  try {
    const res = await app.inject({ method: 'POST', url: c.route, headers: { 'content-type': 'application/json' }, payload: c.payload })
    const failure = checkAnswer(c, res.statusCode, res.body)
    return failure === undefined ? { statusCode: res.statusCode } : { failure, statusCode: res.statusCode }
  } catch (error) {
    return { failure: `the server threw: ${(error as Error).stack ?? String(error)}` }
  }
}

/** How to replay one case, printed with every failure. */
export function reproduction (c: FuzzCase): string {
  return `seed ${c.seed} → ${c.route} after [${c.mutations.join('; ')}]\n  reproduce: npm run fuzz -- --seed ${c.seed} --cases 1 --print`
}
