// kbuild through gtp5g's own Makefile, whose interface is `make KVER=<kernel> KDIR=<headers>`
// (it then runs `make -C $(KDIR) M=$(PWD) modules`). The full log goes to a file the caller
// keeps; the BuildFailed message carries its tail, where the compiler puts the error.
//
// Why values are checked, not quoted: make treats `VAR=value` on its command line as a recursive
// variable, so `$(shell …)` in the value runs when the Makefile uses $(VAR), and gtp5g's recipe
// then hands $(KDIR) to /bin/sh, where `;`, backticks and `$(…)` mean something again. No quoting
// survives both layers, so only plain characters may reach make (exec.ts starts it without a
// shell). The kernel release is validated where it enters (config.ts, flow.ts); this is the
// last check before make, for every value we put on its command line.
import { createWriteStream } from 'node:fs'
import { access, stat } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import path from 'node:path'
import { type InstallerReason, MODULE_FILE } from '../contract/index.js'
import { InstallerError, tailLines } from './errors.js'
import { type Runner } from './exec.js'

export const BUILD_TAIL_LINES = 40

/** Letters, digits and `. _ + ~ - /`: nothing make or a shell would expand or split. */
const MAKE_SAFE = /^[A-Za-z0-9._+~/-]+$/

export function assertMakeSafe (value: string, what: string, reason: InstallerReason): void {
  if (!MAKE_SAFE.test(value)) {
    throw new InstallerError(reason,
      `refusing to pass ${what} ${JSON.stringify(value)} to make: only letters, digits and . _ + ~ - / are allowed ` +
      '(make expands $(...) in command-line values and the recipe hands them to a shell)')
  }
}

/** The headers tree must hold a kbuild Makefile; a dangling `build` link is the common failure. */
export async function requireHeaders (kdir: string, kernel: string): Promise<void> {
  try {
    await access(path.join(kdir, 'Makefile'))
  } catch {
    throw new InstallerError('KernelHeadersMissing',
      `no kernel headers for ${kernel} at ${kdir}: install the headers package for this kernel on the node ` +
      '(e.g. linux-headers-' + kernel + ') so /lib/modules/<kernel>/build and /usr/src are populated')
  }
}

export interface BuildResult { ko: string, output: string }

export async function kbuild (runner: Runner, srcDir: string, kernel: string, kdir: string, logFile: string): Promise<BuildResult> {
  assertMakeSafe(kernel, 'the kernel release', 'InvalidConfig')
  assertMakeSafe(kdir, 'the headers directory', 'InvalidConfig')
  assertMakeSafe(srcDir, 'the source directory', 'SourceUnavailable')
  const log = createWriteStream(logFile)
  const jobs = String(Math.max(1, availableParallelism()))
  let result
  try {
    result = await runner('make', ['-C', srcDir, `-j${jobs}`, `KVER=${kernel}`, `KDIR=${kdir}`], {
      cwd: srcDir,
      // C locale: error text the operator can search for, whatever the image's default.
      env: { ...process.env, LC_ALL: 'C' },
      onOutput: chunk => log.write(chunk)
    })
  } catch (err) {
    throw new InstallerError('BuildFailed', `cannot run make: ${(err as Error).message}`, { cause: err })
  } finally {
    await new Promise(resolve => log.end(resolve))
  }
  if (result.code !== 0) {
    const how = result.code === null ? `killed by ${result.signal ?? 'a signal'}` : `exit ${result.code}`
    throw new InstallerError('BuildFailed', `make ${how}; last lines:\n${tailLines(result.output, BUILD_TAIL_LINES)}`)
  }
  const ko = path.join(srcDir, MODULE_FILE)
  try {
    if (!(await stat(ko)).isFile()) throw new Error('not a file')
  } catch {
    throw new InstallerError('BuildFailed', `make succeeded but produced no ${MODULE_FILE}; last lines:\n${tailLines(result.output, BUILD_TAIL_LINES)}`)
  }
  return { ko, output: result.output }
}
