// The agent's configuration from argv and env (the names are the contract's AGENT_ENV). Pure:
// the caller passes them in. The rules arrive as JSON written by the hooks, already validated
// there; they are checked again because a hand-edited Deployment can say anything.
import { AGENT_CREDENTIALS_DIR, AGENT_ENV, AGENT_MODES, AGENT_STATE_DIR, type AgentMode, type AgentRule, ENV_TERMINATION_LOG, TERMINATION_LOG } from '../contract/index.js'
import { AgentFailure } from './session.js'

export interface AgentConfig {
  command: 'run' | 'check'
  managerUrl: string
  owner: string
  mode: AgentMode
  rules: AgentRule[]
  credentialsDir: string
  stateDir: string
  terminationLog: string
  resyncSeconds: number
  unreachableExitSeconds: number
}

type Env = Readonly<Record<string, string | undefined>>

const invalid = (message: string): AgentFailure => new AgentFailure('InvalidConfig', message)

function seconds (env: Env, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > 3600) throw invalid(`${name} must be an integer from 1 to 3600; got "${raw}"`)
  return n
}

function isRule (r: unknown): r is AgentRule {
  if (typeof r !== 'object' || r === null) return false
  const o = r as Record<string, unknown>
  return typeof o.name === 'string' && typeof o.commandRegex === 'string' &&
    typeof o.podSelector === 'object' && o.podSelector !== null && Object.values(o.podSelector).every(v => typeof v === 'string') &&
    Array.isArray(o.namespaces) && o.namespaces.every(n => typeof n === 'string') &&
    Number.isSafeInteger(o.priority) && Number.isSafeInteger(o.executionTimeNs)
}

export function parseAgentConfig (argv: readonly string[], env: Env): AgentConfig {
  const command = argv[0] ?? 'run'
  if (argv.length > 1 || (command !== 'run' && command !== 'check')) throw invalid(`expected "run" or "check", got: ${argv.join(' ')}`)
  const stateDir = env[AGENT_ENV.stateDir] || AGENT_STATE_DIR
  const base = { command, stateDir, terminationLog: env[ENV_TERMINATION_LOG] || TERMINATION_LOG } as const
  if (command === 'check') {
    return { ...base, managerUrl: '', owner: '', mode: 'apply', rules: [], credentialsDir: '', resyncSeconds: 10, unreachableExitSeconds: 60 }
  }
  const managerUrl = env[AGENT_ENV.managerUrl] ?? ''
  if (!/^https?:\/\/[!-~]+$/.test(managerUrl)) throw invalid(`${AGENT_ENV.managerUrl} must be an http(s) URL; got "${managerUrl}"`)
  const owner = env[AGENT_ENV.owner] ?? ''
  if (owner === '' || owner.includes('/')) throw invalid(`${AGENT_ENV.owner} must be the module name; got "${owner}"`)
  const mode = env[AGENT_ENV.mode] || 'apply'
  if (!(AGENT_MODES as readonly string[]).includes(mode)) throw invalid(`${AGENT_ENV.mode} must be one of ${AGENT_MODES.join(', ')}; got "${mode}"`)
  let rules: unknown
  try {
    rules = JSON.parse(env[AGENT_ENV.rules] ?? '[]')
  } catch (error) {
    throw invalid(`${AGENT_ENV.rules} is not JSON: ${(error as Error).message}`)
  }
  if (!Array.isArray(rules) || !rules.every(isRule)) throw invalid(`${AGENT_ENV.rules} must be a JSON array of rules {name, commandRegex, podSelector, namespaces, priority, executionTimeNs}`)
  if (mode === 'apply' && rules.length === 0) throw invalid(`${AGENT_ENV.rules} holds no rule`)
  return {
    ...base,
    managerUrl,
    owner,
    mode: mode as AgentMode,
    rules,
    credentialsDir: env[AGENT_ENV.credentialsDir] || AGENT_CREDENTIALS_DIR,
    resyncSeconds: seconds(env, AGENT_ENV.resyncSeconds, 10),
    unreachableExitSeconds: seconds(env, AGENT_ENV.unreachableExitSeconds, 60)
  }
}
