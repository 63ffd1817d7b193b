// The agent's loop, with every effect behind a port (clock, sleep, the Manager, the state it
// reports) so the tests drive it on a fake clock. apply: reconcile every resyncSeconds, back off
// on errors, exit with a reason only when a person must act (AuthFailed, Rejected) or the
// Manager stayed unreachable too long. cleanup: delete this module's strategies, then stay ready.
import type { AgentMode, AgentRule } from '../contract/index.js'
import { ManagerError, type ManagerApi } from './manager.js'
import { applyPass, cleanupPass } from './reconcile.js'
import { AgentFailure, type Credentials, Session } from './session.js'

/** What `check` (the readiness probe) reads. */
export interface AgentReport {
  ready: boolean
  reason: 'Applied' | 'WaitingForPods' | 'ManagerUnreachable' | 'Removed' | 'Starting'
  message: string
}

export interface AgentPorts {
  api: ManagerApi
  credentials: () => Promise<Credentials>
  now: () => number
  /** Resolves after ms, or early when `stopped` turns true. */
  sleep: (ms: number) => Promise<void>
  report: (r: AgentReport) => Promise<void>
  log: (event: string, fields?: Record<string, unknown>) => void
  stopped: () => boolean
}

export interface AgentSettings {
  owner: string
  mode: AgentMode
  rules: AgentRule[]
  resyncSeconds: number
  unreachableExitSeconds: number
}

export const BACKOFF_MIN_MS = 1_000
export const BACKOFF_MAX_MS = 30_000
/** While a rule waits for its pods, look again this often. */
export const WAITING_RESYNC_MS = 5_000

/** Returns when stopped; throws AgentFailure when the agent must exit and say why. */
export async function runAgent (settings: AgentSettings, ports: AgentPorts): Promise<void> {
  const session = new Session(ports.api, ports.credentials, ports.now)
  let backoff = BACKOFF_MIN_MS
  let unreachableSince: number | undefined
  let cleanedUp = false
  while (!ports.stopped()) {
    let wait: number
    try {
      if (settings.mode === 'cleanup') {
        if (!cleanedUp) {
          const deleted = await cleanupPass(ports.api, session, settings.owner)
          cleanedUp = true
          ports.log('cleaned up', { deleted })
          await ports.report({ ready: true, reason: 'Removed', message: `removed ${deleted} strategy(ies)` })
        }
        wait = settings.resyncSeconds * 1000
      } else {
        const pass = await applyPass(ports.api, session, settings.owner, settings.rules)
        if (pass.created + pass.updated + pass.deleted > 0) ports.log('reconciled', { ...pass })
        if (pass.waiting.length === 0 && !pass.retry) {
          await ports.report({ ready: true, reason: 'Applied', message: `${settings.rules.length} strategy(ies) in place` })
          wait = settings.resyncSeconds * 1000
        } else {
          await ports.report({ ready: false, reason: 'WaitingForPods', message: `no pod matches rule(s) ${pass.waiting.join(', ')} yet` })
          wait = pass.retry ? BACKOFF_MIN_MS : WAITING_RESYNC_MS
        }
      }
      backoff = BACKOFF_MIN_MS
      unreachableSince = undefined
    } catch (error) {
      if (error instanceof AgentFailure) throw error
      const message = error instanceof ManagerError ? error.message : `unexpected: ${(error as Error).message}`
      unreachableSince ??= ports.now()
      ports.log('manager error', { message, backoffMs: backoff })
      if (ports.now() - unreachableSince >= settings.unreachableExitSeconds * 1000) {
        throw new AgentFailure('ManagerUnreachable', `the Manager failed for ${Math.round((ports.now() - unreachableSince) / 1000)} s: ${message}`)
      }
      // Cleanup stays ready once done: the strategies are gone whatever the Manager does now.
      if (!cleanedUp) await ports.report({ ready: false, reason: 'ManagerUnreachable', message })
      wait = backoff
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS)
    }
    await ports.sleep(wait)
  }
}
