// Conditions with honest timestamps: lastTransitionTime moves only when a condition's status
// changes. A status that changes on every sync would make Metacontroller update the parent,
// receive a watch event and sync again, forever.
import type { Condition, ConditionType } from './api.js'

export interface ConditionValue {
  type: ConditionType
  status: 'True' | 'False' | 'Unknown'
  reason: string
  message: string
}

/** Kubernetes' metav1.Time has one-second precision; so do we. */
export function timestamp (now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/**
 * The conditions to write: each keeps its previous lastTransitionTime unless its status changed.
 * `previous` are the well-formed conditions of the status Metacontroller last wrote (status.ts,
 * previousStatus).
 */
export function conditionsFrom (previous: readonly Condition[] | undefined, values: readonly ConditionValue[], generation: number | undefined, now: Date): Condition[] {
  return values.map(value => {
    const before = previous?.find(c => c.type === value.type)
    const keep = before !== undefined && before.status === value.status
    return {
      type: value.type,
      status: value.status,
      reason: value.reason,
      message: value.message,
      lastTransitionTime: keep ? before.lastTransitionTime : timestamp(now),
      ...(generation === undefined ? {} : { observedGeneration: generation })
    }
  })
}
