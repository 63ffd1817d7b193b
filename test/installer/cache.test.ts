import { readdir, readFile, truncate, writeFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { lookup, parseSidecar, sha256File, store } from '../../installer/cache.js'
import { hostPaths } from '../../installer/paths.js'
import { tempDir } from './helpers.js'

async function built (dir: string, body = 'a module'.repeat(100)): Promise<string> {
  const file = path.join(dir, 'gtp5g.ko')
  await writeFile(file, body)
  return file
}

t.test('entries live at /var/lib/gtp5g/<version>/<kernel>/ under the host root', async t => {
  const e = hostPaths('/host').cacheEntry('v0.9.12', '6.1.0-28-amd64')
  t.equal(e.ko, '/host/var/lib/gtp5g/v0.9.12/6.1.0-28-amd64/gtp5g.ko')
  t.equal(e.sidecar, '/host/var/lib/gtp5g/v0.9.12/6.1.0-28-amd64/gtp5g.ko.sha256')
  t.equal(hostPaths('').cacheEntry('v1.0.0', '5.15.0-91-generic').dir, '/var/lib/gtp5g/v1.0.0/5.15.0-91-generic')
})

t.test('store then lookup is a hit; nothing temporary is left behind', async t => {
  const root = await tempDir(t)
  const entry = hostPaths(root).cacheEntry('v0.0.1', '6.1.0-28-amd64')
  t.same(await lookup(entry), { hit: false, why: 'missing', detail: `no cache entry at ${entry.dir}` })
  const sha = await store(entry, await built(root))
  t.equal(sha, await sha256File(entry.ko))
  t.equal(parseSidecar(await readFile(entry.sidecar, 'utf8')), sha, 'sidecar is sha256sum format')
  t.same(await lookup(entry), { hit: true, sha256: sha })
  t.same((await readdir(entry.dir)).sort(), ['gtp5g.ko', 'gtp5g.ko.sha256'])
  // Storing again (a rebuild) replaces the entry atomically and stays a hit.
  const sha2 = await store(entry, await built(root, 'another build'))
  t.not(sha2, sha)
  t.same(await lookup(entry), { hit: true, sha256: sha2 })
})

t.test('corrupt entries are detected, evicted, and reported', async t => {
  const cases: Array<[string, (e: { ko: string, sidecar: string }) => Promise<void>, RegExp]> = [
    ['truncated module', e => truncate(e.ko, 10), /checksum mismatch/],
    ['altered module', e => writeFile(e.ko, 'tampered'), /checksum mismatch/],
    ['module gone', e => writeFile(e.ko, '').then(async () => (await import('node:fs/promises')).rm(e.ko)), /missing/],
    ['garbage sidecar', e => writeFile(e.sidecar, 'not a checksum'), /unreadable checksum sidecar/],
    ['no sidecar (crash before commit)', async e => (await import('node:fs/promises')).rm(e.sidecar), /without its checksum sidecar/]
  ]
  for (const [name, damage, detail] of cases) {
    const root = await tempDir(t)
    const entry = hostPaths(root).cacheEntry('v0.0.1', '6.1.0-28-amd64')
    await store(entry, await built(root))
    await damage(entry)
    const result = await lookup(entry)
    t.match(result, { hit: false, why: 'corrupt', detail }, name)
    t.same(await readdir(entry.dir), [], `${name}: evicted`)
    t.match(await lookup(entry), { hit: false, why: 'missing' }, `${name}: next lookup sees a clean miss`)
  }
})
