// When a rollout is over, for the cluster benchmark (bench/clustersuite.ts): a DaemonSet applied
// by hand, and a GTP5GModule through the operator. Pure predicates over `kubectl get -o json`.

interface DaemonSetLike {
  metadata?: { generation?: number }
  status?: { observedGeneration?: number, desiredNumberScheduled?: number, updatedNumberScheduled?: number, numberReady?: number, numberAvailable?: number }
}

/**
 * The DaemonSet's controller has seen its newest spec and every one of `nodes` pods runs that
 * template and is Ready (what `kubectl rollout status` waits for, plus the node count).
 */
export function daemonSetRolledOut (ds: DaemonSetLike, nodes: number): boolean {
  const s = ds.status
  if (s === undefined || ds.metadata?.generation === undefined) return false
  return (s.observedGeneration ?? -1) >= ds.metadata.generation &&
    s.desiredNumberScheduled === nodes && s.updatedNumberScheduled === nodes && s.numberReady === nodes
}

interface ModuleLike {
  metadata?: { generation?: number }
  spec?: { version?: string }
  status?: { observedGeneration?: number, phase?: string, installed?: number, desired?: number }
}

/**
 * The module's status was computed from its newest spec (observedGeneration, which Metacontroller
 * writes) and says `version` is Installed on all `nodes`: the hooks count only ready pods of the
 * current template, so this is the operator's own "rollout complete".
 */
export function moduleRolledOut (m: ModuleLike, version: string, nodes: number): boolean {
  const s = m.status
  if (s === undefined || m.metadata?.generation === undefined || m.spec?.version !== version) return false
  return s.observedGeneration === m.metadata.generation && s.phase === 'Installed' && s.installed === nodes && s.desired === nodes
}
