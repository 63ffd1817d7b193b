// The Metacontroller webhook v2 envelope: what it posts to /customize, /sync and /finalize and
// what it expects back. Only the envelope is validated here; the parent's spec is validated by
// spec.ts so that a bad spec becomes a condition, not a 400.
import { Type } from '@sinclair/typebox'
import type { GTP5GModuleStatus } from './api.js'
import { GROUP_VERSION, KIND } from '../../contract/index.js'
import type { KubeObject } from './k8s.js'

const Metadata = Type.Object({
  name: Type.String({ minLength: 1 })
})

/** Any object: observed objects pass through untouched, so nothing beyond "is an object" is checked. */
const AnyObject = Type.Object({})

const Parent = Type.Object({
  apiVersion: Type.String({ minLength: 1 }),
  kind: Type.String({ minLength: 1 }),
  metadata: Metadata
})

/**
 * v2 object maps: `"Kind.group/version"` → `"<namespace>/<name>"` (or `"<name>"` when
 * cluster-scoped) → object. Metacontroller may send null for an empty one; the server reads
 * null as absent before checking.
 */
const ObjectMapSchema = Type.Record(Type.String(), Type.Record(Type.String(), AnyObject))

export const CustomizeRequestSchema = Type.Object({
  controller: AnyObject,
  parent: Parent
})

export const SyncRequestSchema = Type.Object({
  controller: AnyObject,
  parent: Parent,
  children: Type.Optional(ObjectMapSchema),
  related: Type.Optional(ObjectMapSchema),
  finalizing: Type.Optional(Type.Boolean())
})

/** What the Node DecoratorController posts to its sync hook: the node is `object`, not `parent`. */
export const NodeSyncRequestSchema = Type.Object({
  controller: AnyObject,
  object: Parent,
  attachments: Type.Optional(ObjectMapSchema),
  related: Type.Optional(ObjectMapSchema),
  finalizing: Type.Optional(Type.Boolean())
})

/** The request types as the core sees them: the schema's guarantees plus free-form objects. */
export interface CustomizeRequest {
  controller: KubeObject
  parent: KubeObject & { metadata: { name: string } }
}
export interface SyncRequest extends CustomizeRequest {
  children?: ObjectMap | null
  related?: ObjectMap | null
  finalizing?: boolean
}
export interface NodeSyncRequest {
  controller: KubeObject
  object: KubeObject & { metadata: { name: string } }
  related?: ObjectMap | null
}
type ObjectMap = Record<string, Record<string, KubeObject>>

export interface RelatedResourceRule {
  apiVersion: string
  resource: string
  namespace?: string
  names?: string[]
  labelSelector?: { matchLabels: Record<string, string> }
}

export interface CustomizeResponse {
  relatedResources: RelatedResourceRule[]
}

export type NodeCustomizeResponse = CustomizeResponse

/** A DecoratorController's answer: a null label value removes that label; no status leaves the node's alone. */
export interface NodeSyncResponse {
  labels: Record<string, string | null>
  attachments: KubeObject[]
}

export interface SyncResponse {
  status: GTP5GModuleStatus
  children: KubeObject[]
  resyncAfterSeconds?: number
  finalized?: boolean
}

// Keys of the object maps, as Metacontroller spells them.
export const DAEMONSET_KEY = 'DaemonSet.apps/v1'
export const DEPLOYMENT_KEY = 'Deployment.apps/v1'
export const POD_KEY = 'Pod.v1'
export const NODE_KEY = 'Node.v1'
export const CONFIGMAP_KEY = 'ConfigMap.v1'
export const MODULE_KEY = `${KIND}.${GROUP_VERSION}`

/** The annotation in which Metacontroller's client-side apply keeps what the hook last returned. */
export const LAST_APPLIED_ANNOTATION = 'metacontroller.k8s.io/last-applied-configuration'

/** The objects of one type in a v2 object map, in key order so that output never depends on map order. */
export function objectsOf (map: ObjectMap | null | undefined, key: string): KubeObject[] {
  const group = map?.[key]
  if (group === undefined) return []
  return Object.keys(group).sort().map(k => group[k] as KubeObject)
}
