// The installer's long-running process (cli.ts starts it for `install` and `unload`): logger,
// clock, signals, exit codes, the termination message and the readiness file. Decisions live in
// core/, carried out by flow.ts; this file only wires the real ports to them.
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { release, tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Logger, pino } from 'pino'
import { ENV, MODULE_NAME } from '../contract/index.js'
import { exitWithTerminationMessage } from '../contract/termination.js'
import type { Config } from './config.js'
import { toTermination } from './errors.js'
import { run } from './exec.js'
import { check, install, unload } from './flow.js'
import { realKmod } from './kmod.js'
import { hostPaths } from './paths.js'
import { type Host, hostPorts, type Ports } from './ports.js'
import { readyFile } from './ready.js'
import { buildSnapshotAndLog, ENV_INSTALLER_ENTRY, ENV_INSTALLER_ENTRY_REASON } from './snapshotcache.js'
import { watch } from './watch.js'

let logger: Logger | undefined
/**
 * The process's logger, created on first use, not on import: a start-up snapshot (snapshot.ts)
 * evaluates this module when the image is built, and a logger made then would carry that
 * process's stdout and environment. Written synchronously: pino's default destination writes
 * asynchronously and flushes what is left with a synchronous write at exit, which can land before
 * a line still being written (the "stopped" line was once seen before "stopping"). An installer
 * logs a few lines a minute.
 */
function processLogger (): Logger {
  logger ??= pino({ base: { component: 'gtp5g-installer' }, level: process.env[ENV.logLevel] || 'info' }, pino.destination({ dest: 1, sync: true }))
  return logger
}

/** After SIGTERM, how long cleanup may take before the process exits anyway (the kubelet waits 30 s). */
const SHUTDOWN_GRACE_MS = 10_000

/**
 * The release in the package.json beside the installer (/opt/gtp5g-installer in the image, the
 * repository root in tests): recorded in each cache entry, so a new installer rebuilds.
 */
function installerVersion (): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown, version?: unknown }
      if (pkg.name === 'gtp5g-operator' && typeof pkg.version === 'string') return pkg.version
    } catch {
      // not here: look further up
    }
    const up = path.dirname(dir)
    if (up === dir) return 'unknown'
    dir = up
  }
}

export async function fail (err: unknown, terminationLog: string): Promise<never> {
  const { reason, message } = toTermination(err)
  return await exitWithTerminationMessage(processLogger(), terminationLog, reason, message, 'installer')
}

function realHost (config: Config): Host {
  return {
    paths: hostPaths(config.hostRoot),
    kmod: realKmod(run, config.hostRoot),
    runner: run,
    workDir: async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'gtp5g-build-'))
      return { path: dir, remove: () => rm(dir, { recursive: true, force: true }) }
    }
  }
}

function realPorts (config: Config, log: Logger, signal: AbortSignal): Ports {
  return {
    log,
    now: () => performance.now(),
    runningKernel: () => release(),
    installerVersion: installerVersion(),
    signal,
    ...hostPorts(realHost(config))
  }
}

export async function serve (config: Config): Promise<void> {
  const log = processLogger()
  log.level = config.logLevel
  // Since the process started: Node.js's own bootstrap, then every module loaded so far.
  const startupMs = Math.round(performance.now())
  // Which entry the launcher started (installer/bundle.mjs): the start-up snapshot, or main.mjs and why.
  const entry = process.env[ENV_INSTALLER_ENTRY]
  const reason = process.env[ENV_INSTALLER_ENTRY_REASON]
  log.info({
    step: 'start',
    startupMs,
    nodeBootstrapMs: Math.round(performance.nodeTiming.bootstrapComplete),
    action: config.action,
    ...(entry === undefined ? {} : { entry }),
    ...(entry === 'plain' && reason !== undefined ? { entryReason: reason } : {})
  }, 'starting')
  // Whatever an earlier container left in a /tmp that outlived it says nothing about now.
  const ready = readyFile(config.readyFile)
  await ready.set(false, '')

  // SIGTERM means the pod is going away (rollout, drain, node shutdown). The data plane must
  // stay up: nothing is unloaded. Work in progress is aborted (make's process group killed,
  // downloads and lock waits stopped) and unwinds through its cleanup (temporary files, the
  // scratch directory, the entry's lock) before the process exits 0; process.exit at once would
  // skip that. If cleanup hangs, the grace timer exits anyway and the next holder of the entry's
  // lock sweeps what is left.
  const shutdown = new AbortController()
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (shutdown.signal.aborted) return
      log.info({ signal }, 'stopping; the module stays loaded')
      shutdown.abort(new DOMException(`stopping on ${signal}`, 'AbortError'))
      setTimeout(() => {
        log.warn({ graceMs: SHUTDOWN_GRACE_MS }, 'cleanup did not finish in time; exiting')
        process.exit(0)
      }, SHUTDOWN_GRACE_MS).unref()
    })
  }
  const stopped = (): never => {
    log.info('stopped')
    process.exit(0)
  }

  const ports = realPorts(config, log, shutdown.signal)
  // Once ready, and only then: the start-up snapshot for the next start (snapshotcache.ts), in the
  // background; SIGTERM stops it with the rest.
  let snapshotStarted = false
  const buildSnapshotOnce = (): void => {
    if (snapshotStarted) return
    snapshotStarted = true
    buildSnapshotAndLog(log, { env: process.env, cacheRoot: hostPaths(config.hostRoot).cacheRoot, signal: shutdown.signal }).catch(() => {})
  }
  // The readiness file follows what the kernel shows, read again after each step, never what a
  // step returned: the probe's answer is /sys/module's.
  const publish = async (): Promise<boolean> => {
    const r = await check(config, ports)
    await ready.set(r.ready, r.detail)
    return r.ready
  }
  try {
    if (config.action === 'install') {
      await install(config, ports)
      if (shutdown.signal.aborted) stopped()
      await publish()
      log.info({ step: 'ready', file: config.readyFile, intervalMs: config.watchIntervalMs }, 'ready; watching that the module stays loaded')
      buildSnapshotOnce()
      const w = watch(config.watchIntervalMs, async () => !await publish(), async () => {
        log.warn({ module: MODULE_NAME }, 'module no longer loaded at the desired version; loading it again')
        await install(config, ports)
        await publish()
      })
      shutdown.signal.addEventListener('abort', () => w.stop(), { once: true })
      await w.done
    } else {
      await unload(ports)
      await publish()
      log.info({ step: 'ready', file: config.readyFile, intervalMs: config.watchIntervalMs }, 'ready; nothing more to do until the pod is deleted')
      buildSnapshotOnce()
      // Nothing to repair, but the file keeps following the node (gtp5g loaded again by hand is
      // "not ready" again, as the check would say); the watch's timer also keeps Node running.
      const w = watch(config.watchIntervalMs, async () => { await publish(); return false }, async () => {})
      shutdown.signal.addEventListener('abort', () => w.stop(), { once: true })
      await w.done
    }
  } catch (err) {
    if (shutdown.signal.aborted) stopped()
    await fail(err, config.terminationLog)
  }
  stopped()
}
