// The one place that starts processes, always from an argv array (never a shell). Output is
// interleaved (stdout + stderr) because a compiler's context and its error belong together;
// stdout is also kept on its own, for a caller that reads what a program printed (the snapshot
// check). Only a bounded tail of either is kept in memory. A run can be cut short by a signal
// (a timeout is `AbortSignal.any([signal, AbortSignal.timeout(ms)])`): the child leads its own
// process group and the whole group is killed, so `make -j` cannot leave compilers behind.
import { spawn } from 'node:child_process'

export interface RunResult {
  code: number | null
  signal: string | null
  output: string
  /** Its stdout alone (the last KEEP_BYTES of it). Runners faked in tests may leave it out. */
  stdout?: string
  /** The run was stopped through `opts.signal` (timeout, output cap, shutdown). */
  aborted?: boolean
}
export interface RunOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  onOutput?: (chunk: Buffer) => void
  signal?: AbortSignal
  /** Descriptors the child gets as fd 3, 4, …: the lock file flock(1) locks for us (lock.ts). */
  fds?: readonly number[]
}
export type Runner = (cmd: string, args: readonly string[], opts?: RunOptions) => Promise<RunResult>

const KEEP_BYTES = 256 * 1024
/** After the group is killed, how long to wait for a descendant that escaped it to close our pipes. */
const CLOSE_GRACE_MS = 2000

export const run: Runner = (cmd, args, opts = {}) => new Promise((resolve, reject) => {
  if (opts.signal?.aborted === true) {
    resolve({ code: null, signal: null, output: '', stdout: '', aborted: true })
    return
  }
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe', ...(opts.fds ?? [])], detached: true })
  let kept: Buffer = Buffer.alloc(0)
  let keptStdout: Buffer = Buffer.alloc(0)
  let aborted = false
  let settled = false
  let exit: { code: number | null, signal: string | null } | undefined
  const finish = (): void => {
    if (settled || exit === undefined) return
    settled = true
    opts.signal?.removeEventListener('abort', kill)
    resolve({ ...exit, output: kept.toString('utf8'), stdout: keptStdout.toString('utf8'), aborted })
  }
  const tail = (buf: Buffer, chunk: Buffer): Buffer => {
    const joined = Buffer.concat([buf, chunk])
    return joined.length > KEEP_BYTES ? joined.subarray(joined.length - KEEP_BYTES) : joined
  }
  const collect = (chunk: Buffer): void => {
    if (settled) return
    opts.onOutput?.(chunk)
    kept = tail(kept, chunk)
  }
  function kill (): void {
    aborted = true
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  opts.signal?.addEventListener('abort', kill, { once: true })
  // Both are pipes (stdio above); the extra descriptors only make their type nullable.
  child.stdout?.on('data', (chunk: Buffer) => {
    if (!settled) keptStdout = tail(keptStdout, chunk)
    collect(chunk)
  })
  child.stderr?.on('data', collect)
  child.on('error', err => {
    opts.signal?.removeEventListener('abort', kill)
    if (!settled) { settled = true; reject(err) }
  })
  child.on('exit', (code, signal) => {
    exit = { code, signal }
    // Normally 'close' follows at once; a killed run does not wait on a stray holder of the pipe.
    if (aborted) setTimeout(finish, CLOSE_GRACE_MS).unref()
  })
  child.on('close', (code, signal) => {
    exit ??= { code, signal }
    finish()
  })
})
