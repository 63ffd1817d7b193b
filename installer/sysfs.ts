// What the kernel says about a module, read from /sys/module/<name>. Read-only: loading and
// unloading live in kmod.ts, judging the state in core/module.ts.
import { readdir, readFile } from 'node:fs/promises'
import type { ModuleState } from './core/module.js'
import { exists, type HostPaths } from './paths.js'

/**
 * A file of /sys/module/<name>, or undefined when the module is gone: ENOENT once its directory
 * is removed, and ENODEV when it is removed between the open and the read (sysfs then refuses the
 * read of a file that still exists). Only the second is a race, and it is one a `rmmod` by hand
 * can win while the watch reads: thrown, it failed the installer (exit 1) instead of loading
 * gtp5g again (the qemu suite's "removed" step, on a loaded machine).
 */
async function readTrimmed (file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim()
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENODEV') return undefined
    throw err
  }
}

/**
 * A loadable module that is loaded has `initstate` (built-ins only have parameters there), so
 * its absence means "not loaded" even if the directory lingers during removal.
 */
export async function readModuleState (paths: HostPaths, name: string): Promise<ModuleState> {
  const dir = paths.sysModule(name)
  const initstate = await readTrimmed(`${dir}/initstate`)
  if (initstate === undefined || initstate === 'going') return { loaded: false }
  const refcnt = Number(await readTrimmed(`${dir}/refcnt`) ?? '0')
  let holders: string[] = []
  try {
    holders = (await readdir(`${dir}/holders`)).sort()
  } catch {
    // no holders directory: nothing links against the module
  }
  // The kernel publishes a module's BTF at /sys/kernel/btf/<name> when it accepted it.
  const btf = await exists(paths.sysBtf(name))
  return { loaded: true, version: await readTrimmed(`${dir}/version`), refcnt: Number.isFinite(refcnt) ? refcnt : 0, holders, btf }
}

/** Whether a loadable module is in the kernel and live (not still loading or going away). */
export async function isLive (paths: HostPaths, name: string): Promise<boolean> {
  return await readTrimmed(`${paths.sysModule(name)}/initstate`) === 'live'
}
