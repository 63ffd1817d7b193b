// The cache loads only what the pod asks for now (issue 9, item 1), through the same temp-root
// harness as flow.test.ts: real cache, real file:// download and extraction, fake make and kmod.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { type Config } from '../../installer/config.js'
import { sha256File } from '../../installer/cache.js'
import { sidecarLine } from '../../installer/core/provenance.js'
import { install } from '../../installer/flow.js'
import { type FakeKmod, type HasTeardown, fakeHeaders, setLoaded, setUnloaded, tempDir, testConfig, testPorts } from './helpers.js'
import { packFixture } from '../support/fixturesource.js'

const KERNEL = '6.1.0-28-amd64'

async function setup (t: HasTeardown, extra: Partial<Config> = {}) {
  const root = await tempDir(t)
  await fakeHeaders(root, KERNEL)
  const tarball = await packFixture(root, 'v0.0.1')
  const config = testConfig(root, pathToFileURL(tarball).href, extra)
  const ports = testPorts(root)
  const entry = ports.paths.cacheEntry('v0.0.1', KERNEL)
  const steps = (from = 0): string[] => ports.lines.slice(from).map(l => l.obj.step).filter((s): s is string => typeof s === 'string')
  const lookups = () => ports.lines.filter(l => l.obj.step === 'cache-lookup').map(l => l.obj)
  return { root, tarball, config, ports, entry, steps, lookups, kmod: ports.kmod as FakeKmod, builds: () => (ports.runner as unknown as { builds: number }).builds }
}

t.test('a sha256 pinned after an unpinned build is never a cache hit: no tarball has it → ChecksumMismatch', async t => {
  const { root, config, ports, entry, steps, lookups, kmod, builds } = await setup(t)
  t.equal(await install(config, ports), 'built-and-loaded', 'first build, from a URL nobody pinned')
  await setUnloaded(root, 'gtp5g') // node reboot
  kmod.calls.length = 0
  const from = ports.lines.length
  await t.rejects(install({ ...config, sourceSha256: 'f'.repeat(64) }, ports), { reason: 'ChecksumMismatch', message: /sha256 is [0-9a-f]{64}, expected f{64}/ })
  t.match(lookups().at(-1), { hit: false, why: 'stale', detail: /tarball sha256 [0-9a-f]{64}, pinned f{64}/ }, 'the entry did not answer the pin')
  t.ok(steps(from).includes('download'), 'the tarball was fetched again to check the pin')
  t.equal(builds(), 1, 'nothing built from a tarball that fails the pin')
  t.same(kmod.calls, [], 'nothing loaded')
  t.same(await readFile(entry.ko).catch(() => 'evicted'), 'evicted', 'the untrusted entry is gone')
})

t.test('the right pin after an unpinned build from the same URL is a hit: no download, no build', async t => {
  const { root, tarball, config, ports, steps, builds } = await setup(t)
  await install(config, ports)
  await setUnloaded(root, 'gtp5g')
  const from = ports.lines.length
  t.equal(await install({ ...config, sourceSha256: await sha256File(tarball) }, ports), 'loaded-from-cache')
  t.notOk(steps(from).includes('download'))
  t.equal(builds(), 1)
})

t.test('stale entries are rebuilt: another source URL, another installer release', async t => {
  await t.test('another URL', async t => {
    const { root, config, ports, lookups, builds } = await setup(t)
    await install(config, ports)
    await setUnloaded(root, 'gtp5g')
    const mirror = path.join(root, 'mirror')
    await mkdir(mirror)
    const moved = pathToFileURL(await packFixture(mirror, 'v0.0.1')).href
    t.equal(await install({ ...config, sourceUrl: moved }, ports), 'built-and-loaded')
    t.equal(builds(), 2)
    t.match(lookups().at(-1), { why: 'stale', detail: /source file:.*, wanted file:.*mirror/ })
  })
  await t.test('a new installer', async t => {
    const { root, config, ports, lookups, builds } = await setup(t)
    await install(config, ports)
    await setUnloaded(root, 'gtp5g')
    t.equal(await install(config, { ...ports, installerVersion: '9.9.9' }), 'built-and-loaded')
    t.equal(builds(), 2)
    t.match(lookups().at(-1), { why: 'stale', detail: /installer 0\.0\.0-test, this is 9\.9\.9/ })
  })
})

t.test('a planted .ko with a matching sidecar is rebuilt, never loaded', async t => {
  const { root, config, ports, entry, lookups, kmod, builds } = await setup(t)
  await install(config, ports)
  await setUnloaded(root, 'gtp5g')
  // Looks like a good module for the right version, with a sidecar that matches it.
  await writeFile(entry.ko, 'FAKE-KO version=0.0.1 planted\n')
  await writeFile(entry.sidecar, sidecarLine(await sha256File(entry.ko)))
  await rm(entry.provenance)
  kmod.calls.length = 0
  t.equal(await install(config, ports), 'built-and-loaded')
  t.equal(builds(), 2)
  t.match(lookups().at(-1), { why: 'foreign', detail: /no readable provenance/ })
  t.notMatch(await readFile(entry.ko, 'utf8'), /planted/, 'the cache now holds our own build')
  t.same(kmod.calls.filter(c => c.startsWith('insmod')).length, 1, 'one load, of the rebuilt module')
})

t.test('a pin during an upgrade that no tarball has leaves the running version loaded', async t => {
  const { root, config, ports, kmod } = await setup(t)
  await install(config, ports)
  await setLoaded(root, 'gtp5g', { version: '0.0.0', refcnt: 0 })
  kmod.calls.length = 0
  await t.rejects(install({ ...config, sourceSha256: '0'.repeat(64) }, ports), { name: 'InstallerError', reason: 'ChecksumMismatch' })
  t.same(kmod.calls, [], 'the old version was not removed')
})
