// The install / unload / check flow against a temporary host root: real sysfs-shaped files, real
// cache, real file:// download and extraction; only kmod and make are fakes.
import { mkdir, readdir, readFile, truncate, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { type Config } from '../../installer/config.js'
import { type Runner } from '../../installer/exec.js'
import { check, install, unload } from '../../installer/flow.js'
import { type FakeKmod, type HasTeardown, fakeHeaders, fakeKo, fakeMake, setLoaded, setUnloaded, tempDir, testConfig, testPorts } from './helpers.js'
import { packFixture } from '../support/fixturesource.js'

const KERNEL = '6.1.0-28-amd64'

async function setup (t: HasTeardown, version = 'v0.0.1', extra: Partial<Config> = {}) {
  const root = await tempDir(t)
  await fakeHeaders(root, KERNEL)
  const tarball = await packFixture(root, version)
  const config = testConfig(root, pathToFileURL(tarball).href, { version, ...extra })
  const ports = testPorts(root)
  return { root, config, ports, kmod: ports.kmod as FakeKmod, builds: () => (ports.runner as unknown as { builds: number }).builds }
}

t.test('cold install builds, caches and loads; a restart does nothing', async t => {
  const { root, config, ports, kmod, builds } = await setup(t)
  t.equal(await install(config, ports), 'built-and-loaded')
  t.equal(builds(), 1)
  t.same(kmod.calls, [`modprobe udp_tunnel ${KERNEL}`, `insmod ${root}/var/lib/gtp5g/v0.0.1/${KERNEL}/gtp5g.ko`], 'dependency first, then the cached module')
  t.equal((await readFile(path.join(root, 'sys/module/gtp5g/version'), 'utf8')).trim(), '0.0.1')
  t.same(await check(config, ports), { ready: true, detail: 'gtp5g 0.0.1 loaded' })

  const steps = ports.lines.filter(l => typeof l.obj.step === 'string').map(l => l.obj.step)
  t.same(steps, ['kernel', 'inspect', 'lock', 'cache-lookup', 'headers', 'download', 'extract', 'build', 'cache-store', 'load-dependency', 'load', 'verify', 'done'])
  t.ok(ports.lines.filter(l => l.obj.step !== 'done').every(l => typeof l.obj.durationMs === 'number'), 'every step line carries its duration')
  t.match(await readFile(path.join(root, `var/lib/gtp5g/v0.0.1/${KERNEL}/build.log`), 'utf8'), /LD \[M\] gtp5g.ko/, 'compiler output kept next to the cache entry')

  kmod.calls.length = 0
  t.equal(await install(config, ports), 'already-loaded', 'pod restart with the right version loaded')
  t.same(kmod.calls, [], 'no load, no unload')
  t.equal(builds(), 1, 'no build')
})

t.test('module gone but cached: loads from the cache without building', async t => {
  const { root, config, ports, kmod, builds } = await setup(t)
  await install(config, ports)
  // A node reboot: neither gtp5g nor its dependency is in the kernel.
  await setUnloaded(root, 'gtp5g')
  await setUnloaded(root, 'udp_tunnel')
  kmod.calls.length = 0
  t.equal(await install(config, ports), 'loaded-from-cache')
  t.equal(builds(), 1)
  t.same(kmod.calls, [`modprobe udp_tunnel ${KERNEL}`, `insmod ${root}/var/lib/gtp5g/v0.0.1/${KERNEL}/gtp5g.ko`])

  // gtp5g removed by hand, udp_tunnel still live: /sys/module says so, modprobe is not started.
  await setUnloaded(root, 'gtp5g')
  kmod.calls.length = 0
  t.equal(await install(config, ports), 'loaded-from-cache')
  t.same(kmod.calls, [`insmod ${root}/var/lib/gtp5g/v0.0.1/${KERNEL}/gtp5g.ko`], 'only insmod')
})

t.test('a corrupt cache entry is rebuilt', async t => {
  const { root, config, ports, builds } = await setup(t)
  await install(config, ports)
  await setUnloaded(root, 'gtp5g')
  await truncate(path.join(root, `var/lib/gtp5g/v0.0.1/${KERNEL}/gtp5g.ko`), 3)
  t.equal(await install(config, ports), 'built-and-loaded')
  t.equal(builds(), 2)
  t.match(ports.lines.find(l => l.obj.step === 'cache-lookup' && l.obj.why === 'corrupt'), { obj: { detail: /checksum mismatch/ } })
})

t.test('upgrade: an idle other version is removed, a busy one is never forced', async t => {
  const { root, config, ports, kmod } = await setup(t, 'v0.0.2')
  await setLoaded(root, 'gtp5g', { version: '0.0.1', refcnt: 0 })
  t.equal(await install(config, ports), 'built-and-loaded')
  t.same(kmod.calls[0], 'rmmod gtp5g')
  t.same(await check(config, ports), { ready: true, detail: 'gtp5g 0.0.2 loaded' })
  const steps = ports.lines.map(l => l.obj.step)
  t.ok(steps.indexOf('cache-store') < steps.indexOf('unload-other'), 'the old version stays until the new one is built')

  await setLoaded(root, 'gtp5g', { version: '0.0.1', refcnt: 1, holders: ['upf_helper'] })
  kmod.calls.length = 0
  const before = ports.lines.length
  await t.rejects(install({ ...config, version: 'v0.0.3' }, ports), { reason: 'ModuleInUse', message: /0\.0\.1 is in use \(refcnt 1 by upf_helper\)/ })
  t.same(kmod.calls, [], 'nothing was unloaded or loaded')
  t.notOk(ports.lines.slice(before).some(l => l.obj.step === 'download'), 'refused before downloading anything')
  t.equal((await readFile(path.join(root, 'sys/module/gtp5g/version'), 'utf8')).trim(), '0.0.1', 'the running version stays')
})

t.test('a failed build during an upgrade leaves the running version loaded', async t => {
  const { root, config, ports, kmod } = await setup(t, 'v0.0.2')
  await setLoaded(root, 'gtp5g', { version: '0.0.1', refcnt: 0 })
  config.sourceUrl = pathToFileURL(await packFixture(root, 'v0.0.2', { broken: true })).href
  await t.rejects(install(config, ports), { reason: 'BuildFailed', message: /error/ })
  t.same(kmod.calls, [])
  t.equal((await readFile(path.join(root, 'sys/module/gtp5g/version'), 'utf8')).trim(), '0.0.1')
})

t.test('failures carry the contract reasons', async t => {
  await t.test('unsupported kernel', async t => {
    const { config, ports } = await setup(t, 'v0.0.1', { kernel: '4.18.0-513.el8.x86_64' })
    await t.rejects(install(config, ports), { reason: 'UnsupportedKernel', message: /4\.18\.0-513\.el8\.x86_64 is older than 5\.0/ })
  })
  await t.test('unparseable kernel', async t => {
    const { config, ports } = await setup(t, 'v0.0.1', { kernel: 'generic' })
    await t.rejects(install(config, ports), { reason: 'UnsupportedKernel', message: /cannot parse/ })
  })
  await t.test('headers missing for the requested kernel', async t => {
    const { config, ports } = await setup(t, 'v0.0.1', { kernel: '5.15.0-91-generic' })
    await t.rejects(install(config, ports), { reason: 'KernelHeadersMissing', message: /5\.15\.0-91-generic/ })
  })
  await t.test('checksum', async t => {
    const { config, ports } = await setup(t, 'v0.0.1', { sourceSha256: 'f'.repeat(64) })
    await t.rejects(install(config, ports), { reason: 'ChecksumMismatch', message: /sha256 is [0-9a-f]{64}, expected f{64}/ })
  })
  await t.test('source missing', async t => {
    const { config, ports } = await setup(t, 'v0.0.1', { sourceUrl: 'file:///nonexistent/gtp5g.tgz' })
    await t.rejects(install(config, ports), { reason: 'SourceUnavailable', message: /ENOENT/ })
  })
  await t.test('source outside the hook server\'s source policy', async t => {
    const { config, ports } = await setup(t, 'v0.0.1', { allowedSourcePrefixes: ['https://mirror.example/gtp5g/'] })
    await t.rejects(install(config, ports), { reason: 'SourceNotAllowed', message: /^refusing to fetch "file:.*" is not under an allowed prefix \(GTP5G_ALLOWED_SOURCE_PREFIXES: https:\/\/mirror\.example\/gtp5g\/\)/ })
  })
  await t.test('compile error keeps the compiler tail', async t => {
    const { root, config, ports } = await setup(t)
    config.sourceUrl = pathToFileURL(await packFixture(root, 'v0.0.1', { broken: true })).href
    await t.rejects(install(config, ports), { reason: 'BuildFailed', message: /error: expected declaration[\s\S]*Error 2/ })
  })
  await t.test('the built module reports another version', async t => {
    const { root, config, ports, kmod } = await setup(t, 'v0.0.3')
    config.sourceUrl = pathToFileURL(await packFixture(root, 'v0.0.4')).href
    await t.rejects(install(config, ports), { reason: 'VersionMismatch', message: /reports version 0\.0\.4, expected v0\.0\.3/ })
    t.equal(kmod.calls.at(-1), 'rmmod gtp5g', 'the wrong module is taken out again')
    t.same(await check(config, ports), { ready: false, detail: 'gtp5g not loaded' })
  })
  await t.test('insmod refuses the module', async t => {
    const { root, config, ports } = await setup(t)
    await install(config, ports)
    await setUnloaded(root, 'gtp5g')
    const cached = path.join(root, `var/lib/gtp5g/v0.0.1/${KERNEL}/gtp5g.ko`)
    const { writeFile } = await import('node:fs/promises')
    const { store } = await import('../../installer/cache.js')
    const { parseProvenance } = await import('../../installer/core/provenance.js')
    await writeFile(path.join(root, 'bad.ko'), 'not an ELF')
    // A well-formed entry with the right provenance whose module the kernel still refuses.
    const entry = ports.paths.cacheEntry('v0.0.1', KERNEL)
    const { format: _f, module: _m, ...source } = parseProvenance(await readFile(entry.provenance, 'utf8'))!
    await store(entry, path.join(root, 'bad.ko'), source)
    await t.rejects(install(config, ports), { reason: 'LoadFailed', message: /Invalid module format/ })
    t.not(await readFile(cached, 'utf8'), fakeKo('0.0.1'))
  })
})

t.test('unload and check follow the action', async t => {
  const { root, config, ports, kmod } = await setup(t)
  const unloadCfg = { ...config, action: 'unload' as const }
  t.equal(await unload(ports), 'not-loaded')
  t.same(await check(unloadCfg, ports), { ready: true, detail: 'gtp5g not loaded' })
  await setLoaded(root, 'gtp5g', { version: '0.0.1', refcnt: 1, holders: ['holder'] })
  await t.rejects(unload(ports), { reason: 'ModuleInUse', message: /refcnt 1 by holder/ })
  t.same(kmod.calls, [], 'never forced')
  t.match(await check(unloadCfg, ports), { ready: false })
  t.match(await check({ ...config, version: 'v0.0.2' }, ports), { ready: false, detail: 'gtp5g 0.0.1 loaded, want v0.0.2' })
  await setLoaded(root, 'gtp5g', { version: '0.0.1', refcnt: 0 })
  t.equal(await unload(ports), 'unloaded')
  t.same(await check(unloadCfg, ports), { ready: true, detail: 'gtp5g not loaded' })
  t.equal(await readFile(path.join(root, 'sys/module/udp_tunnel/initstate'), 'utf8').catch(() => 'absent'), 'absent', 'udp_tunnel was never touched')
})

t.test('two installers at once on one node (a rollout, a restart): one builds, the other waits and finds it done', async t => {
  const { root, config } = await setup(t)
  let building = 0
  let overlap = 0
  let builds = 0
  // Two pods: each has its own make (slow, tagged) and kmod; they share the node (the root).
  const pod = (tag: string) => {
    const make = fakeMake()
    const runner: Runner = async (cmd, args, opts) => {
      builds++
      if (++building > 1) overlap++
      opts?.onOutput?.(Buffer.from(`${tag} compiling\n`))
      await new Promise(resolve => setTimeout(resolve, 150))
      try {
        return await make(cmd, args, opts)
      } finally { building-- }
    }
    return testPorts(root, { runner })
  }
  const [a, b] = [pod('pod-a'), pod('pod-b')]
  const outcomes = (await Promise.all([install(config, a), install(config, b)])).sort()
  t.same(outcomes, ['already-loaded', 'built-and-loaded'], 'the second saw the first one\'s result')
  t.equal(builds, 1, 'one build')
  t.equal(overlap, 0, 'never two builds of one entry at once')
  const log = await readFile(path.join(root, `var/lib/gtp5g/v0.0.1/${KERNEL}/build.log`), 'utf8')
  t.equal((log.match(/pod-[ab] compiling/g) ?? []).length, 1, 'build.log holds one build, whole')
  const insmods = [...(a.kmod as FakeKmod).calls, ...(b.kmod as FakeKmod).calls].filter(c => c.startsWith('insmod'))
  t.equal(insmods.length, 1, 'loaded once')
})

t.test('temporary files of a writer killed mid-store are swept by the next install', async t => {
  const { root, config, ports } = await setup(t)
  const dir = path.join(root, `var/lib/gtp5g/v0.0.1/${KERNEL}`)
  await mkdir(dir, { recursive: true })
  await writeFile(path.join(dir, 'gtp5g.ko.tmp-4242-deadbeef'), 'half a module')
  await writeFile(path.join(dir, 'build.log.tmp-4242-deadbeef'), 'half a log')
  t.equal(await install(config, ports), 'built-and-loaded')
  t.same((await readdir(dir)).filter(n => n.includes('.tmp-')), [])
  t.match(ports.lines.find(l => l.obj.step === 'cache-sweep')?.obj, { removed: ['build.log.tmp-4242-deadbeef', 'gtp5g.ko.tmp-4242-deadbeef'] })
})

t.test('kernel releases that are not plain release strings never reach a path or make', async t => {
  const evil = [
    '6.1.0-$(shell touch /tmp/gtp5g-pwned)',
    '6.1.0-28-amd64;id',
    '6.1.0-`id`',
    '6.1.0 -28-amd64',
    '6.1.0-28/../../../etc',
    '6.1.0-28-amd64\n',
    `6.1.0-${'a'.repeat(64)}`
  ]
  for (const kernel of evil) {
    const viaConfig = await setup(t, 'v0.0.1', { kernel })
    await t.rejects(install(viaConfig.config, viaConfig.ports), { reason: 'UnsupportedKernel', message: /cannot parse kernel release/ }, `KERNEL_VERSION ${JSON.stringify(kernel)}`)
    t.equal(viaConfig.builds(), 0)
    const viaUname = await setup(t)
    viaUname.ports.runningKernel = () => kernel
    await t.rejects(install(viaUname.config, viaUname.ports), { name: 'InstallerError', reason: 'UnsupportedKernel' }, `running kernel ${JSON.stringify(kernel)}`)
    t.equal(viaUname.builds(), 0)
    t.notOk(viaUname.ports.lines.some(l => l.obj.step === 'headers' || l.obj.step === 'lock'), 'refused before any path is built from it')
  }
})
