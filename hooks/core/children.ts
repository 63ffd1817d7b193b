// What to hand back when the hook cannot compute children: the ones that exist, as they were
// last applied. Returning fewer would make Metacontroller delete a DaemonSet and with it the
// installer of a running data plane.
import { isObject, type KubeObject, metaOf, tooDeep } from './k8s.js'
import { CONFIGMAP_KEY, DAEMONSET_KEY, DEPLOYMENT_KEY, LAST_APPLIED_ANNOTATION, objectsOf, type SyncRequest } from './metacontroller.js'

/** Fields the API server owns; echoing them back would fight optimistic concurrency and server-side apply. */
const SERVER_OWNED_METADATA = ['managedFields', 'resourceVersion', 'uid', 'generation', 'creationTimestamp', 'selfLink'] as const

/**
 * Deeper than any DaemonSet nests (about 20 levels); the request envelope refuses observed
 * children past it, and a last-applied annotation past it is not used.
 */
export const MAX_OBJECT_DEPTH = 64

/** Same apiVersion, kind, name and namespace: the same object in the API server's eyes. */
function sameObject (a: KubeObject, b: KubeObject): boolean {
  const [ma, mb] = [metaOf(a), metaOf(b)]
  return a.apiVersion === b.apiVersion && a.kind === b.kind && typeof ma.name === 'string' && ma.name === mb.name && ma.namespace === mb.namespace
}

/**
 * Metacontroller's record of what it last applied for this child — only when it describes this
 * very object. The annotation is just a string on the object: whoever can edit the DaemonSet
 * can write any object into it, and returning that would make Metacontroller create it.
 */
function lastApplied (child: KubeObject): KubeObject | undefined {
  const raw = metaOf(child).annotations?.[LAST_APPLIED_ANNOTATION]
  if (typeof raw !== 'string') return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    return undefined
  }
  if (!isObject(parsed) || tooDeep(parsed, MAX_OBJECT_DEPTH) !== undefined) return undefined
  return sameObject(parsed, child) ? parsed : undefined
}

function withoutServerFields (child: KubeObject): KubeObject {
  const { status, ...rest } = child
  const metadata = { ...metaOf(child) }
  for (const field of SERVER_OWNED_METADATA) delete metadata[field]
  return { ...rest, metadata }
}

/**
 * The observed children unchanged in what they ask for: Metacontroller's last-applied
 * configuration when it kept one for the same object (so its three-way diff is empty), else the
 * observed object minus the fields the API server owns.
 */
export function keepObservedChildren (req: SyncRequest, keys: readonly string[] = [DAEMONSET_KEY, DEPLOYMENT_KEY, CONFIGMAP_KEY]): KubeObject[] {
  return keys.flatMap(key => objectsOf(req.children, key).map(child => lastApplied(child) ?? withoutServerFields(child)))
}
