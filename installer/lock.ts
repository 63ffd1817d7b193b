// One installer at a time per cache entry, across pods: flock(2) on <entry>/.lock on the host
// path (two pods of a rollout, or a restart while the old process still writes, share it).
// Node has no flock, and a native addon would not build in the image (`npm ci --ignore-scripts`),
// so flock(1) from util-linux takes the lock on an open file description it shares with us: the
// lock stays with our descriptor after flock(1) exits, and the kernel drops it when we close it
// or die (SIGKILL, OOM, node crash), so there are no stale lock files to expire by age, unlike
// mkdir-based npm lock packages. The file is opened close-on-exec: make never inherits it.
import { constants } from 'node:fs'
import { type FileHandle, open } from 'node:fs/promises'
import { hostname } from 'node:os'
import { InstallerError } from './errors.js'
import { run, type RunResult } from './exec.js'
import { formatDuration } from './limits.js'

export interface Lock {
  /** Idempotent. */
  release: () => Promise<void>
}

export interface LockOptions {
  timeoutMs: number
  signal?: AbortSignal | undefined
  /** Written into the lock file while held, for the message another waiter gives up with. */
  owner?: string
}

/** flock(1)'s exit code when the wait timed out (we pick EX_TEMPFAIL to tell it from errors). */
const TIMED_OUT = 75

async function flock (fd: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<RunResult> {
  const wait = timeoutMs <= 0 ? ['--nonblock'] : ['--wait', (timeoutMs / 1000).toFixed(3)]
  // fd 3 of the child is our descriptor: the lock flock(1) takes is ours.
  return await run('flock', ['--exclusive', '--conflict-exit-code', String(TIMED_OUT), ...wait, '3'], { fds: [fd], ...(signal === undefined ? {} : { signal }) })
}

async function holderOf (fh: FileHandle): Promise<string> {
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(512), 0, 512, 0)
    const text = buffer.subarray(0, bytesRead).toString('utf8').trim()
    return text === '' ? 'unknown' : text
  } catch {
    return 'unknown'
  }
}

export async function acquireLock (file: string, opts: LockOptions): Promise<Lock> {
  const fh = await open(file, constants.O_RDWR | constants.O_CREAT, 0o644)
  try {
    let res
    try {
      res = await flock(fh.fd, opts.timeoutMs, opts.signal)
    } catch (err) {
      throw new InstallerError('InternalError', `cannot run flock(1) (util-linux) to lock ${file}: ${(err as Error).message}`, { cause: err })
    }
    if (opts.signal?.aborted === true) throw opts.signal.reason
    if (res.code === TIMED_OUT) {
      throw new InstallerError('CacheLocked',
        `another installer on this node has held ${file} for more than ${formatDuration(opts.timeoutMs)} (holder: ${await holderOf(fh)}); ` +
        'it may be stuck: find it (the holder line names its pod and pid), or delete that pod; this pod retries')
    }
    if (res.code !== 0) throw new InstallerError('InternalError', `flock ${file} exited ${String(res.code)}: ${res.output.trim()}`)
    const owner = opts.owner ?? `pod ${hostname()} pid ${process.pid}`
    await fh.truncate(0)
    await fh.write(`${owner} since ${new Date().toISOString()}\n`, 0)
  } catch (err) {
    await fh.close()
    throw err
  }
  let released = false
  return {
    release: async () => {
      if (released) return
      released = true
      // Clearing the holder line is cosmetic; closing the descriptor is what unlocks.
      await fh.truncate(0).catch(() => {})
      await fh.close()
    }
  }
}
