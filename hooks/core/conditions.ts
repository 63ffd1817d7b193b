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

function previousConditions (status: unknown): Condition[] {
  const conditions = (status as { conditions?: unknown } | undefined)?.conditions
  return Array.isArray(conditions) ? conditions as Condition[] : []
}

export function conditionsFrom (previousStatus: unknown, values: readonly ConditionValue[], generation: number | undefined, now: Date): Condition[] {
  const previous = previousConditions(previousStatus)
  return values.map(value => {
    const before = previous.find(c => c?.type === value.type)
    const keep = before !== undefined && before.status === value.status && typeof before.lastTransitionTime === 'string'
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

export function findCondition (status: unknown, type: ConditionType): Condition | undefined {
  return previousConditions(status).find(c => c?.type === type)
}
