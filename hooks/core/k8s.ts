// The slices of Kubernetes objects the hooks read and write. Observed objects arrive as JSON we
// do not control, so every field we read is optional and read defensively.

interface ObjectMeta {
  name?: string
  namespace?: string
  uid?: string
  generation?: number
  creationTimestamp?: string
  deletionTimestamp?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  [key: string]: unknown
}

export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata?: ObjectMeta
  [key: string]: unknown
}

export interface Taint {
  key?: string
  value?: string
  effect?: string
}

export interface Node extends KubeObject {
  spec?: { taints?: Taint[], unschedulable?: boolean, [key: string]: unknown }
  status?: Record<string, unknown>
}

interface ContainerStateWaiting { reason?: string, message?: string }
interface ContainerStateTerminated { exitCode?: number, reason?: string, message?: string, finishedAt?: string }
export interface ContainerState {
  waiting?: ContainerStateWaiting
  running?: { startedAt?: string }
  terminated?: ContainerStateTerminated
}

export interface ContainerStatus {
  name?: string
  ready?: boolean
  restartCount?: number
  state?: ContainerState
  lastState?: ContainerState
  [key: string]: unknown
}

export interface Pod extends KubeObject {
  spec?: { nodeName?: string, [key: string]: unknown }
  status?: {
    phase?: string
    conditions?: Array<{ type?: string, status?: string }>
    containerStatuses?: ContainerStatus[]
    [key: string]: unknown
  }
}

// ---- readers: a field of the wrong type reads as absent, so no input can make the hooks throw.

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** `v` when it is a string, else undefined. */
export const str = (v: unknown): string | undefined => typeof v === 'string' ? v : undefined

/** `v` when it is an array, else an empty one. */
export const list = (v: unknown): unknown[] => Array.isArray(v) ? v : []

/** An object's metadata, or an empty one when it is missing or not an object. */
export function metaOf (o: unknown): ObjectMeta {
  const metadata = isObject(o) ? o.metadata : undefined
  return isObject(metadata) ? metadata : {}
}

/** `metadata.name` when it is a string. */
export const nameOf = (o: unknown): string | undefined => str(metaOf(o).name)

/** The label `key` of an object when labels is a map and the value a string. */
export function labelOf (o: unknown, key: string): string | undefined {
  const labels = metaOf(o).labels
  return isObject(labels) && Object.hasOwn(labels, key) ? str(labels[key]) : undefined
}

/**
 * Whether a JSON value nests deeper than `max` levels, and where, as a path of keys. Iterative:
 * JSON.parse accepts any depth, but JSON.stringify, structuredClone and String() overflow the
 * stack somewhere between 1,000 and 5,000 levels.
 */
export function tooDeep (value: unknown, max: number): Array<string | number> | undefined {
  const stack: Array<{ v: unknown, path: Array<string | number> }> = [{ v: value, path: [] }]
  while (stack.length > 0) {
    const { v, path } = stack.pop() as { v: unknown, path: Array<string | number> }
    if (typeof v !== 'object' || v === null) continue
    if (path.length >= max) return path
    if (Array.isArray(v)) v.forEach((item, i) => stack.push({ v: item, path: [...path, i] }))
    else for (const [k, item] of Object.entries(v)) stack.push({ v: item, path: [...path, k] })
  }
  return undefined
}
