// Loading and unloading through kmod's tools. Never `rmmod -f`: a module in use stays loaded
// and the caller reports ModuleInUse instead.
import { MODULE_DEPENDENCY, MODULE_NAME } from '../contract/index.js'
import { InstallerError, tailLines } from './errors.js'
import type { Runner } from './exec.js'

export interface Kmod {
  /** Loads the in-tree dependency from the host's /lib/modules/<kernel>. */
  loadDependency: (kernel: string) => Promise<void>
  insmod: (ko: string) => Promise<void>
  /** Removes gtp5g; refuses when in use (the kernel says EBUSY, we never force). */
  remove: () => Promise<void>
}

/**
 * `hostRoot` is the directory that holds the host's `lib/modules` (modprobe's `-d`). modprobe
 * resolves dependencies from modules.dep there, so udp_tunnel pulls in whatever it needs.
 */
export function realKmod (runner: Runner, hostRoot: string): Kmod {
  const check = async (what: string, cmd: string, args: string[]): Promise<void> => {
    let res
    try {
      res = await runner(cmd, args)
    } catch (err) {
      throw new InstallerError('LoadFailed', `${what}: cannot run ${cmd}: ${(err as Error).message}`, { cause: err })
    }
    if (res.code !== 0) {
      const out = tailLines(res.output, 10)
      if (cmd === 'rmmod' && /in use|busy/i.test(out)) throw new InstallerError('ModuleInUse', `${what}: ${out}`)
      throw new InstallerError('LoadFailed', `${what}: ${cmd} ${args.join(' ')} exit ${res.code ?? res.signal}: ${out}`)
    }
  }
  return {
    loadDependency: kernel => check(`loading ${MODULE_DEPENDENCY}`, 'modprobe',
      [...(hostRoot === '' ? [] : ['-d', hostRoot]), '-S', kernel, MODULE_DEPENDENCY]),
    insmod: ko => check(`loading ${MODULE_NAME}`, 'insmod', [ko]),
    remove: () => check(`unloading ${MODULE_NAME}`, 'rmmod', [MODULE_NAME])
  }
}
