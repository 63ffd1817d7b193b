// One pass of the agent: make the Manager hold exactly one strategy per rule, tagged with this
// module's strategyNamespace, and nothing else of ours. The Manager gives no id on create, so a
// strategy is found by listing; a strategy of ours that no rule wants (a removed or renamed
// rule, a duplicate from a create whose answer was lost) is deleted, so none ever leaks.
import { type AgentRule, strategyTag } from '../contract/index.js'
import { ManagerError, type Strategy, type StrategyBody } from './manager.js'
import type { ManagerApi } from './manager.js'
import { AgentFailure, type Session } from './session.js'

export function bodyOf (owner: string, rule: AgentRule): StrategyBody {
  return {
    strategyNamespace: strategyTag(owner, rule.name),
    labelSelectors: Object.entries(rule.podSelector).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([key, value]) => ({ key, value })),
    k8sNamespace: [...rule.namespaces].sort(),
    commandRegex: rule.commandRegex,
    priority: rule.priority,
    executionTime: rule.executionTimeNs
  }
}

/** Whether the stored strategy already says exactly what the body says. */
export function sameStrategy (stored: Strategy, body: StrategyBody): boolean {
  const selectors = (stored.LabelSelectors ?? []).map(s => `${s.key}=${s.value}`).sort().join(',')
  return stored.StrategyNamespace === body.strategyNamespace &&
    selectors === body.labelSelectors.map(s => `${s.key}=${s.value}`).join(',') &&
    [...(stored.K8sNamespace ?? [])].sort().join(',') === body.k8sNamespace.join(',') &&
    stored.CommandRegex === body.commandRegex &&
    stored.Priority === body.priority &&
    stored.ExecutionTime === body.executionTime
}

export interface PassResult {
  /** Rules whose strategy the Manager refused because no pod matches it yet. */
  waiting: string[]
  created: number
  updated: number
  deleted: number
  /** A strategy vanished between listing and updating it: the next pass should come soon. */
  retry: boolean
}

const noPods = (error: unknown): boolean => error instanceof ManagerError && error.status === 404 && /no pods match/i.test(error.message)
const vanished = (error: unknown): boolean => error instanceof ManagerError && error.status === 404 && !noPods(error)

/** The Manager's 4xx other than "no pods match" means it will never take this body: a person must change the spec. */
function rejected (rule: string, error: unknown): never {
  if (error instanceof ManagerError && error.status !== undefined && error.status >= 400 && error.status < 500 && error.status !== 401) {
    throw new AgentFailure(error.status === 403 ? 'AuthFailed' : 'Rejected', `rule ${rule}: ${error.message}`)
  }
  throw error
}

/** Deleted by someone else in the meantime is as good as deleted. */
async function deleteIfThere (api: ManagerApi, session: Session, id: string): Promise<void> {
  try {
    await session.call(t => api.deleteStrategy(t, id))
  } catch (error) {
    if (!(error instanceof ManagerError && error.status === 404)) throw error
  }
}

export async function ourStrategies (api: ManagerApi, session: Session, owner: string): Promise<Strategy[]> {
  const prefix = strategyTag(owner)
  return (await session.call(t => api.listStrategies(t))).filter(s => typeof s.StrategyNamespace === 'string' && s.StrategyNamespace.startsWith(prefix))
}

export async function applyPass (api: ManagerApi, session: Session, owner: string, rules: readonly AgentRule[]): Promise<PassResult> {
  const result: PassResult = { waiting: [], created: 0, updated: 0, deleted: 0, retry: false }
  const wanted = new Map(rules.map(r => [strategyTag(owner, r.name), r]))
  const byTag = new Map<string, Strategy[]>()
  for (const s of await ourStrategies(api, session, owner)) byTag.set(s.StrategyNamespace, [...(byTag.get(s.StrategyNamespace) ?? []), s])

  // Ours but unwanted: a rule removed or renamed, or a second copy of a rule's strategy.
  for (const [tag, strategies] of byTag) {
    for (const s of wanted.has(tag) ? strategies.slice(1) : strategies) {
      await deleteIfThere(api, session, s.ID)
      result.deleted++
    }
  }

  for (const [tag, rule] of wanted) {
    const body = bodyOf(owner, rule)
    const stored = byTag.get(tag)?.[0]
    try {
      if (stored === undefined) {
        await session.call(t => api.createStrategy(t, body))
        result.created++
      } else if (!sameStrategy(stored, body)) {
        try {
          await session.call(t => api.updateStrategy(t, stored.ID, body))
          result.updated++
        } catch (error) {
          // The rule now selects no pod: its old strategy must not keep boosting the pods it
          // selected before. Gone now; created again once a pod matches.
          if (noPods(error)) {
            await deleteIfThere(api, session, stored.ID)
            result.deleted++
          }
          throw error
        }
      }
    } catch (error) {
      if (noPods(error)) result.waiting.push(rule.name)
      else if (vanished(error)) result.retry = true
      else rejected(rule.name, error)
    }
  }
  return result
}

/** Cleanup (finalize): delete every strategy this module owns. Returns how many were deleted. */
export async function cleanupPass (api: ManagerApi, session: Session, owner: string): Promise<number> {
  let deleted = 0
  for (const s of await ourStrategies(api, session, owner)) {
    await deleteIfThere(api, session, s.ID)
    deleted++
  }
  return deleted
}
