// kbuild through gtp5g's own Makefile, whose interface is `make KVER=<kernel> KDIR=<headers>`
// (it then runs `make -C $(KDIR) M=$(PWD) modules`). The full log goes to a file the caller
// keeps; the BuildFailed message carries its tail, where the compiler puts the error.
import { createWriteStream } from 'node:fs'
import { access, stat } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import path from 'node:path'
import { MODULE_FILE } from '../contract/index.js'
import { InstallerError, tailLines } from './errors.js'
import { type Runner } from './exec.js'

export const BUILD_TAIL_LINES = 40

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
