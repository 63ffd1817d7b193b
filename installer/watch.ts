// Keeps the desired state after it was reached: the pod stays up (it is the readiness signal),
// and a module that disappears (someone ran rmmod) is loaded again from the cache.
export interface Watch {
  /** Resolves when stopped; rejects with the first failure of `repair`. */
  done: Promise<void>
  stop: () => void
}

export function watch (intervalMs: number, needsRepair: () => Promise<boolean>, repair: () => Promise<void>): Watch {
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  let settle!: (err?: unknown) => void
  const done = new Promise<void>((resolve, reject) => { settle = err => err === undefined ? resolve() : reject(err) })
  const tick = async (): Promise<void> => {
    try {
      if (!stopped && await needsRepair()) await repair()
    } catch (err) {
      stopped = true
      settle(err)
      return
    }
    if (!stopped) timer = setTimeout(schedule, intervalMs)
  }
  // tick() never rejects (it settles `done` instead), so its promise can be dropped.
  const schedule = (): void => { tick().catch(() => {}) }
  timer = setTimeout(schedule, intervalMs)
  return {
    done,
    stop: () => {
      stopped = true
      clearTimeout(timer)
      settle()
    }
  }
}
