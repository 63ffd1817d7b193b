// What the scheduling agent's pod and the selected workload pods say about spec.scheduling: the
// `Scheduling` condition. It stands apart from Ready/Progressing/Degraded: a broken Manager
// never makes gtp5g look unhealthy.
import { AGENT_CONTAINER, parseAgentTerminationMessage } from '../../contract/index.js'
import type { SchedulingRule } from './api.js'
import type { ConditionValue } from './conditions.js'
import { metaOf, type Pod } from './k8s.js'
import { capped, containerOf, currentPods, DONE, type PodReport, PROGRESSING, terminationTail, waitingFailure } from './pods.js'
import { matchesSelector } from './scheduling.js'

/** The agent pod of the current template: ready, failed with the agent's reason, or neither yet. */
export function agentState (pods: readonly Pod[], templateHash: string): PodReport {
  const current = currentPods(pods, templateHash)
  for (const pod of current) {
    if (containerOf(pod, AGENT_CONTAINER)?.ready === true) return DONE
  }
  for (const pod of current) {
    const container = containerOf(pod, AGENT_CONTAINER)
    if (container === undefined) continue
    // The agent's own words beat the kubelet's CrashLoopBackOff; while it retries, the last reason stands.
    const said = parseAgentTerminationMessage(terminationTail(container.state)) ?? parseAgentTerminationMessage(terminationTail(container.lastState))
    if (said !== undefined) return { state: 'failed', reason: said.reason, message: said.message }
    const waiting = waitingFailure(container)
    if (waiting !== undefined) return waiting
  }
  return PROGRESSING
}

/** Rules with no pod that matches their selector and namespaces: the Manager refuses their strategy until one appears. */
export function rulesWithoutPods (rules: readonly SchedulingRule[], workloadPods: readonly Pod[]): string[] {
  return rules.filter(rule => !workloadPods.some(p =>
    metaOf(p).deletionTimestamp === undefined &&
    (rule.namespaces.length === 0 || rule.namespaces.includes(metaOf(p).namespace ?? '')) &&
    matchesSelector(metaOf(p).labels, rule.podSelector)
  )).map(r => r.name)
}

/** The Scheduling condition while the module is running (not finalizing). */
export function schedulingCondition (state: PodReport, waitingRules: readonly string[], managerUrl: string): ConditionValue {
  if (state.state === 'done') {
    return { type: 'Scheduling', status: 'True', reason: 'Applied', message: `The scheduling agent keeps every rule's strategy in the Gthulhu Manager at ${managerUrl}.` }
  }
  // A failure the agent reported is more telling than missing pods: it is what stands in the way.
  if (state.state === 'failed') return { type: 'Scheduling', status: 'False', reason: state.reason, message: capped(state.message) }
  if (waitingRules.length > 0) {
    return { type: 'Scheduling', status: 'False', reason: 'WaitingForPods', message: `No pod matches rule(s) ${waitingRules.join(', ')} yet; the Manager takes a strategy only for pods that exist.` }
  }
  return { type: 'Scheduling', status: 'Unknown', reason: 'Applying', message: 'Waiting for the scheduling agent to report.' }
}

/** The Scheduling condition while the module is deleted: the agent removes the strategies. */
export function cleanupCondition (state: PodReport, timedOut: boolean): ConditionValue {
  if (state.state === 'done') return { type: 'Scheduling', status: 'False', reason: 'Removed', message: 'The strategies of this module were removed from the Gthulhu Manager.' }
  if (timedOut) return { type: 'Scheduling', status: 'False', reason: 'RemoveTimedOut', message: 'The strategies could not be removed before the finalize timeout; remove them in the Gthulhu Manager.' }
  if (state.state === 'failed') return { type: 'Scheduling', status: 'False', reason: state.reason, message: capped(state.message) }
  return { type: 'Scheduling', status: 'Unknown', reason: 'Removing', message: 'The scheduling agent is removing this module\'s strategies from the Gthulhu Manager.' }
}
