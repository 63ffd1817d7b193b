// What the installer does, decided from what it has seen: the node's gtp5g, the cache entry's
// verdict and what the pod asks for. Pure: flow.ts observes the node, asks here, and carries out
// the steps through its ports. The install flow of installer/README.md, rule by rule.
import { type InstallerReason, KERNEL_RELEASE_MAX, KERNEL_RELEASE_PATTERN, MIN_KERNEL, MODULE_NAME } from '../../contract/index.js'
import { isSupportedKernel, type KernelRelease, parseKernelRelease } from '../kernel.js'
import { type ModuleState, satisfies, versionMatches, type Want } from './module.js'
import type { Lookup } from './provenance.js'

/** A refusal with its contract reason; flow.ts throws it as an InstallerError. */
export interface Failure { reason: InstallerReason, message: string }

export const isFailure = (x: object): x is Failure => 'reason' in x && 'message' in x

export type InstallOutcome = 'already-loaded' | 'loaded-from-cache' | 'built-and-loaded'

/** The cache entry's verdict (core/provenance.ts), once the entry was looked up under its lock. */
export type CacheVerdict = 'hit' | Extract<Lookup, { hit: false }>['why']

export type Step =
  /** Refuse at once, logged under `step`: nothing was touched. */
  | { do: 'fail', step: 'unload-other', failure: Failure }
  /** headers, download, extract, make, cache-store; with `btf`, its base before the download and the .BTF check before the store. */
  | { do: 'build', btf: boolean }
  /** Touch the kernel: remove the other module first when `unloadOther` (re-checked then), udp_tunnel, insmod, verify. */
  | { do: 'load', unloadOther: boolean }
  | { do: 'done', outcome: InstallOutcome }

/**
 * The steps of an install. Called once the node is inspected, without the cache: the module may
 * already be there, or busy, and nothing else is needed; otherwise the answer is 'look-up-cache'
 * (take the entry's lock, inspect the node again, look the entry up) and it is called again with
 * the entry's verdict.
 */
export function plan (want: Want, node: ModuleState): Step[] | 'look-up-cache'
export function plan (want: Want, node: ModuleState, cache: CacheVerdict): Step[]
export function plan (want: Want, node: ModuleState, cache?: CacheVerdict): Step[] | 'look-up-cache' {
  if (satisfies(want, node)) return [{ do: 'done', outcome: 'already-loaded' }]
  // A busy module fails the upgrade before any download or build (the pod retries with backoff).
  if (node.loaded && node.refcnt > 0) return [{ do: 'fail', step: 'unload-other', failure: inUse(node, replacing(want, node)) }]
  if (cache === undefined) return 'look-up-cache'
  const hit = cache === 'hit'
  return [
    // Anything but a hit (missing, corrupt, foreign, stale) is rebuilt, never loaded.
    ...(hit ? [] : [{ do: 'build', btf: want.btf } as const]),
    // The loaded module goes only once the new one is cached: a failed download or build leaves it running.
    { do: 'load', unloadOther: node.loaded },
    { do: 'done', outcome: hit ? 'loaded-from-cache' : 'built-and-loaded' }
  ]
}

/** What replacing the loaded module is for, in a ModuleInUse message. */
function replacing (want: Want, node: ModuleState): string {
  return node.loaded && versionMatches(want.version, node.version) ? `reloading ${want.version} with BTF (spec.btf)` : `upgrade to ${want.version}`
}

function inUse (node: ModuleState & { loaded: true }, why: string): Failure {
  const by = node.holders.length > 0 ? ` by ${node.holders.join(', ')}` : ''
  return {
    reason: 'ModuleInUse',
    message: `${MODULE_NAME} ${node.version ?? '(unknown version)'} is in use (refcnt ${node.refcnt}${by}); ${why} waits until it is released, it is never forced`
  }
}

/** Removing the loaded module for `why` (`unload`, an upgrade): nothing to remove, remove it, or refuse; never forced. */
export function removal (node: ModuleState, why: string): 'nothing' | 'remove' | Failure {
  if (!node.loaded) return 'nothing'
  return node.refcnt > 0 ? inUse(node, why) : 'remove'
}

/** Just before loading, with the node read again (a build takes minutes): whether the loaded module must go first. */
export function makeRoom (want: Want, node: ModuleState): 'nothing' | 'remove' | Failure {
  return satisfies(want, node) ? 'nothing' : removal(node, replacing(want, node))
}

/**
 * After insmod of `ko`: the node must show the wanted module. One that reports another version
 * is taken out again (nothing uses it yet) and its entry dropped, so a fixed source rebuilds; one
 * whose BTF the kernel refused works and stays loaded, and the node reports why.
 */
export function verifyLoad (want: Want, ko: string, after: ModuleState): { failure: Failure, takeBack: boolean } | undefined {
  if (!after.loaded) return { failure: { reason: 'LoadFailed', message: `insmod ${ko} returned but ${MODULE_NAME} is not in /sys/module` }, takeBack: false }
  if (!versionMatches(want.version, after.version)) {
    return { failure: { reason: 'VersionMismatch', message: `${ko} reports version ${after.version ?? '(none)'}, expected ${want.version}` }, takeBack: true }
  }
  if (want.btf && !after.btf) {
    return {
      failure: {
        reason: 'BTFUnavailable',
        message: `${MODULE_NAME} ${want.version} is loaded, but the kernel published no BTF for it at /sys/kernel/btf/${MODULE_NAME} (it refused the module's BTF; see the kernel log); the module stays loaded without it`
      },
      takeBack: false
    }
  }
  return undefined
}

/** A module built for spec.btf must carry .BTF, and no .BTF_ids when the node's kbuild could not fill them. */
export function checkBtfSections (sections: readonly string[], withoutResolveBtfids: boolean, buildLog: string): Failure | undefined {
  if (!sections.includes('.BTF')) {
    return { reason: 'BTFUnavailable', message: `spec.btf asks for BTF in ${MODULE_NAME}, but kbuild linked it without a .BTF section (pahole missing or skipped; see ${buildLog})` }
  }
  if (withoutResolveBtfids && sections.includes('.BTF_ids')) {
    return { reason: 'BTFUnavailable', message: `spec.btf asks for BTF in ${MODULE_NAME}, but it declares BTF ids (.BTF_ids) that only resolve_btfids fills, and the node's kbuild has no tools/bpf/resolve_btfids` }
  }
  return undefined
}

/** KERNEL_VERSION or the running kernel, if it is a plain release gtp5g supports. */
export function resolveKernel (raw: string): KernelRelease | Failure {
  const k = parseKernelRelease(raw)
  if (k === undefined) {
    // The name becomes a path and a make argument: only a plain release passes (see build.ts).
    return {
      reason: 'UnsupportedKernel',
      message: `cannot parse kernel release ${JSON.stringify(raw.slice(0, 2 * KERNEL_RELEASE_MAX))}: expected ${KERNEL_RELEASE_PATTERN}, at most ${KERNEL_RELEASE_MAX} characters`
    }
  }
  if (!isSupportedKernel(k)) return { reason: 'UnsupportedKernel', message: `kernel ${raw} is older than ${MIN_KERNEL.join('.')}, the oldest gtp5g supports` }
  return k
}
