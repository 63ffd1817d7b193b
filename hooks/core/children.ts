// What to hand back when the hook cannot compute children: the ones that exist, as they were
// last applied. Returning fewer would make Metacontroller delete a DaemonSet and with it the
// installer of a running data plane.
import type { KubeObject } from './k8s.js'
import { DAEMONSET_KEY, LAST_APPLIED_ANNOTATION, objectsOf, type SyncRequest } from './metacontroller.js'

/** Fields the API server owns; echoing them back would fight optimistic concurrency and server-side apply. */
const SERVER_OWNED_METADATA = ['managedFields', 'resourceVersion', 'uid', 'generation', 'creationTimestamp', 'selfLink'] as const

function lastApplied (child: KubeObject): KubeObject | undefined {
  const raw = child.metadata?.annotations?.[LAST_APPLIED_ANNOTATION]
  if (raw === undefined) return undefined
  try {
    const parsed: unknown = JSON.parse(raw)
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed as KubeObject : undefined
  } catch {
    return undefined
  }
}

function withoutServerFields (child: KubeObject): KubeObject {
  const { status, ...rest } = child
  const metadata = { ...rest.metadata }
  for (const field of SERVER_OWNED_METADATA) delete metadata[field]
  return { ...rest, metadata }
}

/**
 * The observed children unchanged in what they ask for: Metacontroller's last-applied
 * configuration when it kept one (so its three-way diff is empty), else the observed object
 * minus the fields the API server owns.
 */
export function keepObservedChildren (req: SyncRequest): KubeObject[] {
  return objectsOf(req.children, DAEMONSET_KEY).map(child => lastApplied(child) ?? withoutServerFields(child))
}
