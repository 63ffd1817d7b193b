// The install / unload / check decisions, in the order design.md gives them. Every effect goes
// through `Ports`, so the same flow runs against a temporary root in unit tests and against the
// node in the image.
import { mkdir } from 'node:fs/promises'
import { KERNEL_RELEASE_MAX, KERNEL_RELEASE_PATTERN, MIN_KERNEL, MODULE_NAME } from '../contract/index.js'
import { kbuild } from './build.js'
import { type CacheEntry, evict, lookup, store, sweepTemporaries, type Wanted, writeAtomic } from './cache.js'
import { type Config } from './config.js'
import { download } from './download.js'
import { elfSectionNames } from './elf.js'
import { InstallerError } from './errors.js'
import { type Runner } from './exec.js'
import { extractSource } from './extract.js'
import { btfHeadersTree, linkHostKbuild, requireHeaders } from './headers.js'
import { isSupportedKernel, type KernelRelease, parseKernelRelease } from './kernel.js'
import { type Kmod } from './kmod.js'
import { acquireLock } from './lock.js'
import { type HostPaths } from './paths.js'
import { type Clock, step, type StepLogger } from './steps.js'
import { type ModuleState, readModuleState, satisfies, versionMatches } from './sysfs.js'

export interface Ports {
  paths: HostPaths
  kmod: Kmod
  runner: Runner
  log: StepLogger
  now: Clock
  runningKernel: () => string
  /** A scratch directory for one build; removed by the returned function. */
  workDir: () => Promise<{ path: string, remove: () => Promise<void> }>
  /** This installer's release, recorded in every cache entry it builds (a new one rebuilds). */
  installerVersion: string
  /** Aborted on SIGTERM: downloads, builds and lock waits stop, cleanup runs, nothing is loaded. */
  signal: AbortSignal
}

export type InstallOutcome = 'already-loaded' | 'loaded-from-cache' | 'built-and-loaded'

export function resolveKernel (config: Pick<Config, 'kernel'>, ports: Pick<Ports, 'runningKernel'>): KernelRelease {
  const raw = config.kernel ?? ports.runningKernel()
  const k = parseKernelRelease(raw)
  if (k === undefined) {
    // The name becomes a path and a make argument: only a plain release passes (see build.ts).
    throw new InstallerError('UnsupportedKernel',
      `cannot parse kernel release ${JSON.stringify(raw.slice(0, 2 * KERNEL_RELEASE_MAX))}: expected ${KERNEL_RELEASE_PATTERN}, at most ${KERNEL_RELEASE_MAX} characters`)
  }
  if (!isSupportedKernel(k)) {
    throw new InstallerError('UnsupportedKernel', `kernel ${raw} is older than ${MIN_KERNEL.join('.')}, the oldest gtp5g supports`)
  }
  return k
}

const describeState = (s: ModuleState): object => s.loaded ? { loaded: true, version: s.version, refcnt: s.refcnt, btf: s.btf } : { loaded: false }

/** What replacing the loaded module is for, in a ModuleInUse message. */
const replacing = (config: Pick<Config, 'version'>, s: ModuleState): string =>
  s.loaded && versionMatches(config.version, s.version) ? `reloading ${config.version} with BTF (spec.btf)` : `upgrade to ${config.version}`

async function removeIdle (ports: Ports, state: ModuleState & { loaded: true }, why: string): Promise<void> {
  if (state.refcnt > 0) {
    const by = state.holders.length > 0 ? ` by ${state.holders.join(', ')}` : ''
    throw new InstallerError('ModuleInUse',
      `${MODULE_NAME} ${state.version ?? '(unknown version)'} is in use (refcnt ${state.refcnt}${by}); ${why} waits until it is released, it is never forced`)
  }
  await ports.kmod.remove()
}

/** Builds the module from source into the (locked) cache entry, with its provenance. */
async function buildIntoCache (config: Config, kernel: string, entry: CacheEntry, ports: Ports): Promise<void> {
  const { log, now, paths, signal } = ports
  const { limits } = config
  const headers = paths.kdir(kernel)
  await step(log, now, 'headers', async () => {
    const linked = await linkHostKbuild(paths)
    await requireHeaders(headers, kernel)
    return linked
  }, linked => ({ kdir: headers, linkedFromNode: linked }))
  const work = await ports.workDir()
  try {
    // BTF's prerequisites are checked before any download: a node that cannot have it says so at once.
    const btf = config.btf
      ? await step(log, now, 'btf-base', () => btfHeadersTree(paths, headers, kernel, ports.runningKernel(), `${work.path}/headers`), b => b)
      : undefined
    const tarball = `${work.path}/source.tar.gz`
    const source = await step(log, now, 'download',
      () => download(config.sourceUrl, tarball, { sha256: config.sourceSha256, maxBytes: limits.downloadBytes, allowedPrefixes: config.allowedSourcePrefixes, signal }),
      d => ({ url: d.url, bytes: d.bytes, sha256: d.sha256, verified: config.sourceSha256 !== undefined }))
    const src = await step(log, now, 'extract', () => extractSource(tarball, `${work.path}/src`, limits, signal), dir => ({ dir }))
    // The log is written in the pod's scratch space and copied into the entry whole: a reader of
    // the host's build.log never sees a half-written one, or two builds interleaved.
    const buildLog = `${work.path}/build.log`
    let built
    try {
      built = await step(log, now, 'build',
        () => kbuild(ports.runner, src, kernel, btf?.kdir ?? headers, buildLog, { timeoutMs: limits.buildTimeoutMs, maxLogBytes: limits.buildLogBytes, signal, makeVars: btf?.makeVars }),
        b => ({ ko: b.ko, log: entry.buildLog }))
    } finally {
      if (!signal.aborted) await writeAtomic(entry.buildLog, { copyOf: buildLog }).catch(() => {})
    }
    signal.throwIfAborted()
    if (btf !== undefined) {
      const ko = built.ko
      await step(log, now, 'btf-check', async () => {
        const sections = await elfSectionNames(ko).catch((err: Error) => {
          throw new InstallerError('BuildFailed', `make produced ${ko}, which is not an ELF object: ${err.message}`)
        })
        if (!sections.includes('.BTF')) {
          throw new InstallerError('BTFUnavailable', `spec.btf asks for BTF in ${MODULE_NAME}, but kbuild linked it without a .BTF section (pahole missing or skipped; see ${entry.buildLog})`)
        }
        if (btf.withoutResolveBtfids && sections.includes('.BTF_ids')) {
          throw new InstallerError('BTFUnavailable', `spec.btf asks for BTF in ${MODULE_NAME}, but it declares BTF ids (.BTF_ids) that only resolve_btfids fills, and the node's kbuild has no tools/bpf/resolve_btfids`)
        }
      })
    }
    await step(log, now, 'cache-store', () => store(entry, built.ko, {
      version: config.version,
      kernel,
      installer: ports.installerVersion,
      btf: config.btf,
      source: { url: config.sourceUrl, sha256: source.sha256, resolvedUrl: source.url, bytes: source.bytes }
    }, signal), sha256 => ({ path: entry.ko, sha256 }))
  } finally {
    await work.remove()
  }
}

export async function install (config: Config, ports: Ports): Promise<InstallOutcome> {
  const { log, now, paths } = ports
  const kernel = await step(log, now, 'kernel', async () => resolveKernel(config, ports), k => ({ kernel: k.raw }))

  const state = await step(log, now, 'inspect', () => readModuleState(paths, MODULE_NAME), describeState)
  if (satisfies(config, state)) {
    log.info({ step: 'done', outcome: 'already-loaded', version: state.loaded ? state.version : undefined }, 'desired version already loaded; nothing to do')
    return 'already-loaded'
  }
  // A busy module fails the upgrade before any download or build (the pod retries with backoff).
  if (state.loaded && state.refcnt > 0) await step(log, now, 'unload-other', () => removeIdle(ports, state, replacing(config, state)))

  const entry = paths.cacheEntry(config.version, kernel.raw)
  await mkdir(entry.dir, { recursive: true })
  const lock = await step(log, now, 'lock', () => acquireLock(entry.lock, { timeoutMs: config.limits.lockWaitMs, signal: ports.signal }), () => ({ path: entry.lock }))
  try {
    return await installLocked(config, ports, kernel, state, entry)
  } finally {
    await lock.release()
  }
}

/** The rest of install, holding the entry's lock: no other installer reads or writes it meanwhile. */
async function installLocked (config: Config, ports: Ports, kernel: KernelRelease, state: ModuleState, entry: CacheEntry): Promise<InstallOutcome> {
  const { log, now, paths, signal } = ports
  const swept = await sweepTemporaries(entry)
  if (swept.length > 0) log.info({ step: 'cache-sweep', removed: swept }, 'removed temporary files of an interrupted writer')
  // Another installer may have loaded it while we waited for the lock.
  const current = await readModuleState(paths, MODULE_NAME)
  if (satisfies(config, current)) {
    log.info({ step: 'done', outcome: 'already-loaded', version: current.loaded ? current.version : undefined }, 'desired version loaded meanwhile; nothing to do')
    return 'already-loaded'
  }

  const want: Wanted = { version: config.version, kernel: kernel.raw, installer: ports.installerVersion, btf: config.btf, sourceUrl: config.sourceUrl, sourceSha256: config.sourceSha256 }
  const cached = await step(log, now, 'cache-lookup', () => lookup(entry, want),
    l => l.hit ? { hit: true, path: entry.ko, source: l.provenance.source.url, sourceSha256: l.provenance.source.sha256 } : { hit: false, why: l.why, detail: l.detail })
  if (!cached.hit) await buildIntoCache(config, kernel.raw, entry, ports)
  signal.throwIfAborted()

  // The old version goes only once the new one is built and cached: a failed build or download
  // leaves the running data plane alone. Re-read: it may have been taken while we built.
  if (state.loaded) {
    const now2 = await readModuleState(paths, MODULE_NAME)
    if (now2.loaded && !satisfies(config, now2)) {
      await step(log, now, 'unload-other', () => removeIdle(ports, now2, replacing(config, now2)), () => ({ removed: now2.version }))
    }
  }

  await step(log, now, 'load-dependency', () => ports.kmod.loadDependency(kernel.raw))
  await step(log, now, 'load', () => ports.kmod.insmod(entry.ko), () => ({ ko: entry.ko }))
  const after = await step(log, now, 'verify', async () => {
    const s = await readModuleState(paths, MODULE_NAME)
    if (!s.loaded) throw new InstallerError('LoadFailed', `insmod ${entry.ko} returned but ${MODULE_NAME} is not in /sys/module`)
    if (!versionMatches(config.version, s.version)) {
      // A module that reports another version is not what was asked for: take it out again
      // (we just loaded it, nothing uses it yet) and drop the entry so a fixed source rebuilds.
      await ports.kmod.remove().catch(() => {})
      await evict(entry)
      throw new InstallerError('VersionMismatch', `${entry.ko} reports version ${s.version ?? '(none)'}, expected ${config.version}`)
    }
    if (config.btf && !s.btf) {
      // The module works; only its BTF was refused. It stays loaded (unloading gains nothing),
      // and the node reports why until the kernel or the build changes.
      throw new InstallerError('BTFUnavailable',
        `${MODULE_NAME} ${config.version} is loaded, but the kernel published no BTF for it at /sys/kernel/btf/${MODULE_NAME} (it refused the module's BTF; see the kernel log); the module stays loaded without it`)
    }
    return s
  }, describeState)
  const outcome = cached.hit ? 'loaded-from-cache' : 'built-and-loaded'
  log.info({ step: 'done', outcome, version: after.loaded ? after.version : undefined }, `${MODULE_NAME} ${config.version} loaded`)
  return outcome
}

export async function unload (ports: Ports): Promise<'not-loaded' | 'unloaded'> {
  const { log, now, paths } = ports
  const state = await step(log, now, 'inspect', () => readModuleState(paths, MODULE_NAME), describeState)
  if (!state.loaded) {
    log.info({ step: 'done', outcome: 'not-loaded' }, `${MODULE_NAME} is not loaded; nothing to do`)
    return 'not-loaded'
  }
  await step(log, now, 'unload', () => removeIdle(ports, state, 'unload'), () => ({ removed: state.version }))
  log.info({ step: 'done', outcome: 'unloaded' }, `${MODULE_NAME} unloaded`)
  return 'unloaded'
}

/** The readiness probe: is the node in the state the action wants? */
export async function check (config: Pick<Config, 'action' | 'version' | 'btf'>, paths: HostPaths): Promise<{ ready: boolean, detail: string }> {
  const state = await readModuleState(paths, MODULE_NAME)
  if (config.action === 'unload') {
    return state.loaded ? { ready: false, detail: `${MODULE_NAME} ${state.version ?? ''} still loaded` } : { ready: true, detail: `${MODULE_NAME} not loaded` }
  }
  if (!state.loaded) return { ready: false, detail: `${MODULE_NAME} not loaded` }
  if (!versionMatches(config.version, state.version)) return { ready: false, detail: `${MODULE_NAME} ${state.version ?? '(unknown)'} loaded, want ${config.version}` }
  if (config.btf && !state.btf) return { ready: false, detail: `${MODULE_NAME} ${state.version ?? ''} loaded without BTF (spec.btf wants /sys/kernel/btf/${MODULE_NAME})` }
  return { ready: true, detail: `${MODULE_NAME} ${state.version ?? ''} loaded` }
}
