// Carries out the installer's decisions (core/) on the node: it inspects through `Ports`, asks
// core/plan.ts what to do, and runs each step through `Ports` with one log line. It touches the
// node only through them (ports.ts wires the real ones; test/installer/purity.test.ts keeps it so).
import { MODULE_NAME } from '../contract/index.js'
import type { Config } from './config.js'
import { describeState, type ModuleState, readiness, type Want } from './core/module.js'
import { checkBtfSections, type Failure, type InstallOutcome, isFailure, makeRoom, plan, removal, resolveKernel, type Step, verifyLoad } from './core/plan.js'
import type { Lookup, Wanted } from './core/provenance.js'
import { InstallerError } from './errors.js'
import type { KernelRelease } from './kernel.js'
import type { CacheEntry } from './paths.js'
import type { Ports } from './ports.js'
import { step } from './steps.js'

const raise = (f: Failure): never => { throw new InstallerError(f.reason, f.message) }

const describeLookup = (entry: CacheEntry) => (l: Lookup): object =>
  l.hit ? { hit: true, path: entry.ko, source: l.provenance.source.url, sourceSha256: l.provenance.source.sha256 } : { hit: false, why: l.why, detail: l.detail }

export async function install (config: Config, ports: Ports): Promise<InstallOutcome> {
  const { log, now } = ports
  const kernel = await step(log, now, 'kernel', async () => {
    const k = resolveKernel(config.kernel ?? ports.runningKernel())
    return isFailure(k) ? raise(k) : k
  }, k => ({ kernel: k.raw }))
  const want: Want = { version: config.version, btf: config.btf }

  const node = await step(log, now, 'inspect', () => ports.module.state(), describeState)
  const first = plan(want, node)
  if (first !== 'look-up-cache') return await carryOut(first, { config, ports, kernel, node })

  const entry = ports.cache.entry(config.version, kernel.raw)
  const lock = await step(log, now, 'lock', () => ports.cache.lock(entry, { timeoutMs: config.limits.lockWaitMs, signal: ports.signal }), () => ({ path: entry.lock }))
  try {
    const swept = await ports.cache.sweep(entry)
    if (swept.length > 0) log.info({ step: 'cache-sweep', removed: swept }, 'removed temporary files of an interrupted writer')
    // Another installer may have loaded it while we waited for the lock.
    const current = await ports.module.state()
    const locked = plan(want, current)
    if (locked !== 'look-up-cache') return await carryOut(locked, { config, ports, kernel, node: current, entry, meanwhile: true })
    const wanted: Wanted = { version: config.version, kernel: kernel.raw, installer: ports.installerVersion, btf: config.btf, sourceUrl: config.sourceUrl, sourceSha256: config.sourceSha256 }
    const cached = await step(log, now, 'cache-lookup', () => ports.cache.lookup(entry, wanted), describeLookup(entry))
    return await carryOut(plan(want, current, cached.hit ? 'hit' : cached.why), { config, ports, kernel, node: current, entry })
  } finally {
    await lock.release()
  }
}

interface Context {
  config: Config
  ports: Ports
  kernel: KernelRelease
  /** The node as last inspected. */
  node: ModuleState
  /** The cache entry, once its lock is held. */
  entry?: CacheEntry
  /** The module was loaded by another installer while this one waited for the lock. */
  meanwhile?: boolean
}

async function carryOut (steps: Step[], ctx: Context): Promise<InstallOutcome> {
  const { config, ports: { log, now } } = ctx
  let node = ctx.node
  for (const s of steps) {
    switch (s.do) {
      case 'fail':
        await step(log, now, s.step, async () => raise(s.failure))
        break
      case 'build':
        await buildIntoCache(config, s.btf, ctx.kernel.raw, entryOf(ctx), ctx.ports)
        break
      case 'load':
        node = await loadCached(config, s.unloadOther, ctx.kernel.raw, entryOf(ctx), ctx.ports)
        break
      case 'done': {
        const version = node.loaded ? node.version : undefined
        const msg = s.outcome !== 'already-loaded'
          ? `${MODULE_NAME} ${config.version} loaded`
          : `desired version ${ctx.meanwhile === true ? 'loaded meanwhile' : 'already loaded'}; nothing to do`
        log.info({ step: 'done', outcome: s.outcome, version }, msg)
        return s.outcome
      }
    }
  }
  throw new Error(`plan ended without a done step: ${JSON.stringify(steps)}`)
}

function entryOf (ctx: Context): CacheEntry {
  if (ctx.entry === undefined) throw new Error('a build or load was planned before the cache entry was locked')
  return ctx.entry
}

/** Builds the module from source into the (locked) cache entry, with its provenance. */
async function buildIntoCache (config: Config, btfWanted: boolean, kernel: string, entry: CacheEntry, ports: Ports): Promise<void> {
  const { log, now, signal, build } = ports
  const { limits } = config
  const { kdir } = await step(log, now, 'headers', () => build.headers(kernel), h => ({ kdir: h.kdir, linkedFromNode: h.linked }))
  const work = await build.workDir()
  try {
    // BTF's prerequisites are checked before any download: a node that cannot have it says so at once.
    const btf = btfWanted
      ? await step(log, now, 'btf-base', () => build.btfBase(kdir, kernel, ports.runningKernel(), `${work.path}/headers`), b => b)
      : undefined
    const tarball = `${work.path}/source.tar.gz`
    const source = await step(log, now, 'download',
      () => build.download(config.sourceUrl, tarball, { sha256: config.sourceSha256, maxBytes: limits.downloadBytes, allowedPrefixes: config.allowedSourcePrefixes, signal }),
      d => ({ url: d.url, bytes: d.bytes, sha256: d.sha256, verified: config.sourceSha256 !== undefined }))
    const src = await step(log, now, 'extract', () => build.extract(tarball, `${work.path}/src`, limits, signal), dir => ({ dir }))
    // The log is written in the pod's scratch space and copied into the entry whole: a reader of
    // the host's build.log never sees a half-written one, or two builds interleaved.
    const buildLog = `${work.path}/build.log`
    let built
    try {
      built = await step(log, now, 'build',
        () => build.make(src, kernel, btf?.kdir ?? kdir, buildLog, { timeoutMs: limits.buildTimeoutMs, maxLogBytes: limits.buildLogBytes, signal, makeVars: btf?.makeVars }),
        b => ({ ko: b.ko, log: entry.buildLog }))
    } finally {
      if (!signal.aborted) await ports.cache.keepLog(entry, buildLog).catch(() => {})
    }
    signal.throwIfAborted()
    if (btf !== undefined) {
      const ko = built.ko
      await step(log, now, 'btf-check', async () => {
        const sections = await build.sections(ko).catch((err: Error) => {
          throw new InstallerError('BuildFailed', `make produced ${ko}, which is not an ELF object: ${err.message}`)
        })
        const refused = checkBtfSections(sections, btf.withoutResolveBtfids, entry.buildLog)
        if (refused !== undefined) raise(refused)
      })
    }
    await step(log, now, 'cache-store', () => ports.cache.store(entry, built.ko, {
      version: config.version,
      kernel,
      installer: ports.installerVersion,
      btf: btfWanted,
      source: { url: config.sourceUrl, sha256: source.sha256, resolvedUrl: source.url, bytes: source.bytes }
    }, signal), sha256 => ({ path: entry.ko, sha256 }))
  } finally {
    await work.remove()
  }
}

/** Puts the cached module in the kernel: the other one out first when planned, then udp_tunnel, insmod, verify. */
async function loadCached (config: Config, unloadOther: boolean, kernel: string, entry: CacheEntry, ports: Ports): Promise<ModuleState> {
  const { log, now } = ports
  const want: Want = { version: config.version, btf: config.btf }
  // From here on the kernel changes: a SIGTERM that came during the lookup or the build stops first.
  ports.signal.throwIfAborted()
  if (unloadOther) {
    // Read again: the module may have been taken, or released, while we built.
    const node = await ports.module.state()
    const room = makeRoom(want, node)
    if (room !== 'nothing') {
      await step(log, now, 'unload-other', async () => room === 'remove' ? await ports.module.remove() : raise(room), () => ({ removed: node.loaded ? node.version : undefined }))
    }
  }
  await step(log, now, 'load-dependency', () => ports.module.loadDependency(kernel))
  await step(log, now, 'load', () => ports.module.insmod(entry.ko), () => ({ ko: entry.ko }))
  return await step(log, now, 'verify', async () => {
    const after = await ports.module.state()
    const wrong = verifyLoad(want, entry.ko, after)
    if (wrong?.takeBack === true) {
      await ports.module.remove().catch(() => {})
      await ports.cache.evict(entry)
    }
    return wrong === undefined ? after : raise(wrong.failure)
  }, describeState)
}

export async function unload (ports: Ports): Promise<'not-loaded' | 'unloaded'> {
  const { log, now } = ports
  const node = await step(log, now, 'inspect', () => ports.module.state(), describeState)
  const room = removal(node, 'unload')
  if (room === 'nothing') {
    log.info({ step: 'done', outcome: 'not-loaded' }, `${MODULE_NAME} is not loaded; nothing to do`)
    return 'not-loaded'
  }
  await step(log, now, 'unload', async () => room === 'remove' ? await ports.module.remove() : raise(room), () => ({ removed: node.loaded ? node.version : undefined }))
  log.info({ step: 'done', outcome: 'unloaded' }, `${MODULE_NAME} unloaded`)
  return 'unloaded'
}

/** Is the node in the state the action wants? What the readiness file (service.ts) publishes. */
export async function check (config: Pick<Config, 'action' | 'version' | 'btf'>, ports: Pick<Ports, 'module'>): Promise<{ ready: boolean, detail: string }> {
  return readiness(config, await ports.module.state())
}
