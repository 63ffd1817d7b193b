// The three hooks Metacontroller calls. Pure functions of (request, config, now): no I/O, no
// env, no clock of their own. `now` is used only where a timestamp must change.
import { AGENT_ENV, AGENT_CONTAINER, API_GROUP, API_VERSION, LABEL_AGENT, labelValue, LABEL_MODULE, LABEL_TEMPLATE_HASH, PLURAL, shortHash } from '../../contract/index.js'
import type { HookConfig } from './config.js'
import { buildAgent } from './agent.js'
import { agentState, cleanupCondition, rulesWithoutPods, schedulingCondition } from './agentstate.js'
import { keepObservedChildren } from './children.js'
import { isObject, type KubeObject, labelOf, list, metaOf, type Pod, str } from './k8s.js'
import { CONFIGMAP_KEY, type CustomizeRequest, type CustomizeResponse, DAEMONSET_KEY, DEPLOYMENT_KEY, objectsOf, POD_KEY, type RelatedResourceRule, type SyncRequest, type SyncResponse } from './metacontroller.js'
import { nodeListConfigMaps, nodeVersions } from './nodelabels.js'
import { installerRollout } from './rollout.js'
import type { GTP5GModuleSpec } from './api.js'
import { policyDenial } from './policy.js'
import { nodeSelectorOf, parseSpec } from './spec.js'
import { computeStatus, previousStatus, type Refusal, refusedSpecStatus, withCondition } from './status.js'

/** Sync again this often while waiting for nodes to unload, to notice the finalize timeout. */
export const FINALIZE_RESYNC_SECONDS = 10

/** metadata.generation when it is one (a non-negative integer); conditions then carry it as observedGeneration. */
function generationOf (parent: KubeObject): number | undefined {
  const generation = metaOf(parent).generation
  return Number.isSafeInteger(generation) && (generation as number) >= 0 ? generation as number : undefined
}

export function customize (req: CustomizeRequest, config: HookConfig): CustomizeResponse {
  const name = req.parent.metadata.name
  return {
    relatedResources: [
      { apiVersion: 'v1', resource: 'pods', namespace: config.targetNamespace, labelSelector: { matchLabels: { [LABEL_MODULE]: labelValue(name) } } },
      { apiVersion: 'v1', resource: 'nodes', labelSelector: { matchLabels: nodeSelectorOf(req.parent) } },
      // Every module, to find the older owner of a contested node.
      { apiVersion: `${API_GROUP}/${API_VERSION}`, resource: PLURAL },
      ...schedulingRelated(req, config)
    ]
  }
}

/**
 * With spec.scheduling: the agent's pods, and the workload pods each rule selects (to tell
 * WaitingForPods). Pods already carry the agent label whether or not the spec still asks for
 * scheduling, so the agent's pods are always related: a removed spec.scheduling is cleaned up.
 */
function schedulingRelated (req: CustomizeRequest, config: HookConfig): RelatedResourceRule[] {
  const agentPods: RelatedResourceRule = { apiVersion: 'v1', resource: 'pods', namespace: config.targetNamespace, labelSelector: { matchLabels: { [LABEL_AGENT]: labelValue(req.parent.metadata.name) } } }
  const parsed = parseSpec(req.parent.spec)
  if (!parsed.ok || parsed.spec.scheduling === undefined) return [agentPods]
  const workload = parsed.spec.scheduling.rules.flatMap(rule => {
    const labelSelector = { matchLabels: rule.podSelector }
    return rule.namespaces.length === 0
      ? [{ apiVersion: 'v1', resource: 'pods', labelSelector }]
      : rule.namespaces.map(namespace => ({ apiVersion: 'v1', resource: 'pods', namespace, labelSelector }))
  })
  return [agentPods, ...workload]
}

interface AgentPart {
  /** The agent Deployment to apply, if any. */
  child?: KubeObject
  /** The Scheduling condition, if the module has anything to do with scheduling. */
  condition?: ReturnType<typeof schedulingCondition>
  /** Nothing left for the agent to do (cleanup done, timed out, or no agent at all). */
  done: boolean
}

function agentPods (req: SyncRequest, config: HookConfig): Pod[] {
  const mine = labelValue(req.parent.metadata.name)
  return (objectsOf(req.related, POD_KEY) as Pod[])
    .filter(p => labelOf(p, LABEL_AGENT) === mine && (metaOf(p).namespace ?? config.targetNamespace) === config.targetNamespace)
}

/**
 * The agent Deployment that was applied before, switched to cleanup mode: what removes the
 * strategies once spec.scheduling is gone (its Manager URL and Secret live only there now).
 */
function observedAgentInCleanup (req: SyncRequest): { deployment: KubeObject, templateHash: string } | undefined {
  const [observed] = keepObservedChildren(req, [DEPLOYMENT_KEY])
  if (observed === undefined) return undefined
  const deployment = structuredClone(observed)
  const spec = isObject(deployment.spec) ? deployment.spec : undefined
  const template = isObject(spec?.template) ? spec.template : undefined
  const podSpec = isObject(template?.spec) ? template.spec : undefined
  const container = list(podSpec?.containers).find(c => isObject(c) && c.name === AGENT_CONTAINER)
  if (template === undefined || podSpec === undefined || !isObject(container)) return undefined
  container.env = [...list(container.env).filter(e => !(isObject(e) && e.name === AGENT_ENV.mode)), { name: AGENT_ENV.mode, value: 'cleanup' }]
  const templateHash = shortHash(JSON.stringify(podSpec), 10)
  const meta = isObject(template.metadata) ? template.metadata : {}
  template.metadata = { ...meta, labels: { ...(isObject(meta.labels) ? meta.labels : {}), [LABEL_TEMPLATE_HASH]: templateHash } }
  return { deployment, templateHash }
}

function agentPart (req: SyncRequest, spec: GTP5GModuleSpec, config: HookConfig, removing: boolean, timedOut: boolean): AgentPart {
  const pods = agentPods(req, config)
  if (!removing && spec.scheduling !== undefined) {
    const { deployment, templateHash } = buildAgent(req.parent.metadata.name, spec.scheduling, config, 'apply')
    const waiting = rulesWithoutPods(spec.scheduling.rules, objectsOf(req.related, POD_KEY) as Pod[])
    return { child: deployment, condition: schedulingCondition(agentState(pods, templateHash), waiting, spec.scheduling.managerUrl), done: false }
  }
  // Removing the strategies: the module is deleted, or spec.scheduling was taken out.
  const cleanup = spec.scheduling !== undefined
    ? buildAgent(req.parent.metadata.name, spec.scheduling, config, 'cleanup')
    : observedAgentInCleanup(req)
  if (cleanup === undefined) return { done: true }
  const state = agentState(pods, cleanup.templateHash)
  const done = state.state === 'done' || timedOut
  const condition = cleanupCondition(state, timedOut)
  // Once removed, the agent goes (Metacontroller deletes a child the hook stops returning);
  // while the module is finalizing it stays until Metacontroller lets the module go.
  if (done && !req.finalizing) return { condition, done }
  return { child: cleanup.deployment, condition, done }
}

/** The spec to act on, or why not: invalid, or refused by the installer policy. */
function acceptedSpec (parent: KubeObject, config: HookConfig): { ok: true, spec: GTP5GModuleSpec } | ({ ok: false } & Refusal) {
  const parsed = parseSpec(parent.spec)
  if (!parsed.ok) return { ok: false, reason: 'InvalidSpec', message: parsed.message }
  const denial = policyDenial(parsed.spec, config)
  if (denial !== undefined) return { ok: false, reason: 'PolicyDenied', message: denial.message }
  return parsed
}

export function sync (req: SyncRequest, config: HookConfig, now: Date): SyncResponse {
  if (req.finalizing === true) return finalize(req, config, now)
  const parent = req.parent
  const generation = generationOf(parent)
  const previous = previousStatus(parent.status)
  const parsed = acceptedSpec(parent, config)
  if (!parsed.ok) {
    // Nothing the spec asks for is applied; the DaemonSet that runs stays exactly as it is.
    return { status: refusedSpecStatus(previous, parsed, generation, now), children: keepObservedChildren(req) }
  }
  const { daemonSet, tally, contested, tooManyContested } = installerRollout(req, parsed.spec, config, 'install')
  const installerStatus = computeStatus({ version: parsed.spec.version, tally, contested, tooManyContested, finalizing: undefined, generation, previous, now })
  const agent = agentPart(req, parsed.spec, config, parsed.spec.scheduling === undefined, false)
  const status = agent.condition === undefined ? installerStatus : withCondition(installerStatus, agent.condition, previous, generation, now)
  // A DaemonSet that cannot exclude every contested node is not applied; the one that runs stays.
  const installer = tooManyContested ? keepObservedChildren(req, [DAEMONSET_KEY]) : [daemonSet]
  // Where the version is loaded, for the Node decorator to label (nodelabels.ts).
  const nodeLists = config.nodeLabels === false
    ? []
    : nodeListConfigMaps(parent, parsed.spec.nodeSelector, nodeVersions(status, tally, objectsOf(req.children, CONFIGMAP_KEY)), config)
  return { status, children: [...installer, ...(agent.child === undefined ? [] : [agent.child]), ...nodeLists] }
}

export function finalize (req: SyncRequest, config: HookConfig, now: Date): SyncResponse {
  const parent = req.parent
  const generation = generationOf(parent)
  const previous = previousStatus(parent.status)
  const parsed = acceptedSpec(parent, config)
  if (!parsed.ok) {
    // Without a valid spec we cannot know whether to unload, and an unload DaemonSet would run
    // the very image or source the policy refuses; leaving gtp5g loaded is the safe side.
    return { status: refusedSpecStatus(previous, parsed, generation, now), children: keepObservedChildren(req), finalized: true }
  }
  const { daemonSet, tally, contested, tooManyContested } = installerRollout(req, parsed.spec, config, 'unload')
  const deleted = Date.parse(str(metaOf(parent).deletionTimestamp) ?? '')
  const timedOut = !Number.isNaN(deleted) && now.getTime() - deleted >= config.finalizeTimeoutSeconds * 1000
  // The strategies go first or alongside: the agent in cleanup mode, independent of gtp5g.
  const agent = agentPart(req, parsed.spec, config, true, timedOut)
  const withAgent = (res: SyncResponse, installerDone: boolean): SyncResponse => {
    if (agent.condition === undefined) return res
    const finalized = installerDone && agent.done
    return {
      status: withCondition(res.status, agent.condition, previous, generation, now),
      children: [...res.children, ...(agent.child === undefined ? [] : [agent.child])],
      finalized,
      ...(finalized ? {} : { resyncAfterSeconds: FINALIZE_RESYNC_SECONDS })
    }
  }
  // Without unloadOnDelete gtp5g stays loaded. Nor is it unloaded when the unload DaemonSet
  // could not keep off the nodes an older module owns: it would take their data plane down.
  if (!parsed.spec.unloadOnDelete || tooManyContested) {
    const status = computeStatus({ version: parsed.spec.version, tally: { ...tally, done: [], failed: [] }, contested, tooManyContested, finalizing: 'keep', generation, previous, now })
    return withAgent({ status, children: [], finalized: true }, true)
  }
  const status = computeStatus({ version: parsed.spec.version, tally, contested, tooManyContested, finalizing: 'unload', generation, previous, now })
  const allUnloaded = tally.done.length === tally.desired
  if (allUnloaded || timedOut) {
    return withAgent({ status, children: [daemonSet], finalized: true }, true)
  }
  return withAgent({ status, children: [daemonSet], finalized: false, resyncAfterSeconds: FINALIZE_RESYNC_SECONDS }, false)
}
