// What the kernel shows of gtp5g and whether it is what the pod asks for. Pure: sysfs.ts reads
// /sys/module, this file only judges what it read.
import { type Action, MODULE_NAME } from '../../contract/index.js'

export type ModuleState =
  | { loaded: false }
  | { loaded: true, version: string | undefined, refcnt: number, holders: string[], btf: boolean }

/** What the pod asks for of the loaded module: its version, and BTF when spec.btf is set. */
export interface Want { version: string, btf: boolean }

/**
 * gtp5g's MODULE_VERSION is the tag without its "v" (tag v0.9.12 reports 0.9.12), so the
 * comparison ignores one leading "v" on either side.
 */
export function versionMatches (desired: string, loaded: string | undefined): boolean {
  if (loaded === undefined) return false
  const bare = (v: string): string => v.replace(/^v/, '')
  return bare(desired) === bare(loaded)
}

/** Whether the loaded module is the one asked for: its version, and its BTF when spec.btf wants it. */
export function satisfies (want: Want, state: ModuleState): boolean {
  return state.loaded && versionMatches(want.version, state.version) && (!want.btf || state.btf)
}

/** The fields of a state a log line carries. */
export function describeState (s: ModuleState): object {
  return s.loaded ? { loaded: true, version: s.version, refcnt: s.refcnt, btf: s.btf } : { loaded: false }
}

/** The readiness probe's answer: is the node in the state the pod's action wants? */
export function readiness (want: Want & { action: Action }, state: ModuleState): { ready: boolean, detail: string } {
  if (want.action === 'unload') {
    return state.loaded ? { ready: false, detail: `${MODULE_NAME} ${state.version ?? ''} still loaded` } : { ready: true, detail: `${MODULE_NAME} not loaded` }
  }
  if (!state.loaded) return { ready: false, detail: `${MODULE_NAME} not loaded` }
  if (!versionMatches(want.version, state.version)) return { ready: false, detail: `${MODULE_NAME} ${state.version ?? '(unknown)'} loaded, want ${want.version}` }
  if (want.btf && !state.btf) return { ready: false, detail: `${MODULE_NAME} ${state.version ?? ''} loaded without BTF (spec.btf wants /sys/kernel/btf/${MODULE_NAME})` }
  return { ready: true, detail: `${MODULE_NAME} ${state.version ?? ''} loaded` }
}
