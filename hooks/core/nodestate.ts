// What one node's installer pod says about that node: done, failed (and why) or in progress.
// Only pods of the current template count; a ready pod of an old template says nothing about
// the version we want now.
import { INSTALLER_CONTAINER, LABEL_TEMPLATE_HASH, parseTerminationMessage, POD_WAITING_FAILURES, TERMINATION_MESSAGE_MAX_BYTES } from '../../contract/index.js'
import { type ContainerState, type ContainerStatus, isObject, labelOf, list, metaOf, nameOf, type Pod, str } from './k8s.js'

type NodeState =
  | { state: 'done' }
  | { state: 'failed', reason: string, message: string }
  | { state: 'progressing' }

const PROGRESSING: NodeState = { state: 'progressing' }
const DONE: NodeState = { state: 'done' }

const statusOf = (pod: Pod): Record<string, unknown> => isObject(pod.status) ? pod.status : {}

function installerStatus (pod: Pod): ContainerStatus | undefined {
  const statuses = list(statusOf(pod).containerStatuses).filter(isObject) as ContainerStatus[]
  return statuses.find(s => s.name === INSTALLER_CONTAINER) ?? statuses[0]
}

function isReady (pod: Pod, container: ContainerStatus | undefined): boolean {
  if (container?.ready === true) return true
  return list(statusOf(pod).conditions).some(c => isObject(c) && c.type === 'Ready' && c.status === 'True')
}

/** A state's `waiting` or `terminated`, when it is an object. */
function stateOf (state: unknown, which: keyof ContainerState): Record<string, unknown> | undefined {
  const s = isObject(state) ? state[which] : undefined
  return isObject(s) ? s : undefined
}

/**
 * The kubelet keeps at most 4 KiB of a termination message (and with FallbackToLogsOnError a
 * shorter log tail), so only the tail can hold the installer's line: looking at more would let
 * a huge message cost a JSON.parse per line.
 */
function installerMessage (terminated: Record<string, unknown> | undefined): ReturnType<typeof parseTerminationMessage> {
  const text = str(terminated?.message)
  return parseTerminationMessage(text !== undefined && text.length > TERMINATION_MESSAGE_MAX_BYTES ? text.slice(-TERMINATION_MESSAGE_MAX_BYTES) : text)
}

/** Messages copied into status are capped like the installer's own. */
const capped = (s: string): string => s.length > TERMINATION_MESSAGE_MAX_BYTES ? `${s.slice(0, TERMINATION_MESSAGE_MAX_BYTES - 1)}…` : s

function failureOf (container: ContainerStatus): NodeState | undefined {
  const fromInstaller = installerMessage(stateOf(container.state, 'terminated')) ?? installerMessage(stateOf(container.lastState, 'terminated'))
  if (fromInstaller !== undefined) {
    // Only asked of containers that are not ready. The installer said why it failed, which
    // beats the kubelet's generic CrashLoopBackOff; while it retries, the last reason stands.
    return { state: 'failed', reason: fromInstaller.reason, message: fromInstaller.message }
  }
  const waiting = stateOf(container.state, 'waiting')
  const waitingReason = str(waiting?.reason)
  if (waitingReason !== undefined && (POD_WAITING_FAILURES as readonly string[]).includes(waitingReason)) {
    return { state: 'failed', reason: waitingReason, message: capped(str(waiting?.message) ?? '') }
  }
  const terminated = stateOf(container.state, 'terminated')
  if (terminated !== undefined && terminated.exitCode !== 0) {
    const code = typeof terminated.exitCode === 'number' ? String(terminated.exitCode) : 'unknown'
    return { state: 'failed', reason: capped(str(terminated.reason) ?? 'Error'), message: capped(str(terminated.message) ?? `installer exited with code ${code}`) }
  }
  return undefined
}

const byPodName = (a: Pod, b: Pod): number => {
  const x = nameOf(a) ?? ''
  const y = nameOf(b) ?? ''
  return x < y ? -1 : x > y ? 1 : 0
}

export function nodeState (pods: readonly Pod[], templateHash: string): NodeState {
  const current = pods
    .filter(p => labelOf(p, LABEL_TEMPLATE_HASH) === templateHash && metaOf(p).deletionTimestamp === undefined)
    .sort(byPodName)
  if (current.length === 0) return PROGRESSING
  for (const pod of current) {
    if (isReady(pod, installerStatus(pod))) return DONE
  }
  for (const pod of current) {
    const container = installerStatus(pod)
    const failure = container === undefined ? undefined : failureOf(container)
    if (failure !== undefined) return failure
    if (statusOf(pod).phase === 'Failed') return { state: 'failed', reason: 'PodFailed', message: 'the installer pod failed' }
  }
  return PROGRESSING
}

/** Pods indexed by the node they run on. */
export function podsByNode (pods: readonly Pod[]): Map<string, Pod[]> {
  const byNode = new Map<string, Pod[]>()
  for (const pod of pods) {
    const node = str(isObject(pod.spec) ? pod.spec.nodeName : undefined)
    if (node === undefined) continue
    const list = byNode.get(node)
    if (list === undefined) byNode.set(node, [pod])
    else list.push(pod)
  }
  return byNode
}
