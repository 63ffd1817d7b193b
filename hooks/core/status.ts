// The status calculator: from per-node observations to phase, counts, capped node lists,
// conditions and one sentence. It never stamps "now" unless something actually changed.
import { isDeepStrictEqual } from 'node:util'
import { type Condition, CONDITION_TYPES, type ConditionType, type FailedNode, type GTP5GModuleStatus, MAX_INSTALLED_NODES, MAX_LISTED_NODES, type Phase, PHASES } from './api.js'
import { type ConditionValue, conditionsFrom, timestamp } from './conditions.js'
import type { Contest } from './conflicts.js'
import { MAX_EXCLUSION_BYTES } from './daemonset.js'
import { isObject, str } from './k8s.js'

export interface NodeTally {
  /** Nodes the module should be on, after selectors, taints and conflicts. */
  desired: number
  /** Their sorted names. */
  nodes: string[]
  /** Sorted names of nodes in the wanted state (gtp5g loaded, or unloaded when finalizing). */
  done: string[]
  /** Sorted by node name. */
  failed: FailedNode[]
  /** Desired nodes with any installer pod at all, current template or not. */
  scheduled: number
  /**
   * Sorted names of desired nodes with an installer pod of the current template, ready or not:
   * the rollout has reached them. The node lists (nodelabels.ts, nodeVersions) drop a node listed
   * at the current version once the rollout has reached it and it is not done (a reboot).
   */
  reached: string[]
}

interface StatusInput {
  version: string
  tally: NodeTally
  contested: readonly Contest[]
  /** More contested nodes than node affinity can exclude: the DaemonSet was left as it was. */
  tooManyContested: boolean
  /** Set while the module is being deleted: whether gtp5g is unloaded or kept on the nodes. */
  finalizing: 'unload' | 'keep' | undefined
  generation: number | undefined
  /** The status Metacontroller last wrote, as previousStatus reads it. */
  previous: GTP5GModuleStatus
  now: Date
}

function listNodes (names: readonly string[], limit = 3): string {
  const shown = names.slice(0, limit).join(', ')
  return names.length > limit ? `${shown} and ${names.length - limit} more` : shown
}

function phaseOf ({ tally, finalizing }: StatusInput): Phase {
  if (finalizing !== undefined) return 'Unloading'
  if (tally.failed.length > 0) return 'Failed'
  if (tally.desired > 0 && tally.done.length === tally.desired) return 'Installed'
  if (tally.scheduled === 0) return 'Pending'
  return 'Installing'
}

function sentence (phase: Phase, input: StatusInput): string {
  const { version, tally, finalizing } = input
  const { desired, done, failed } = tally
  switch (phase) {
    case 'Unloading':
      if (finalizing === 'keep') {
        return input.tooManyContested
          ? `Too many contested nodes to unload safely: gtp5g ${version} stays loaded on ${desired} node(s).`
          : `unloadOnDelete is false: gtp5g ${version} stays loaded on ${desired} node(s).`
      }
      return `Unloading gtp5g from ${desired} node(s): ${done.length} done, ${failed.length} failed.`
    case 'Installed': return `gtp5g ${version} is loaded on all ${desired} selected node(s).`
    case 'Failed': return `gtp5g ${version} failed on ${failed.length} of ${desired} node(s): ${failed.slice(0, 3).map(f => `${f.nodeName} (${f.reason})`).join(', ')}${failed.length > 3 ? ', …' : ''}.`
    case 'Pending': return desired === 0 ? 'No node matches spec.nodeSelector.' : `Waiting for installer pods on ${desired} node(s).`
    case 'Installing': return `gtp5g ${version} is loaded on ${done.length} of ${desired} node(s).`
  }
}

function conflictMessage (contested: readonly Contest[]): string {
  const byOwner = new Map<string, string[]>()
  for (const c of contested) {
    const nodes = byOwner.get(c.owner)
    if (nodes === undefined) byOwner.set(c.owner, [c.node])
    else nodes.push(c.node)
  }
  return [...byOwner.keys()].sort().map(owner => {
    const nodes = (byOwner.get(owner) ?? []).sort()
    return `node(s) ${listNodes(nodes)} belong to the older GTP5GModule "${owner}" and are left out`
  }).join('; ')
}

function conditionValues (phase: Phase, input: StatusInput): ConditionValue[] {
  const { tally, contested } = input
  const inProgress = tally.desired - tally.done.length - tally.failed.length
  const message = sentence(phase, input)
  const ready: ConditionValue = phase === 'Installed'
    ? { type: 'Ready', status: 'True', reason: 'Installed', message }
    : {
        type: 'Ready',
        status: 'False',
        reason: phase === 'Failed' ? 'NodesFailed' : phase === 'Pending' && tally.desired === 0 ? 'NoMatchingNodes' : phase,
        message
      }
  const progressing: ConditionValue = inProgress > 0
    ? { type: 'Progressing', status: 'True', reason: input.finalizing !== undefined ? 'Unloading' : 'RollingOut', message: `${inProgress} node(s) in progress.` }
    : { type: 'Progressing', status: 'False', reason: tally.failed.length > 0 ? 'NodesFailed' : tally.desired === 0 ? 'NoMatchingNodes' : 'Complete', message }
  const problems: string[] = []
  if (contested.length > 0) problems.push(conflictMessage(contested))
  if (input.tooManyContested) {
    problems.push(`${contested.length} contested nodes are more than node affinity can exclude (${MAX_EXCLUSION_BYTES / 1024} KiB of node names), ` +
      'so the installer DaemonSet was not changed: narrow spec.nodeSelector to the nodes this module should own')
  }
  if (tally.failed.length > 0) problems.push(`${tally.failed.length} node(s) failed`)
  const degraded: ConditionValue = problems.length === 0
    ? { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'No problems.' }
    : { type: 'Degraded', status: 'True', reason: contested.length > 0 ? 'Conflict' : 'NodesFailed', message: `${problems.join('; ')}.` }
  return [ready, progressing, degraded]
}

const count = (v: unknown): number | undefined => Number.isSafeInteger(v) && (v as number) >= 0 ? v as number : undefined
const oneOf = <T extends string>(values: readonly T[], v: unknown): T | undefined => (values as readonly unknown[]).includes(v) ? v as T : undefined

function wellFormedCondition (c: unknown): Condition | undefined {
  if (!isObject(c)) return undefined
  const type = oneOf(CONDITION_TYPES, c.type)
  const status = oneOf(['True', 'False', 'Unknown'] as const, c.status)
  const [reason, message, lastTransitionTime] = [str(c.reason), str(c.message), str(c.lastTransitionTime)]
  if (type === undefined || status === undefined || reason === undefined || message === undefined || lastTransitionTime === undefined) return undefined
  const observedGeneration = count(c.observedGeneration)
  return { type, status, reason, message, lastTransitionTime, ...(observedGeneration === undefined ? {} : { observedGeneration }) }
}

/**
 * The well-formed part of the status Metacontroller last wrote, rebuilt field by field: the
 * previous status is input like any other, and whatever of it we echo must be valid status.
 * (The API server would have pruned or refused the rest.) The one reader of parent.status:
 * everything below takes what it returns.
 */
export function previousStatus (raw: unknown): GTP5GModuleStatus {
  const s = isObject(raw) ? raw : {}
  const out: GTP5GModuleStatus = {}
  const phase = oneOf(PHASES, s.phase)
  if (phase !== undefined) out.phase = phase
  for (const key of ['desired', 'installed', 'failed'] as const) {
    const n = count(s[key])
    if (n !== undefined) out[key] = n
  }
  const version = str(s.version)
  if (version !== undefined) out.version = version
  if (Array.isArray(s.installedNodes)) out.installedNodes = s.installedNodes.filter(n => typeof n === 'string').slice(0, MAX_INSTALLED_NODES)
  if (Array.isArray(s.failedNodes)) {
    out.failedNodes = s.failedNodes.flatMap(f => {
      const [nodeName, reason, message] = isObject(f) ? [str(f.nodeName), str(f.reason), str(f.message)] : []
      return nodeName === undefined || reason === undefined || message === undefined ? [] : [{ nodeName, reason, message }]
    }).slice(0, MAX_LISTED_NODES)
  }
  if (Array.isArray(s.conditions)) out.conditions = s.conditions.flatMap(c => wellFormedCondition(c) ?? [])
  const message = str(s.message)
  if (message !== undefined) out.message = message
  const lastUpdateTime = str(s.lastUpdateTime)
  if (lastUpdateTime !== undefined) out.lastUpdateTime = lastUpdateTime
  return out
}

/** Keeps the previous lastUpdateTime when nothing else in status changed. */
function stampUpdateTime (status: Omit<GTP5GModuleStatus, 'lastUpdateTime'>, previous: GTP5GModuleStatus, now: Date): GTP5GModuleStatus {
  const { lastUpdateTime, observedGeneration, ...rest } = previous
  const unchanged = lastUpdateTime !== undefined && isDeepStrictEqual(rest, status)
  return { ...status, lastUpdateTime: unchanged ? lastUpdateTime : timestamp(now) }
}

export function computeStatus (input: StatusInput): GTP5GModuleStatus {
  const phase = phaseOf(input)
  const { tally } = input
  // Where gtp5g is (or may still be) loaded: while unloading, every node that has not confirmed
  // the unload yet, so `installed` and `installedNodes` always say the same thing.
  const unloaded = new Set(tally.done)
  const loaded = input.finalizing === 'unload' ? tally.nodes.filter(n => !unloaded.has(n)) : tally.done
  return stampUpdateTime({
    phase,
    version: input.version,
    desired: tally.desired,
    installed: loaded.length,
    failed: tally.failed.length,
    // Complete (up to MAX_INSTALLED_NODES): the Node decorator labels these nodes, except while
    // Unloading, when it removes every label of the module at once.
    installedNodes: loaded.slice(0, MAX_INSTALLED_NODES),
    failedNodes: tally.failed.slice(0, MAX_LISTED_NODES),
    conditions: conditionsFrom(input.previous.conditions, conditionValues(phase, input), input.generation, input.now),
    message: sentence(phase, input)
  }, input.previous, input.now)
}

/** Why a spec was not applied: it fails validation, or the hook server's installer policy refuses it. */
type RefusalReason = 'InvalidSpec' | 'PolicyDenied'

const REFUSED: Record<RefusalReason, string> = {
  InvalidSpec: 'The spec is invalid and was not applied',
  PolicyDenied: 'The spec is refused by the hook server\'s installer policy and was not applied'
}

/** A spec the hook does not act on, and why. */
export interface Refusal {
  reason: RefusalReason
  /** Names the field (InvalidSpec) or the policy setting (PolicyDenied). */
  message: string
}

/**
 * Status for a spec the hook will not act on, invalid or refused by the policy: everything
 * observed before stays as it was, and Degraded says which field is wrong or which rule refuses it.
 */
export function refusedSpecStatus (previous: GTP5GModuleStatus, { reason, message }: Refusal, generation: number | undefined, now: Date): GTP5GModuleStatus {
  const { lastUpdateTime, observedGeneration, conditions, ...rest } = previous
  const before = (type: ConditionType): Condition | undefined => conditions?.find(c => c.type === type)
  // Scheduling is carried only when it was there: a module without spec.scheduling has none.
  const types = before('Scheduling') === undefined ? ['Ready', 'Progressing'] as const : ['Ready', 'Progressing', 'Scheduling'] as const
  const carried = types.map(type => {
    const c = before(type)
    return c === undefined
      ? { type, status: 'Unknown' as const, reason, message }
      : { type, status: c.status, reason: c.reason, message: c.message }
  })
  return stampUpdateTime({
    ...rest,
    phase: previous.phase ?? 'Pending',
    conditions: conditionsFrom(conditions, [...carried, { type: 'Degraded', status: 'True', reason, message }], generation, now),
    message: `${REFUSED[reason]}: ${message}`
  }, previous, now)
}

/**
 * `status` with one more condition (Scheduling), its time carried forward like the others, and
 * lastUpdateTime stamped again over the whole.
 */
export function withCondition (status: GTP5GModuleStatus, value: ConditionValue, previous: GTP5GModuleStatus, generation: number | undefined, now: Date): GTP5GModuleStatus {
  const { lastUpdateTime, ...rest } = status
  const added = conditionsFrom(previous.conditions, [value], generation, now)
  return stampUpdateTime({ ...rest, conditions: [...(rest.conditions ?? []).filter(c => c.type !== value.type), ...added] }, previous, now)
}
