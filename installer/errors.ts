// The installer's failure vocabulary: every failure carries a contract reason code. Anything
// else that escapes is a bug and is reported as InternalError, never swallowed.
import type { InstallerReason, TerminationMessage } from '../contract/index.js'

export class InstallerError extends Error {
  readonly reason: InstallerReason
  constructor (reason: InstallerReason, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'InstallerError'
    this.reason = reason
  }
}

export function toTermination (err: unknown): TerminationMessage {
  if (err instanceof InstallerError) return { reason: err.reason, message: err.message }
  const message = err instanceof Error ? err.message : String(err)
  return { reason: 'InternalError', message: `unexpected error: ${message}` }
}

/** The last `lines` lines of a process's output: compiler errors are at the end. */
export function tailLines (text: string, lines: number): string {
  const all = text.replace(/\s+$/, '').split('\n')
  return all.slice(-lines).join('\n')
}
