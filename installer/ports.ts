// The installer's effects on the node, as the ports flow.ts carries out its steps through, and
// the real ones over a host: its sysfs, kmod's tools, the build cache, the lock and the build
// pipeline. Tests build the same ports over a temporary root with a fake kmod and make.
import { mkdir } from 'node:fs/promises'
import { MODULE_DEPENDENCY, MODULE_NAME } from '../contract/index.js'
import type { BuildOptions, BuildResult } from './build.js'
import { evict, lookup, store, sweepTemporaries, writeAtomic } from './cache.js'
import type { ModuleState } from './core/module.js'
import type { Lookup, Provenance, Wanted } from './core/provenance.js'
import type { DownloadOptions, Downloaded } from './download.js'
import type { Runner } from './exec.js'
import type { ExtractLimits } from './extract.js'
import type { BtfBuild } from './headers.js'
import type { Kmod } from './kmod.js'
import { acquireLock, type Lock, type LockOptions } from './lock.js'
import type { CacheEntry, HostPaths } from './paths.js'
import type { Clock, StepLogger } from './steps.js'
import { isLive, readModuleState } from './sysfs.js'

/** gtp5g in the kernel: what /sys/module shows, and kmod's tools. */
export interface ModulePort extends Kmod {
  state: () => Promise<ModuleState>
}

/** The node's build cache, one entry per version and kernel. */
export interface CachePort {
  entry: (version: string, kernel: string) => CacheEntry
  /** Creates the entry's directory and takes its lock. */
  lock: (entry: CacheEntry, opts: LockOptions) => Promise<Lock>
  /** Removes temporary files a killed writer left; their names. */
  sweep: (entry: CacheEntry) => Promise<string[]>
  /** The entry's verdict; anything but a hit or a clean miss is evicted. */
  lookup: (entry: CacheEntry, want: Wanted) => Promise<Lookup>
  /** Stores a built module with its provenance; its sha256. */
  store: (entry: CacheEntry, builtKo: string, source: Omit<Provenance, 'format' | 'module'>, signal: AbortSignal) => Promise<string>
  /** Copies a build log into the entry, whole. */
  keepLog: (entry: CacheEntry, log: string) => Promise<void>
  evict: (entry: CacheEntry) => Promise<void>
}

/** Building gtp5g from its source tarball. */
export interface BuildPort {
  /** A scratch directory for one build; removed by the returned function. */
  workDir: () => Promise<{ path: string, remove: () => Promise<void> }>
  /** Links the node's kbuild into the container and checks the headers of `kernel`. */
  headers: (kernel: string) => Promise<{ kdir: string, linked: string[] }>
  /** The headers tree a BTF build uses, in `into` (headers.ts). */
  btfBase: (kdir: string, kernel: string, running: string, into: string) => Promise<BtfBuild>
  download: (url: string, dest: string, opts: DownloadOptions) => Promise<Downloaded>
  extract: (tarball: string, destDir: string, limits: ExtractLimits, signal: AbortSignal) => Promise<string>
  make: (srcDir: string, kernel: string, kdir: string, logFile: string, opts: BuildOptions) => Promise<BuildResult>
  /** The ELF section names of a built module. */
  sections: (ko: string) => Promise<string[]>
}

export interface Ports {
  log: StepLogger
  now: Clock
  /** Aborted on SIGTERM: downloads, builds and lock waits stop, cleanup runs, nothing is loaded. */
  signal: AbortSignal
  /** This installer's release, recorded in every cache entry it builds (a new one rebuilds). */
  installerVersion: string
  runningKernel: () => string
  module: ModulePort
  cache: CachePort
  build: BuildPort
}

/** What the real ports act on: the host's paths, kmod, a process runner for make, scratch space. */
export interface Host {
  paths: HostPaths
  kmod: Kmod
  runner: Runner
  workDir: BuildPort['workDir']
}

/**
 * The ports over `host`. Each reads `host`'s fields when called, so a test may swap its kmod or
 * runner. The build pipeline (tar, the HTTP client, kbuild, the ELF reader) is imported on its
 * first use: a warm install or a restart never builds, and loading it cost them start-up time.
 */
export function hostPorts (host: Host): Pick<Ports, 'module' | 'cache' | 'build'> {
  return {
    module: {
      state: () => readModuleState(host.paths, MODULE_NAME),
      // Already in the kernel (a node where gtp5g was loaded before, or another user of it): one
      // sysfs read instead of starting modprobe.
      loadDependency: async kernel => {
        if (!await isLive(host.paths, MODULE_DEPENDENCY)) await host.kmod.loadDependency(kernel)
      },
      insmod: ko => host.kmod.insmod(ko),
      remove: () => host.kmod.remove()
    },
    cache: {
      entry: (version, kernel) => host.paths.cacheEntry(version, kernel),
      lock: async (entry, opts) => {
        await mkdir(entry.dir, { recursive: true })
        return await acquireLock(entry.lock, opts)
      },
      sweep: sweepTemporaries,
      lookup,
      store,
      keepLog: (entry, log) => writeAtomic(entry.buildLog, { copyOf: log }),
      evict
    },
    build: {
      workDir: () => host.workDir(),
      headers: async kernel => {
        const { linkHostKbuild, requireHeaders } = await import('./headers.js')
        const linked = await linkHostKbuild(host.paths)
        const kdir = host.paths.kdir(kernel)
        await requireHeaders(kdir, kernel)
        return { kdir, linked }
      },
      btfBase: async (kdir, kernel, running, into) => (await import('./headers.js')).btfHeadersTree(host.paths, kdir, kernel, running, into),
      download: async (url, dest, opts) => (await import('./download.js')).download(url, dest, opts),
      extract: async (tarball, destDir, limits, signal) => (await import('./extract.js')).extractSource(tarball, destDir, limits, signal),
      make: async (srcDir, kernel, kdir, logFile, opts) => (await import('./build.js')).kbuild(host.runner, srcDir, kernel, kdir, logFile, opts),
      sections: async ko => (await import('./elf.js')).elfSectionNames(ko)
    }
  }
}
