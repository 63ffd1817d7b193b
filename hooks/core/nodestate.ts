// What one node's installer pod says about that node: done, failed (and why) or in progress.
// Only pods of the current template count; a ready pod of an old template says nothing about
// the version we want now.
import { INSTALLER_CONTAINER, LABEL_TEMPLATE_HASH, parseTerminationMessage, POD_WAITING_FAILURES } from '../../contract/index.js'
import type { ContainerStatus, Pod } from './k8s.js'

export type NodeState =
  | { state: 'done' }
  | { state: 'failed', reason: string, message: string }
  | { state: 'progressing' }

const PROGRESSING: NodeState = { state: 'progressing' }
const DONE: NodeState = { state: 'done' }

function installerStatus (pod: Pod): ContainerStatus | undefined {
  const statuses = pod.status?.containerStatuses ?? []
  return statuses.find(s => s.name === INSTALLER_CONTAINER) ?? statuses[0]
}

function isReady (pod: Pod, container: ContainerStatus | undefined): boolean {
  if (container?.ready === true) return true
  return pod.status?.conditions?.some(c => c.type === 'Ready' && c.status === 'True') === true
}

function failureOf (container: ContainerStatus): NodeState | undefined {
  const fromInstaller = parseTerminationMessage(container.state?.terminated?.message) ??
    parseTerminationMessage(container.lastState?.terminated?.message)
  if (fromInstaller !== undefined) {
    // Only asked of containers that are not ready. The installer said why it failed, which
    // beats the kubelet's generic CrashLoopBackOff; while it retries, the last reason stands.
    return { state: 'failed', reason: fromInstaller.reason, message: fromInstaller.message }
  }
  const waiting = container.state?.waiting?.reason
  if (waiting !== undefined && (POD_WAITING_FAILURES as readonly string[]).includes(waiting)) {
    return { state: 'failed', reason: waiting, message: container.state?.waiting?.message ?? '' }
  }
  const terminated = container.state?.terminated
  if (terminated !== undefined && terminated.exitCode !== 0) {
    return { state: 'failed', reason: terminated.reason ?? 'Error', message: terminated.message ?? `installer exited with code ${terminated.exitCode ?? 'unknown'}` }
  }
  return undefined
}

export function nodeState (pods: readonly Pod[], templateHash: string): NodeState {
  const current = pods
    .filter(p => p.metadata?.labels?.[LABEL_TEMPLATE_HASH] === templateHash && p.metadata?.deletionTimestamp === undefined)
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))
  if (current.length === 0) return PROGRESSING
  for (const pod of current) {
    if (isReady(pod, installerStatus(pod))) return DONE
  }
  for (const pod of current) {
    const container = installerStatus(pod)
    const failure = container === undefined ? undefined : failureOf(container)
    if (failure !== undefined) return failure
    if (pod.status?.phase === 'Failed') return { state: 'failed', reason: 'PodFailed', message: 'the installer pod failed' }
  }
  return PROGRESSING
}

/** Pods indexed by the node they run on. */
export function podsByNode (pods: readonly Pod[]): Map<string, Pod[]> {
  const byNode = new Map<string, Pod[]>()
  for (const pod of pods) {
    const node = pod.spec?.nodeName
    if (node === undefined) continue
    const list = byNode.get(node)
    if (list === undefined) byNode.set(node, [pod])
    else list.push(pod)
  }
  return byNode
}
