// The installer's V8 start-up snapshot, made on the node (snapshot.ts is its entry, the launcher
// of installer/bundle.mjs starts from it). Node.js loads a blob only in the node binary that made
// it, with the same V8 flags, on a CPU with the same features: a blob made anywhere else (an
// image build) can be refused with exit code 14. So the installer makes it here, once it has
// reported ready (it never delays readiness), in the background and niced, in the host cache
// (<cache>/snapshot/installer-<key>.blob; the key, in the bundle's snapshot.key, names the node
// binary and snapshot.cjs): written to a temporary file, checked by starting node from it, then
// renamed, under a lock that one pod of the node holds at a time. Blobs of other keys (an older
// image) are removed then. A blob that fails its check is never published, and a marker
// (installer-<key>.failed) stops this node from trying that key again. Nothing here may fail the
// installer: every error becomes a warning.
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Logger } from 'pino'
import { run, type RunResult } from './exec.js'
import { acquireLock } from './lock.js'
import { exists } from './paths.js'

/** Set by the launcher: the bundle's directory (snapshot.cjs, main.mjs, snapshot.key). */
export const ENV_INSTALLER_DIR = 'GTP5G_INSTALLER_DIR'
/** Set by the launcher: "snapshot" or "plain" (main.mjs), and why plain. */
export const ENV_INSTALLER_ENTRY = 'GTP5G_INSTALLER_ENTRY'
export const ENV_INSTALLER_ENTRY_REASON = 'GTP5G_INSTALLER_ENTRY_REASON'
/** Set for the check of a new blob: the restored snapshot prints SNAPSHOT_VERIFY_OUTPUT and exits. */
export const SNAPSHOT_VERIFY_ENV = 'GTP5G_SNAPSHOT_VERIFY'
export const SNAPSHOT_VERIFY_OUTPUT = 'gtp5g-installer start-up snapshot restored\n'
/** The snapshot cache, under the host cache (installer/bundle.mjs's launcher has the same path). */
export const SNAPSHOT_DIR = 'snapshot'

/** How long building (and checking) a blob may take: minutes in a TCG guest, seconds on hardware. */
const BUILD_TIMEOUT_MS = 15 * 60_000
/** The builder's niceness: the node's workloads, and this installer, come first. */
const NICENESS = 10

export type SnapshotOutcome =
  | { outcome: 'built', file: string, bytes: number, durationMs: number }
  | { outcome: 'present' | 'busy' | 'skipped', why: string }
  | { outcome: 'failed', why: string }

/** What a launcher-started process builds: the bundle's snapshot.cjs into the cache, or why not. */
export async function snapshotPlan (env: NodeJS.ProcessEnv, cacheRoot: string): Promise<{ dir: string, cjs: string, main: string, key: string, cache: string, blob: string } | string> {
  const dir = env[ENV_INSTALLER_DIR]
  if (dir === undefined || dir === '') return 'not started by the launcher'
  // The launcher does not start from a blob then, and a build under them would make a foreign one.
  if ((env.NODE_OPTIONS ?? '') !== '') return 'NODE_OPTIONS is set'
  let key: string
  try {
    key = (await readFile(path.join(dir, 'snapshot.key'), 'utf8')).trim()
  } catch {
    return 'the bundle has no snapshot.key'
  }
  if (!/^[0-9a-f]{8,64}$/.test(key)) return `the bundle's snapshot.key is not a hex key: ${JSON.stringify(key.slice(0, 70))}`
  const cache = path.join(cacheRoot, SNAPSHOT_DIR)
  return { dir, cjs: path.join(dir, 'snapshot.cjs'), main: path.join(dir, 'main.mjs'), key, cache, blob: path.join(cache, `installer-${key}.blob`) }
}

/** Runs node with `args` and only PATH (and `extra`) in its environment, niced; killed on abort or after the timeout. */
async function runNode (node: string, args: string[], cwd: string, extra: Record<string, string>, signal: AbortSignal): Promise<RunResult> {
  // Through nice(1), so that every thread of node starts niced (setpriority on a pid reaches
  // only its main thread, and V8's threads may be started by then).
  return await run('nice', ['-n', String(NICENESS), node, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...extra },
    signal: AbortSignal.any([signal, AbortSignal.timeout(BUILD_TIMEOUT_MS)])
  })
}

function failure (what: string, r: RunResult): string {
  const how = r.aborted === true ? `was stopped after ${BUILD_TIMEOUT_MS / 60_000} minutes` : r.signal !== null ? `was killed (${r.signal})` : `exited ${String(r.code)}`
  const last = r.output.trim().split('\n').slice(-3).join(' | ')
  return `${what} ${how}${last === '' ? '' : `: ${last}`}`
}

/**
 * Builds the start-up snapshot for the next start of this installer on this node, unless there is
 * one, another pod is building it, or this key failed here before. Never throws.
 */
export async function buildSnapshot (opts: { env: NodeJS.ProcessEnv, cacheRoot: string, node?: string, signal: AbortSignal, now?: () => number }): Promise<SnapshotOutcome> {
  const now = opts.now ?? (() => performance.now())
  const node = opts.node ?? process.execPath
  let tmp: string | undefined
  try {
    const plan = await snapshotPlan(opts.env, opts.cacheRoot)
    if (typeof plan === 'string') return { outcome: 'skipped', why: plan }
    const failed = path.join(plan.cache, `installer-${plan.key}.failed`)
    if (await exists(plan.blob)) return { outcome: 'present', why: plan.blob }
    if (await exists(failed)) return { outcome: 'skipped', why: `it failed on this node before (${failed})` }
    await mkdir(plan.cache, { recursive: true })
    let lock
    try {
      lock = await acquireLock(path.join(plan.cache, '.lock'), { timeoutMs: 0, signal: opts.signal })
    } catch (err) {
      if ((err as { reason?: unknown }).reason === 'CacheLocked') return { outcome: 'busy', why: 'another installer on this node is building it' }
      throw err
    }
    try {
      if (await exists(plan.blob)) return { outcome: 'present', why: plan.blob }
      // Temporary files of builders that died; only the lock holder writes here.
      for (const name of await readdir(plan.cache)) if (name.includes('.tmp-')) await rm(path.join(plan.cache, name), { force: true })
      const started = now()
      tmp = `${plan.blob}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
      // --no-warnings: Node.js notes that worker_threads, module and child_process are "not yet
      // fully verified" in a snapshot; pino loads the first two without using them, and
      // child_process runs kmod and make after the restore (test/installer/bundle.test.ts).
      const made = await runNode(node, ['--no-warnings', '--snapshot-blob', tmp, '--build-snapshot', plan.cjs], plan.dir, {}, opts.signal)
      opts.signal.throwIfAborted()
      if (made.code !== 0) {
        await writeFile(failed, `${failure('node --build-snapshot', made)}\n`)
        return { outcome: 'failed', why: failure('node --build-snapshot', made) }
      }
      // Started as the launcher starts it: a blob node refuses, or that does not restore, is never published.
      const check = await runNode(node, ['--snapshot-blob', tmp, plan.main], plan.dir, { [SNAPSHOT_VERIFY_ENV]: '1' }, opts.signal)
      opts.signal.throwIfAborted()
      if (check.code !== 0 || check.stdout !== SNAPSHOT_VERIFY_OUTPUT) {
        const why = `${failure('starting from the new blob', check)}${check.code === 0 ? ` (printed ${JSON.stringify((check.stdout ?? '').slice(0, 100))})` : ''}`
        await writeFile(failed, `${why}\n`)
        return { outcome: 'failed', why }
      }
      await rename(tmp, plan.blob)
      tmp = undefined
      // Blobs and markers of other keys: an earlier image's, never tried again.
      for (const name of await readdir(plan.cache)) {
        if (/^installer-[0-9a-f]+\.(blob|failed)$/.test(name) && !name.startsWith(`installer-${plan.key}.`)) await rm(path.join(plan.cache, name), { force: true })
      }
      return { outcome: 'built', file: plan.blob, bytes: (await stat(plan.blob)).size, durationMs: Math.round(now() - started) }
    } finally {
      await lock.release()
    }
  } catch (err) {
    if (opts.signal.aborted) return { outcome: 'skipped', why: 'stopping' }
    return { outcome: 'failed', why: (err as Error).message }
  } finally {
    if (tmp !== undefined) await rm(tmp, { force: true }).catch(() => {})
  }
}

/** Logs what buildSnapshot did: a line when it built one or could not, nothing when there was nothing to do. */
export async function buildSnapshotAndLog (log: Logger, opts: Parameters<typeof buildSnapshot>[0]): Promise<void> {
  const r = await buildSnapshot(opts)
  if (r.outcome === 'built') log.info({ step: 'snapshot', durationMs: r.durationMs, file: r.file, bytes: r.bytes }, 'built the start-up snapshot for the next start')
  else if (r.outcome === 'failed') log.warn({ step: 'snapshot', why: r.why }, 'could not build the start-up snapshot; later starts run main.mjs')
  else log.debug({ step: 'snapshot', outcome: r.outcome, why: r.why }, 'no start-up snapshot built')
}
