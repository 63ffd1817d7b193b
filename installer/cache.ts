// The host build cache: /var/lib/gtp5g/<version>/<kernel>/gtp5g.ko plus a sha256 sidecar.
// The sidecar is written last and acts as the commit marker, so a crash at any point leaves
// either a complete entry or one that lookup() rejects and the next run rebuilds.
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { access, copyFile, mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { MODULE_FILE } from '../contract/index.js'

export interface CacheEntry { dir: string, ko: string, sidecar: string }

export type Lookup =
  | { hit: true, sha256: string }
  | { hit: false, why: 'missing' | 'corrupt', detail: string }

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

/** Checks an entry; a corrupt one (bad sidecar, truncated or altered .ko) is removed. */
export async function lookup (entry: CacheEntry): Promise<Lookup> {
  const sidecar = await readOptional(entry.sidecar)
  if (sidecar === undefined) {
    const orphan = await access(entry.ko).then(() => true, () => false)
    if (!orphan) return { hit: false, why: 'missing', detail: `no cache entry at ${entry.dir}` }
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
  if (expected !== undefined && actual === expected) return { hit: true, sha256: actual }
  await evict(entry)
  const detail = expected === undefined
    ? 'unreadable checksum sidecar'
    : actual === undefined ? `${MODULE_FILE} missing` : `checksum mismatch: sidecar ${expected}, file ${actual}`
  return { hit: false, why: 'corrupt', detail }
}

export async function evict (entry: CacheEntry): Promise<void> {
  // The sidecar goes first: without it the entry is invalid even if removing the .ko fails.
  await rm(entry.sidecar, { force: true })
  await rm(entry.ko, { force: true })
}

async function fsyncFile (file: string): Promise<void> {
  const fh = await open(file, 'r+')
  try { await fh.sync() } finally { await fh.close() }
}

async function writeDurably (file: string, data: string): Promise<void> {
  const fh = await open(file, 'w')
  try {
    await fh.writeFile(data)
    await fh.sync()
  } finally { await fh.close() }
}

/** Copies a freshly built module into the cache: temp file, fsync, rename; sidecar last. */
export async function store (entry: CacheEntry, builtKo: string): Promise<string> {
  await mkdir(entry.dir, { recursive: true })
  // Invalidate first so a reader never pairs the old sidecar with the new file.
  await rm(entry.sidecar, { force: true })
  const suffix = `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  const koTmp = entry.ko + suffix
  const sideTmp = entry.sidecar + suffix
  try {
    await copyFile(builtKo, koTmp)
    await fsyncFile(koTmp)
    const sha256 = await sha256File(koTmp)
    await rename(koTmp, entry.ko)
    await writeDurably(sideTmp, sidecarLine(sha256))
    await rename(sideTmp, entry.sidecar)
    return sha256
  } finally {
    await rm(koTmp, { force: true })
    await rm(sideTmp, { force: true })
  }
}
