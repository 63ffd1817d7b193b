// One JSON log line per install step with its duration, whether it succeeded or failed.
import { InstallerError } from './errors.js'

export interface StepLogger {
  info: (obj: object, msg: string) => void
  error: (obj: object, msg: string) => void
}

export type Clock = () => number

export async function step<T> (log: StepLogger, now: Clock, name: string, fn: () => Promise<T>, describe?: (r: T) => object): Promise<T> {
  const start = now()
  try {
    const result = await fn()
    log.info({ step: name, durationMs: Math.round(now() - start), ...(describe?.(result) ?? {}) }, name)
    return result
  } catch (err) {
    if ((err as Error | undefined)?.name === 'AbortError') {
      log.info({ step: name, durationMs: Math.round(now() - start), aborted: true }, `${name} stopped`)
      throw err
    }
    const reason = err instanceof InstallerError ? err.reason : 'InternalError'
    log.error({ step: name, durationMs: Math.round(now() - start), reason, err: (err as Error).message }, `${name} failed`)
    throw err
  }
}
