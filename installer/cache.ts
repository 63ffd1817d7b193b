// The host build cache: /var/lib/gtp5g/<version>/<kernel>/ holds gtp5g.ko, its provenance
// (provenance.json: source URL, tarball sha256, installer version, kernel, module sha256), a
// sha256 sidecar and the last build.log. The sidecar is written last and acts as the commit
// marker, so a crash at any point leaves either a complete entry or one lookup() rejects.
// An entry is loaded only when its provenance matches what the pod asks for now; anything else
// (stale, foreign, planted, half-written) is evicted and rebuilt, never trusted.
// Callers hold the entry's lock (lock.ts) around lookup, store and evict.
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { copyFile, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { MODULE_FILE } from '../contract/index.js'
import { exists } from './paths.js'

export interface CacheEntry { dir: string, ko: string, sidecar: string, provenance: string, buildLog: string, lock: string }

/** What the pod asks for; an entry is used only when its provenance answers all of it. */
export interface Wanted {
  version: string
  kernel: string
  installer: string
  /** Built with BTF (spec.btf); an entry built the other way is rebuilt. */
  btf: boolean
  sourceUrl: string
  /** When pinned, the entry's tarball must have had exactly this sha256. */
  sourceSha256: string | undefined
}

export interface Provenance {
  format: 1
  version: string
  kernel: string
  installer: string
  /** Absent in entries written before spec.btf existed: built without asking for BTF. */
  btf?: boolean
  source: { url: string, sha256: string, resolvedUrl: string, bytes: number }
  module: { sha256: string }
}

export type Lookup =
  | { hit: true, sha256: string, provenance: Provenance }
  | { hit: false, why: 'missing' | 'corrupt' | 'foreign' | 'stale', detail: string }

/** Suffix of every temporary file: `<name>.tmp-<pid>-<random>`, swept by the next lock holder. */
const TMP_MARK = '.tmp-'

export async function sha256File (file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** `sha256sum` format, so an operator can verify an entry by hand with `sha256sum -c`. */
export function sidecarLine (sha256: string): string {
  return `${sha256}  ${MODULE_FILE}\n`
}

export function parseSidecar (text: string): string | undefined {
  const m = /^([0-9a-f]{64}) [ *]?\S+\s*$/.exec(text)
  return m?.[1]
}

async function readOptional (file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

const SHA = /^[0-9a-f]{64}$/

export function parseProvenance (text: string | undefined): Provenance | undefined {
  if (text === undefined) return undefined
  let p: unknown
  try {
    p = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof p !== 'object' || p === null) return undefined
  const r = p as Record<string, unknown>
  const source = r.source as Record<string, unknown> | undefined
  const mod = r.module as Record<string, unknown> | undefined
  const str = (v: unknown): v is string => typeof v === 'string'
  if (r.format !== 1 || !str(r.version) || !str(r.kernel) || !str(r.installer)) return undefined
  if (typeof source !== 'object' || source === null || !str(source.url) || !str(source.sha256) || !SHA.test(source.sha256)) return undefined
  if (typeof mod !== 'object' || mod === null || !str(mod.sha256) || !SHA.test(mod.sha256)) return undefined
  return {
    format: 1,
    version: r.version,
    kernel: r.kernel,
    installer: r.installer,
    btf: r.btf === true,
    source: { url: source.url, sha256: source.sha256, resolvedUrl: str(source.resolvedUrl) ? source.resolvedUrl : source.url, bytes: Number(source.bytes) || 0 },
    module: { sha256: mod.sha256 }
  }
}

/** Why `p` does not answer `want`, or undefined when it does. */
export function provenanceMismatch (p: Provenance, want: Wanted): string | undefined {
  const diffs: string[] = []
  if (p.version !== want.version) diffs.push(`version ${p.version}, wanted ${want.version}`)
  if (p.kernel !== want.kernel) diffs.push(`kernel ${p.kernel}, wanted ${want.kernel}`)
  if (p.installer !== want.installer) diffs.push(`installer ${p.installer}, this is ${want.installer}`)
  if ((p.btf ?? false) !== want.btf) diffs.push(want.btf ? 'no BTF, wanted BTF' : 'BTF, wanted none')
  if (p.source.url !== want.sourceUrl) diffs.push(`source ${p.source.url}, wanted ${want.sourceUrl}`)
  if (want.sourceSha256 !== undefined && p.source.sha256 !== want.sourceSha256) {
    diffs.push(`tarball sha256 ${p.source.sha256}, pinned ${want.sourceSha256}`)
  }
  return diffs.length === 0 ? undefined : `built with ${diffs.join('; ')}`
}

/** Checks an entry; anything but a hit is removed so the caller rebuilds it. */
export async function lookup (entry: CacheEntry, want: Wanted): Promise<Lookup> {
  const sidecar = await readOptional(entry.sidecar)
  if (sidecar === undefined) {
    const leftovers = (await Promise.all([entry.ko, entry.provenance].map(exists))).some(Boolean)
    if (!leftovers) return { hit: false, why: 'missing', detail: `no cache entry at ${entry.dir}` }
    await evict(entry)
    return { hit: false, why: 'corrupt', detail: `${MODULE_FILE} without its checksum sidecar (interrupted write)` }
  }
  const expected = parseSidecar(sidecar)
  let actual: string | undefined
  try {
    actual = await sha256File(entry.ko)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (expected === undefined || actual !== expected) {
    await evict(entry)
    const detail = expected === undefined
      ? 'unreadable checksum sidecar'
      : actual === undefined ? `${MODULE_FILE} missing` : `checksum mismatch: sidecar ${expected}, file ${actual}`
    return { hit: false, why: 'corrupt', detail }
  }
  const provenance = parseProvenance(await readOptional(entry.provenance))
  if (provenance === undefined || provenance.module.sha256 !== actual) {
    await evict(entry)
    const detail = provenance === undefined
      ? `${MODULE_FILE} with no readable provenance (not built by this installer, or by one before provenance was recorded)`
      : `provenance describes another module (sha256 ${provenance.module.sha256}, file ${actual})`
    return { hit: false, why: 'foreign', detail }
  }
  const mismatch = provenanceMismatch(provenance, want)
  if (mismatch !== undefined) {
    await evict(entry)
    return { hit: false, why: 'stale', detail: mismatch }
  }
  return { hit: true, sha256: actual, provenance }
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
