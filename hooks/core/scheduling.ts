// Which nodes an installer pod can land on: label selectors and taints, decided the way the
// DaemonSet controller decides them, so status counts match what Kubernetes will schedule.
import type { Toleration } from './api.js'
import { isObject, list, type Node, type Taint } from './k8s.js'

export function matchesSelector (labels: unknown, selector: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector)) {
    if (!isObject(labels) || !Object.hasOwn(labels, key) || labels[key] !== value) return false
  }
  return true
}

/**
 * The DaemonSet controller adds these tolerations to every daemon pod, so these taints never keep
 * an installer off a node. (network-unavailable is only tolerated for hostNetwork pods.)
 */
const DAEMONSET_TOLERATIONS: readonly Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }
]

function tolerates (toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect !== undefined && toleration.effect !== taint.effect) return false
  if ((toleration.key ?? '') === '') return toleration.operator === 'Exists'
  if (toleration.key !== taint.key) return false
  if (toleration.operator === 'Exists') return true
  return (toleration.value ?? '') === (taint.value ?? '')
}

/** True when no NoSchedule/NoExecute taint of the node is left untolerated. */
export function toleratesNode (tolerations: readonly Toleration[], node: Node): boolean {
  const spec = isObject(node.spec) ? node.spec : {}
  for (const taint of list(spec.taints)) {
    if (!isObject(taint) || (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute')) continue
    const tolerated = tolerations.some(t => tolerates(t, taint as Taint)) || DAEMONSET_TOLERATIONS.some(t => tolerates(t, taint as Taint))
    if (!tolerated) return false
  }
  return true
}
