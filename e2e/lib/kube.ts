// Small helpers over kubectl for the e2e scenarios: read objects as JSON and wait for a
// condition, failing with the last thing seen (a timeout that says nothing is useless).
import { parseAllDocuments } from 'yaml'
import type { Harness } from './harness.js'
import { sleep } from '../cluster/loopback.js'

export interface Obj {
  apiVersion?: string
  kind?: string
  metadata: { name: string, namespace?: string, uid?: string, labels?: Record<string, string>, annotations?: Record<string, string>, generation?: number, deletionTimestamp?: string, finalizers?: string[], ownerReferences?: Array<{ kind: string, name: string }> }
  spec?: any
  status?: any
}

export async function getJson (h: Harness, args: readonly string[]): Promise<Obj | undefined> {
  try {
    return JSON.parse(await h.kubectl(['get', ...args, '-o', 'json'])) as Obj
  } catch (error) {
    if (/NotFound|not found/.test((error as Error).message)) return undefined
    throw error
  }
}

export async function list (h: Harness, args: readonly string[]): Promise<Obj[]> {
  return (JSON.parse(await h.kubectl(['get', ...args, '-o', 'json'])) as { items: Obj[] }).items
}

/**
 * Checks every wait runs at each poll: one that returns a message ends the wait at once with it,
 * instead of at its timeout (the real-node suite's VM gone, say).
 */
export const waitGuards = new Set<() => string | undefined>()

/**
 * Polls `probe` until it returns something other than undefined, and returns that. On timeout
 * the error names `what` and shows the last value `describe` gave.
 */
export async function waitFor<T> (what: string, probe: () => Promise<T | undefined>, options: { timeoutMs?: number, intervalMs?: number, describe?: () => Promise<unknown> } = {}): Promise<T> {
  // Generous: CI runs this beside the qemu suite on two cores.
  const deadline = Date.now() + (options.timeoutMs ?? 180_000)
  let lastError: unknown
  while (Date.now() < deadline) {
    for (const guard of waitGuards) {
      const why = guard()
      if (why !== undefined) throw new Error(`gave up waiting for ${what}: ${why}`)
    }
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (error) {
      lastError = error
    }
    await sleep(options.intervalMs ?? 250)
  }
  const seen = options.describe === undefined ? undefined : await options.describe().catch((e: unknown) => String(e))
  throw new Error(`timed out waiting for ${what}` +
    (seen === undefined ? '' : `; last seen: ${JSON.stringify(seen, null, 1).slice(0, 3000)}`) +
    (lastError === undefined ? '' : `; last error: ${String(lastError)}`))
}

/** The GTP5GModule's status once `accept` says yes. */
export async function waitForModule (h: Harness, name: string, what: string, accept: (m: Obj) => boolean, timeoutMs = 180_000): Promise<Obj> {
  return await waitFor(`gtp5gmodule/${name}: ${what}`, async () => {
    const m = await getJson(h, ['gtp5gmodule', name])
    return m !== undefined && accept(m) ? m : undefined
  }, { timeoutMs, describe: async () => (await getJson(h, ['gtp5gmodule', name]))?.status })
}

export const condition = (m: Obj, type: string): { status: string, reason: string, message: string } | undefined =>
  (m.status?.conditions as Array<{ type: string, status: string, reason: string, message: string }> | undefined)?.find(c => c.type === type)

/** Every object a Helm release made, of every kind, as Helm recorded it (`helm get manifest`). */
export async function releaseObjects (h: Harness, release: string, namespace: string): Promise<Obj[]> {
  return parseAllDocuments(await h.helm(['get', 'manifest', release, '-n', namespace]))
    .map(d => d.toJSON() as Obj | null).filter((o): o is Obj => o !== null && typeof o.kind === 'string')
}

/** Which of `objects` still exist, as `Kind.group/name` (`kubectl get all` would see only workloads and Services). */
export async function stillThere (h: Harness, objects: readonly Obj[]): Promise<string[]> {
  const remaining: string[] = []
  for (const o of objects) {
    const where = o.metadata.namespace === undefined ? [] : ['-n', o.metadata.namespace]
    const group = o.apiVersion?.includes('/') === true ? `.${o.apiVersion.split('/')[0] ?? ''}` : ''
    const kind = `${String(o.kind)}${group}`
    if (await getJson(h, [kind, o.metadata.name, ...where]) !== undefined) remaining.push(`${kind}/${o.metadata.name}`)
  }
  return remaining
}

export const kindsOf = (objects: readonly Obj[]): string => [...new Set(objects.map(o => String(o.kind)))].sort().join(', ')
