// kbuild through gtp5g's own Makefile, whose interface is `make KVER=<kernel> KDIR=<headers>`
// (it then runs `make -C $(KDIR) M=$(PWD) modules`). The full log goes to a file the caller
// keeps; the BuildFailed message leads with the compiler's first error line and carries the tail.
//
// Why values are checked, not quoted: make treats `VAR=value` on its command line as a recursive
// variable, so `$(shell …)` in the value runs when the Makefile uses $(VAR), and gtp5g's recipe
// then hands $(KDIR) to /bin/sh, where `;`, backticks and `$(…)` mean something again. No quoting
// survives both layers, so only plain characters may reach make (exec.ts starts it without a
// shell). The kernel release is validated where it enters (config.ts, core/plan.ts); this is the
// last check before make, for every value we put on its command line.
import { createWriteStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import path from 'node:path'
import { type InstallerReason, MODULE_FILE } from '../contract/index.js'
import { InstallerError, tailLines } from './errors.js'
import type { Runner, RunResult } from './exec.js'
import { formatBytes, formatDuration } from './limits.js'

export const BUILD_TAIL_LINES = 40
/** The tail in a failure message stays under this, so the compiler's first error line fits beside it in 4 KiB. */
export const BUILD_TAIL_BYTES = 2560

/** The compiler's (or make's) first error line: what a reader of the node's status needs first. */
export function firstError (output: string): string | undefined {
  const lines = output.split('\n')
  return (lines.find(l => /(^|:\s*)(fatal )?error:/.test(l)) ?? lines.find(l => /\*\*\* /.test(l)))?.trim().slice(0, 512)
}

/** The last lines of the output, at most BUILD_TAIL_LINES and BUILD_TAIL_BYTES. */
function boundedTail (output: string): string {
  let tail = tailLines(output, BUILD_TAIL_LINES)
  while (Buffer.byteLength(tail) > BUILD_TAIL_BYTES) {
    const cut = tail.indexOf('\n')
    tail = cut < 0 ? tail.slice(-BUILD_TAIL_BYTES) : tail.slice(cut + 1)
  }
  return tail
}

/** Letters, digits and `. _ + ~ - /`: nothing make or a shell would expand or split. */
const MAKE_SAFE = /^[A-Za-z0-9._+~/-]+$/

export function assertMakeSafe (value: string, what: string, reason: InstallerReason): void {
  if (!MAKE_SAFE.test(value)) {
    throw new InstallerError(reason,
      `refusing to pass ${what} ${JSON.stringify(value)} to make: only letters, digits and . _ + ~ - / are allowed ` +
      '(make expands $(...) in command-line values and the recipe hands them to a shell)')
  }
}

export interface BuildResult { ko: string, output: string }

export interface BuildOptions {
  timeoutMs: number
  /** Output beyond this stops the build (BuildLogTooLarge); the log keeps this much. */
  maxLogBytes: number
  /** Shutdown: the build is killed and the signal's reason is thrown. */
  signal?: AbortSignal | undefined
  /** More `NAME=value` settings for make (kbuild overrides); each value is checked like the others. */
  makeVars?: readonly string[] | undefined
}

export async function kbuild (runner: Runner, srcDir: string, kernel: string, kdir: string, logFile: string, opts: BuildOptions): Promise<BuildResult> {
  assertMakeSafe(kernel, 'the kernel release', 'InvalidConfig')
  assertMakeSafe(kdir, 'the headers directory', 'InvalidConfig')
  assertMakeSafe(srcDir, 'the source directory', 'SourceUnavailable')
  for (const v of opts.makeVars ?? []) assertMakeSafe(v.replace(/^[A-Z_]+=/, ''), `the make setting ${v.split('=')[0] ?? ''}`, 'InvalidConfig')
  const jobs = String(Math.max(1, availableParallelism()))
  const timeout = AbortSignal.timeout(opts.timeoutMs)
  const logFull = new AbortController()
  const signal = AbortSignal.any([timeout, logFull.signal, ...(opts.signal === undefined ? [] : [opts.signal])])

  const log = createWriteStream(logFile)
  let logged = 0
  const onOutput = (chunk: Buffer): void => {
    if (logFull.signal.aborted) return
    const room = opts.maxLogBytes - logged
    if (chunk.length > room) {
      log.write(chunk.subarray(0, Math.max(0, room)))
      log.write(`\n[gtp5g-installer] build output exceeded ${formatBytes(opts.maxLogBytes)}; build stopped\n`)
      logged = opts.maxLogBytes
      logFull.abort()
      return
    }
    logged += chunk.length
    log.write(chunk)
  }
  let result: RunResult
  try {
    result = await runner('make', ['-C', srcDir, `-j${jobs}`, `KVER=${kernel}`, `KDIR=${kdir}`, ...(opts.makeVars ?? [])], {
      cwd: srcDir,
      // C locale: error text the operator can search for, in ASCII (gcc quotes 'x' instead of
      // ‘x’), whatever the image's default. The kernel's Makefile unexports LC_ALL, so LANG and
      // LC_CTYPE, which gcc then reads, are set too.
      env: { ...process.env, LC_ALL: 'C', LANG: 'C', LC_CTYPE: 'C', LC_MESSAGES: 'C' },
      onOutput,
      signal
    })
  } catch (err) {
    throw new InstallerError('BuildFailed', `cannot run make: ${(err as Error).message}`, { cause: err })
  } finally {
    await new Promise(resolve => log.end(resolve))
  }
  const output = result.output
  const tail = (): string => boundedTail(output)
  if (result.aborted === true || signal.aborted) {
    if (opts.signal?.aborted === true) throw opts.signal.reason
    if (logFull.signal.aborted) {
      throw new InstallerError('BuildLogTooLarge',
        `make wrote more than ${formatBytes(opts.maxLogBytes)} of output and was stopped (a gtp5g build writes a few KiB; the log is capped to protect the node's disk); last lines:\n${tail()}`)
    }
    throw new InstallerError('BuildTimeout', `make did not finish within ${formatDuration(opts.timeoutMs)} and was killed with its compilers; last lines:\n${tail()}`)
  }
  if (result.code !== 0) {
    const how = result.code === null ? `killed by ${result.signal ?? 'a signal'}` : `exit ${result.code}`
    const first = firstError(output)
    throw new InstallerError('BuildFailed', `make ${how}${first === undefined ? '' : `: ${first}`}; last lines:\n${tail()}`)
  }
  const ko = path.join(srcDir, MODULE_FILE)
  try {
    if (!(await stat(ko)).isFile()) throw new Error('not a file')
  } catch {
    throw new InstallerError('BuildFailed', `make succeeded but produced no ${MODULE_FILE}; last lines:\n${tail()}`)
  }
  return { ko, output: result.output }
}
