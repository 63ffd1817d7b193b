// What the scheduling agent's pod and the selected workload pods say about spec.scheduling: the
// `Scheduling` condition. It stands apart from Ready/Progressing/Degraded: a broken Manager
// never makes gtp5g look unhealthy.
import { AGENT_CONTAINER, LABEL_TEMPLATE_HASH, parseAgentTerminationMessage, POD_WAITING_FAILURES, TERMINATION_MESSAGE_MAX_BYTES } from '../../contract/index.js'
import type { SchedulingRule } from './api.js'
import type { ConditionValue } from './conditions.js'
import { type ContainerStatus, isObject, labelOf, list, metaOf, nameOf, type Pod, str } from './k8s.js'
import { matchesSelector } from './scheduling.js'

type AgentState =
  | { state: 'done' }
  | { state: 'failed', reason: string, message: string }
  | { state: 'progressing' }

const statusOf = (pod: Pod): Record<string, unknown> => isObject(pod.status) ? pod.status : {}
const capped = (s: string): string => s.length > TERMINATION_MESSAGE_MAX_BYTES ? `${s.slice(0, TERMINATION_MESSAGE_MAX_BYTES - 1)}…` : s

function agentStatus (pod: Pod): ContainerStatus | undefined {
  const statuses = list(statusOf(pod).containerStatuses).filter(isObject) as ContainerStatus[]
  return statuses.find(s => s.name === AGENT_CONTAINER) ?? statuses[0]
}

function terminatedMessage (state: unknown): string | undefined {
  const terminated = isObject(state) && isObject(state.terminated) ? state.terminated : undefined
  const text = str(terminated?.message)
  return text !== undefined && text.length > TERMINATION_MESSAGE_MAX_BYTES ? text.slice(-TERMINATION_MESSAGE_MAX_BYTES) : text
}

/** The agent pod of the current template: ready, failed with the agent's reason, or neither yet. */
export function agentState (pods: readonly Pod[], templateHash: string): AgentState {
  const current = pods
    .filter(p => labelOf(p, LABEL_TEMPLATE_HASH) === templateHash && metaOf(p).deletionTimestamp === undefined)
    .sort((a, b) => (nameOf(a) ?? '') < (nameOf(b) ?? '') ? -1 : 1)
  for (const pod of current) {
    if (agentStatus(pod)?.ready === true) return { state: 'done' }
  }
  for (const pod of current) {
    const container = agentStatus(pod)
    if (container === undefined) continue
    // The agent's own words beat the kubelet's CrashLoopBackOff; while it retries, the last reason stands.
    const said = parseAgentTerminationMessage(terminatedMessage(container.state)) ?? parseAgentTerminationMessage(terminatedMessage(container.lastState))
    if (said !== undefined) return { state: 'failed', reason: said.reason, message: said.message }
    const waiting = isObject(container.state) && isObject(container.state.waiting) ? container.state.waiting : undefined
    const waitingReason = str(waiting?.reason)
    if (waitingReason !== undefined && (POD_WAITING_FAILURES as readonly string[]).includes(waitingReason)) {
      return { state: 'failed', reason: waitingReason, message: capped(str(waiting?.message) ?? '') }
    }
  }
  return { state: 'progressing' }
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
export function schedulingCondition (state: AgentState, waitingRules: readonly string[], managerUrl: string): ConditionValue {
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
export function cleanupCondition (state: AgentState, timedOut: boolean): ConditionValue {
  if (state.state === 'done') return { type: 'Scheduling', status: 'False', reason: 'Removed', message: 'The strategies of this module were removed from the Gthulhu Manager.' }
  if (timedOut) return { type: 'Scheduling', status: 'False', reason: 'RemoveTimedOut', message: 'The strategies could not be removed before the finalize timeout; remove them in the Gthulhu Manager.' }
  if (state.state === 'failed') return { type: 'Scheduling', status: 'False', reason: state.reason, message: capped(state.message) }
  return { type: 'Scheduling', status: 'Unknown', reason: 'Removing', message: 'The scheduling agent is removing this module\'s strategies from the Gthulhu Manager.' }
}
