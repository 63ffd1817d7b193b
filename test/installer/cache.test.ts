import { readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { lookup, sha256File, store, sweepTemporaries, writeAtomic } from '../../installer/cache.js'
import { parseProvenance, parseSidecar, type Provenance, sidecarLine, type Wanted } from '../../installer/core/provenance.js'
import { type CacheEntry, hostPaths } from '../../installer/paths.js'
import { tempDir } from './helpers.js'

const KERNEL = '6.1.0-28-amd64'
const TARBALL_SHA = 'a'.repeat(64)
const want: Wanted = { version: 'v0.0.1', kernel: KERNEL, installer: '1.0.0', btf: false, sourceUrl: 'https://example.org/v0.0.1.tar.gz', sourceSha256: undefined }
const source = (w: Wanted = want, sha = TARBALL_SHA): Omit<Provenance, 'format' | 'module'> => ({
  version: w.version,
  kernel: w.kernel,
  installer: w.installer,
  btf: w.btf,
  source: { url: w.sourceUrl, sha256: sha, resolvedUrl: w.sourceUrl, bytes: 123 }
})

async function built (dir: string, body = 'a module'.repeat(100)): Promise<string> {
  const file = path.join(dir, 'gtp5g.ko')
  await writeFile(file, body)
  return file
}

async function stored (t: Parameters<typeof tempDir>[0]): Promise<{ root: string, entry: CacheEntry, sha: string }> {
  const root = await tempDir(t)
  const entry = hostPaths(root).cacheEntry('v0.0.1', KERNEL)
  const sha = await store(entry, await built(root), source())
  return { root, entry, sha }
}

t.test('entries live at /var/lib/gtp5g/<version>/<kernel>/ under the host root', async t => {
  const e = hostPaths('/host').cacheEntry('v0.9.12', KERNEL)
  t.equal(e.ko, `/host/var/lib/gtp5g/v0.9.12/${KERNEL}/gtp5g.ko`)
  t.equal(e.sidecar, `/host/var/lib/gtp5g/v0.9.12/${KERNEL}/gtp5g.ko.sha256`)
  t.equal(e.provenance, `/host/var/lib/gtp5g/v0.9.12/${KERNEL}/provenance.json`)
  t.equal(e.lock, `/host/var/lib/gtp5g/v0.9.12/${KERNEL}/.lock`)
  t.equal(hostPaths('').cacheEntry('v1.0.0', '5.15.0-91-generic').dir, '/var/lib/gtp5g/v1.0.0/5.15.0-91-generic')
})

t.test('store then lookup is a hit that carries the provenance; nothing temporary is left behind', async t => {
  const root = await tempDir(t)
  const entry = hostPaths(root).cacheEntry('v0.0.1', KERNEL)
  t.same(await lookup(entry, want), { hit: false, why: 'missing', detail: `no cache entry at ${entry.dir}` })
  const sha = await store(entry, await built(root), source())
  t.equal(sha, await sha256File(entry.ko))
  t.equal(parseSidecar(await readFile(entry.sidecar, 'utf8')), sha, 'sidecar is sha256sum format')
  const provenance = parseProvenance(await readFile(entry.provenance, 'utf8'))
  t.same(provenance, { format: 1, ...source(), module: { sha256: sha } }, 'provenance.json records source, tarball sha256, installer, kernel and module sha256')
  t.same(await lookup(entry, want), { hit: true, sha256: sha, provenance })
  t.same(await lookup(entry, { ...want, sourceSha256: TARBALL_SHA }), { hit: true, sha256: sha, provenance }, 'a pin equal to the recorded tarball sha256 is a hit')
  t.same((await readdir(entry.dir)).sort(), ['gtp5g.ko', 'gtp5g.ko.sha256', 'provenance.json'])
  // Storing again (a rebuild) replaces the entry atomically and stays a hit.
  const sha2 = await store(entry, await built(root, 'another build'), source())
  t.not(sha2, sha)
  t.match(await lookup(entry, want), { hit: true, sha256: sha2 })
})

t.test('an entry that does not answer what the pod asks for now is stale: evicted, never loaded', async t => {
  const rows: Array<[string, Partial<Wanted>, RegExp]> = [
    ['a pinned sha256 the recorded tarball does not have', { sourceSha256: 'f'.repeat(64) }, /tarball sha256 a{64}, pinned f{64}/],
    ['another source URL', { sourceUrl: 'https://mirror.example.org/v0.0.1.tar.gz' }, /source https:\/\/example\.org\/v0\.0\.1\.tar\.gz, wanted https:\/\/mirror/],
    ['another installer release', { installer: '1.1.0' }, /installer 1\.0\.0, this is 1\.1\.0/],
    ['another kernel (an entry copied between directories)', { kernel: '6.1.0-29-amd64' }, /kernel 6\.1\.0-28-amd64, wanted 6\.1\.0-29-amd64/],
    ['another gtp5g version', { version: 'v0.0.2' }, /version v0\.0\.1, wanted v0\.0\.2/]
  ]
  for (const [name, change, detail] of rows) {
    const { entry } = await stored(t)
    t.match(await lookup(entry, { ...want, ...change }), { hit: false, why: 'stale', detail }, name)
    t.same(await readdir(entry.dir), [], `${name}: evicted`)
  }
})

t.test('a module without provenance, or with provenance for another module, is foreign: evicted', async t => {
  const rows: Array<[string, (e: CacheEntry) => Promise<void>, RegExp]> = [
    // What the issue reproduced: a planted .ko with a matching sidecar used to be loaded.
    ['planted .ko with a matching sidecar, no provenance', async e => {
      await rm(e.provenance)
      await writeFile(e.ko, 'planted')
      await writeFile(e.sidecar, sidecarLine(await sha256File(e.ko)))
    }, /no readable provenance/],
    ['planted .ko and sidecar beside a real provenance', async e => {
      await writeFile(e.ko, 'planted')
      await writeFile(e.sidecar, sidecarLine(await sha256File(e.ko)))
    }, /provenance describes another module/],
    ['unparseable provenance', e => writeFile(e.provenance, '{"format":1,'), /no readable provenance/],
    ['provenance of an unknown format', e => writeFile(e.provenance, JSON.stringify({ format: 2 })), /no readable provenance/]
  ]
  for (const [name, damage, detail] of rows) {
    const { entry } = await stored(t)
    await damage(entry)
    t.match(await lookup(entry, want), { hit: false, why: 'foreign', detail }, name)
    t.same(await readdir(entry.dir), [], `${name}: evicted`)
  }
})

t.test('corrupt entries are detected, evicted, and reported', async t => {
  const cases: Array<[string, (e: CacheEntry) => Promise<void>, RegExp]> = [
    ['truncated module', e => truncate(e.ko, 10), /checksum mismatch/],
    ['altered module', e => writeFile(e.ko, 'tampered'), /checksum mismatch/],
    ['module gone', e => rm(e.ko), /missing/],
    ['garbage sidecar', e => writeFile(e.sidecar, 'not a checksum'), /unreadable checksum sidecar/],
    ['no sidecar (crash before commit)', e => rm(e.sidecar), /without its checksum sidecar/]
  ]
  for (const [name, damage, detail] of cases) {
    const { entry } = await stored(t)
    await damage(entry)
    t.match(await lookup(entry, want), { hit: false, why: 'corrupt', detail }, name)
    t.same(await readdir(entry.dir), [], `${name}: evicted`)
    t.match(await lookup(entry, want), { hit: false, why: 'missing' }, `${name}: next lookup sees a clean miss`)
  }
})

t.test('writeAtomic replaces whole files and leaves no temporary file, even when it fails', async t => {
  const dir = await tempDir(t)
  const file = path.join(dir, 'f')
  await writeAtomic(file, { data: 'one' })
  await writeAtomic(file, { data: 'two' })
  t.equal(await readFile(file, 'utf8'), 'two')
  await t.rejects(writeAtomic(file, { copyOf: path.join(dir, 'absent') }), { code: 'ENOENT' })
  t.equal(await readFile(file, 'utf8'), 'two', 'a failed write keeps the old content')
  t.same(await readdir(dir), ['f'])
})

t.test('the next lock holder sweeps temporary files a killed writer left', async t => {
  const { entry } = await stored(t)
  await writeFile(`${entry.ko}.tmp-4242-deadbeef`, 'half a module')
  await writeFile(`${entry.sidecar}.tmp-4242-deadbeef`, '')
  t.same((await sweepTemporaries(entry)).sort(), ['gtp5g.ko.sha256.tmp-4242-deadbeef', 'gtp5g.ko.tmp-4242-deadbeef'])
  t.same((await readdir(entry.dir)).sort(), ['gtp5g.ko', 'gtp5g.ko.sha256', 'provenance.json'])
  t.same(await sweepTemporaries(hostPaths(entry.dir).cacheEntry('v9.9.9', KERNEL)), [], 'no directory, nothing to sweep')
})

t.test('a store stopped by SIGTERM leaves no temporary file and no committed entry', async t => {
  const root = await tempDir(t)
  const entry = hostPaths(root).cacheEntry('v0.0.1', KERNEL)
  const stop = new AbortController()
  stop.abort(new DOMException('stopping on SIGTERM', 'AbortError'))
  await t.rejects(store(entry, await built(root), source(), stop.signal), { name: 'AbortError' })
  t.same(await readdir(entry.dir), [])
})
