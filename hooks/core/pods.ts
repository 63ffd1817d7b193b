// What a pod of ours says: the installer's pods (nodestate.ts) and the scheduling agent's pod
// (agentstate.ts) report the same way, through readiness, a one-line termination message or
// the kubelet's waiting reason. Pods are JSON we do not control: every reader takes any value.
import { LABEL_TEMPLATE_HASH, POD_WAITING_FAILURES, TERMINATION_MESSAGE_MAX_BYTES } from '../../contract/index.js'
import { type ContainerState, type ContainerStatus, isObject, labelOf, list, metaOf, nameOf, type Pod, str } from './k8s.js'

/** Done (ready: gtp5g loaded or unloaded, strategies applied or removed), failed and why, or neither yet. */
export type PodReport =
  | { state: 'done' }
  | { state: 'failed', reason: string, message: string }
  | { state: 'progressing' }

export const PROGRESSING: PodReport = { state: 'progressing' }
export const DONE: PodReport = { state: 'done' }

export const statusOf = (pod: Pod): Record<string, unknown> => isObject(pod.status) ? pod.status : {}

/** Messages copied into status are capped like our programs' own. */
export const capped = (s: string): string => s.length > TERMINATION_MESSAGE_MAX_BYTES ? `${s.slice(0, TERMINATION_MESSAGE_MAX_BYTES - 1)}…` : s

const byPodName = (a: Pod, b: Pod): number => {
  const x = nameOf(a) ?? ''
  const y = nameOf(b) ?? ''
  return x < y ? -1 : x > y ? 1 : 0
}

/**
 * The pods of the current template that are not being deleted, by name: a ready pod of an old
 * template says nothing about what we want now.
 */
export function currentPods (pods: readonly Pod[], templateHash: string): Pod[] {
  return pods
    .filter(p => labelOf(p, LABEL_TEMPLATE_HASH) === templateHash && metaOf(p).deletionTimestamp === undefined)
    .sort(byPodName)
}

/** The status of the container `name`, or of the first container when none has that name. */
export function containerOf (pod: Pod, name: string): ContainerStatus | undefined {
  const statuses = list(statusOf(pod).containerStatuses).filter(isObject) as ContainerStatus[]
  return statuses.find(s => s.name === name) ?? statuses[0]
}

/** A state's `waiting` or `terminated`, when it is an object. */
export function stateOf (state: unknown, which: keyof ContainerState): Record<string, unknown> | undefined {
  const s = isObject(state) ? state[which] : undefined
  return isObject(s) ? s : undefined
}

/**
 * The end of a terminated state's message. The kubelet keeps at most 4 KiB of a termination
 * message (and with FallbackToLogsOnError a shorter log tail), so only the tail can hold our
 * program's line: looking at more would let a huge message cost a JSON.parse per line.
 */
export function terminationTail (state: unknown): string | undefined {
  const text = str(stateOf(state, 'terminated')?.message)
  return text !== undefined && text.length > TERMINATION_MESSAGE_MAX_BYTES ? text.slice(-TERMINATION_MESSAGE_MAX_BYTES) : text
}

/** A container the kubelet cannot start or keeps restarting (CrashLoopBackOff, ImagePullBackOff, ...). */
export function waitingFailure (container: ContainerStatus): PodReport | undefined {
  const waiting = stateOf(container.state, 'waiting')
  const reason = str(waiting?.reason)
  if (reason === undefined || !(POD_WAITING_FAILURES as readonly string[]).includes(reason)) return undefined
  return { state: 'failed', reason, message: capped(str(waiting?.message) ?? '') }
}
