// What one node's installer pod says about that node: done, failed (and why) or in progress.
// Only pods of the current template count; a ready pod of an old template says nothing about
// the version we want now.
import { INSTALLER_CONTAINER, parseTerminationMessage } from '../../contract/index.js'
import { type ContainerStatus, isObject, list, type Pod, str } from './k8s.js'
import { capped, containerOf, currentPods, DONE, type PodReport, PROGRESSING, stateOf, statusOf, terminationTail, waitingFailure } from './pods.js'

function isReady (pod: Pod, container: ContainerStatus | undefined): boolean {
  if (container?.ready === true) return true
  return list(statusOf(pod).conditions).some(c => isObject(c) && c.type === 'Ready' && c.status === 'True')
}

function failureOf (container: ContainerStatus): PodReport | undefined {
  const fromInstaller = parseTerminationMessage(terminationTail(container.state)) ?? parseTerminationMessage(terminationTail(container.lastState))
  if (fromInstaller !== undefined) {
    // Only asked of containers that are not ready. The installer said why it failed, which
    // beats the kubelet's generic CrashLoopBackOff; while it retries, the last reason stands.
    return { state: 'failed', reason: fromInstaller.reason, message: fromInstaller.message }
  }
  const waiting = waitingFailure(container)
  if (waiting !== undefined) return waiting
  const terminated = stateOf(container.state, 'terminated')
  if (terminated !== undefined && terminated.exitCode !== 0) {
    const code = typeof terminated.exitCode === 'number' ? String(terminated.exitCode) : 'unknown'
    return { state: 'failed', reason: capped(str(terminated.reason) ?? 'Error'), message: capped(str(terminated.message) ?? `installer exited with code ${code}`) }
  }
  return undefined
}

export function nodeState (pods: readonly Pod[], templateHash: string): PodReport {
  return currentPodsState(currentPods(pods, templateHash))
}

/** nodeState for a node's pods of the current template (pods.ts, currentPods), already picked out. */
export function currentPodsState (current: readonly Pod[]): PodReport {
  if (current.length === 0) return PROGRESSING
  for (const pod of current) {
    if (isReady(pod, containerOf(pod, INSTALLER_CONTAINER))) return DONE
  }
  for (const pod of current) {
    const container = containerOf(pod, INSTALLER_CONTAINER)
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
