// The host build cache's files: /var/lib/gtp5g/<version>/<kernel>/ holds gtp5g.ko, its
// provenance.json, a sha256 sidecar and the last build.log. The sidecar is written last and acts
// as the commit marker, so a crash at any point leaves either a complete entry or one lookup()
// rejects. Which entry may be loaded is core/provenance.ts's rule; this file reads the entry for
// it, evicts what it rejects and writes new entries. Callers hold the entry's lock (lock.ts)
// around lookup, store and evict.
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { copyFile, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { judgeEntry, type Lookup, type Provenance, sidecarLine, type Wanted } from './core/provenance.js'
import type { CacheEntry } from './paths.js'

/** Suffix of every temporary file: `<name>.tmp-<pid>-<random>`, swept by the next lock holder. */
const TMP_MARK = '.tmp-'

export async function sha256File (file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** What `read` gives, or undefined when the file is absent. */
async function unlessAbsent<T> (read: Promise<T>): Promise<T | undefined> {
  try {
    return await read
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** Reads an entry and judges it (core/provenance.ts); anything but a hit or a clean miss is removed so the caller rebuilds it. */
export async function lookup (entry: CacheEntry, want: Wanted): Promise<Lookup> {
  const verdict = judgeEntry({
    dir: entry.dir,
    sidecar: await unlessAbsent(readFile(entry.sidecar, 'utf8')),
    koSha256: await unlessAbsent(sha256File(entry.ko)),
    provenance: await unlessAbsent(readFile(entry.provenance, 'utf8'))
  }, want)
  if (!verdict.hit && verdict.why !== 'missing') await evict(entry)
  return verdict
}

export async function evict (entry: CacheEntry): Promise<void> {
  // The sidecar goes first: without it the entry is invalid even if removing the rest fails.
  await rm(entry.sidecar, { force: true })
  await rm(entry.provenance, { force: true })
  await rm(entry.ko, { force: true })
}

/** Removes temporary files of writers that died (SIGKILL, node crash). Only under the lock. */
export async function sweepTemporaries (entry: CacheEntry): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(entry.dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const stale = names.filter(n => n.includes(TMP_MARK))
  await Promise.all(stale.map(n => rm(path.join(entry.dir, n), { force: true })))
  return stale
}

async function fsyncPath (file: string, flags = 'r+'): Promise<void> {
  const fh = await open(file, flags)
  try { await fh.sync() } finally { await fh.close() }
}

function tempName (file: string): string {
  return `${file}${TMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`
}

/**
 * Writes `file` atomically: a temporary file in the same directory, fsync, rename, fsync of the
 * directory. Readers see the old content or the new one, never a part. The temporary file is
 * removed on any failure; a crash leaves it for sweepTemporaries.
 */
export async function writeAtomic (file: string, content: { data: string } | { copyOf: string }): Promise<void> {
  const tmp = tempName(file)
  try {
    if ('data' in content) {
      const fh = await open(tmp, 'w', 0o644)
      try {
        await fh.writeFile(content.data)
        await fh.sync()
      } finally { await fh.close() }
    } else {
      await copyFile(content.copyOf, tmp)
      await fsyncPath(tmp)
    }
    await rename(tmp, file)
    await fsyncPath(path.dirname(file), 'r')
  } finally {
    await rm(tmp, { force: true })
  }
}

/**
 * Copies a freshly built module into the cache with its provenance; the sidecar is the commit
 * marker and goes last. `signal` stops between files. A store that does not reach its commit
 * (stopped, disk full) removes what it wrote: the entry is complete or absent, never in between.
 */
export async function store (entry: CacheEntry, builtKo: string, source: Omit<Provenance, 'format' | 'module'>, signal?: AbortSignal): Promise<string> {
  await mkdir(entry.dir, { recursive: true })
  // Invalidate first so a reader never pairs the old sidecar with the new file.
  await rm(entry.sidecar, { force: true })
  try {
    const sha256 = await sha256File(builtKo)
    signal?.throwIfAborted()
    await writeAtomic(entry.ko, { copyOf: builtKo })
    // The copy is what gets loaded: hash it, not the build output it came from.
    const stored = await sha256File(entry.ko)
    if (stored !== sha256) throw new Error(`${entry.ko} changed while being stored (sha256 ${stored}, built ${sha256})`)
    signal?.throwIfAborted()
    const provenance: Provenance = { format: 1, ...source, module: { sha256 } }
    await writeAtomic(entry.provenance, { data: JSON.stringify(provenance, null, 2) + '\n' })
    signal?.throwIfAborted()
    await writeAtomic(entry.sidecar, { data: sidecarLine(sha256) })
    return sha256
  } catch (err) {
    await evict(entry)
    throw err
  }
}
