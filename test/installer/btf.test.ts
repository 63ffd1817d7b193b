// spec.btf through the install flow on a temporary host root: the fake make attaches BTF when the
// headers tree it is given holds a vmlinux (as kbuild does) and the fake kernel publishes
// /sys/kernel/btf/gtp5g for a module that carries it. The real build and load: kbuild.test.ts
// (6.12 headers) and the qemu suite (both kernels).
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { type Config } from '../../installer/config.js'
import { check, install } from '../../installer/flow.js'
import { type FakeKmod, type HasTeardown, fakeElf, fakeHeaders, fakeKmod, fakeKo, setLoaded, setUnloaded, tempDir, testConfig, testPorts } from './helpers.js'
import { packFixture } from '../support/fixturesource.js'

const KERNEL = '6.1.0-28-amd64'

async function setup (t: HasTeardown, extra: Partial<Config> = {}, node: { btf?: boolean, btfModules?: boolean } = {}) {
  const root = await tempDir(t)
  const headersFor = extra.kernel ?? KERNEL
  await fakeHeaders(root, headersFor)
  await writeFile(path.join(root, 'lib/modules', headersFor, 'build/.config'), `CONFIG_DEBUG_INFO_BTF=y\nCONFIG_DEBUG_INFO_BTF_MODULES=${node.btfModules === false ? 'n' : 'y'}\n`)
  if (node.btf !== false) {
    await mkdir(path.join(root, 'sys/kernel/btf'), { recursive: true })
    await writeFile(path.join(root, 'sys/kernel/btf/vmlinux'), 'BTF of the running kernel')
  }
  const tarball = await packFixture(root, 'v0.0.1')
  const config = testConfig(root, pathToFileURL(tarball).href, { btf: true, ...extra })
  const ports = testPorts(root)
  return { root, config, ports, kmod: ports.kmod as FakeKmod, builds: () => (ports.runner as unknown as { builds: number }).builds }
}

const btfPublished = async (root: string): Promise<boolean> => readFile(path.join(root, 'sys/kernel/btf/gtp5g')).then(() => true, () => false)

t.test('built with BTF, loaded, /sys/kernel/btf/gtp5g published; ready only then', async t => {
  const { root, config, ports } = await setup(t)
  t.equal(await install(config, ports), 'built-and-loaded')
  t.ok(await btfPublished(root))
  t.same(await check(config, ports), { ready: true, detail: 'gtp5g 0.0.1 loaded' })
  const steps = ports.lines.map(l => l.obj.step).filter(s => s !== undefined)
  t.ok(steps.indexOf('btf-base') < steps.indexOf('download'), 'BTF prerequisites are checked before downloading')
  t.ok(steps.indexOf('btf-check') > steps.indexOf('build') && steps.indexOf('btf-check') < steps.indexOf('cache-store'), 'the .BTF section is checked before the entry is stored')
  t.match(JSON.parse(await readFile(ports.paths.cacheEntry('v0.0.1', KERNEL).provenance, 'utf8')), { btf: true })
})

t.test('without spec.btf nothing changes: no BTF base, no check, a plain build', async t => {
  const { root, config, ports } = await setup(t, { btf: false })
  t.equal(await install(config, ports), 'built-and-loaded')
  t.notOk(await btfPublished(root))
  t.notOk(ports.lines.some(l => l.obj.step === 'btf-base' || l.obj.step === 'btf-check'))
  t.same(await check({ ...config, btf: true }, ports), { ready: false, detail: 'gtp5g 0.0.1 loaded without BTF (spec.btf wants /sys/kernel/btf/gtp5g)' })
})

t.test('turning spec.btf on: an idle module without BTF is rebuilt with it and reloaded; a busy one is never forced', async t => {
  const { root, config, ports, kmod, builds } = await setup(t, { btf: false })
  await install(config, ports)
  await setLoaded(root, 'gtp5g', { version: '0.0.1', refcnt: 1, holders: ['upf'] })
  kmod.calls.length = 0
  await t.rejects(install({ ...config, btf: true }, ports), { reason: 'ModuleInUse', message: /refcnt 1 by upf\); reloading v0\.0\.1 with BTF \(spec\.btf\) waits until it is released/ })
  t.same(kmod.calls, [], 'nothing unloaded')

  await setLoaded(root, 'gtp5g', { version: '0.0.1', refcnt: 0 })
  t.equal(await install({ ...config, btf: true }, ports), 'built-and-loaded', 'the cached build without BTF does not answer')
  t.equal(builds(), 2)
  t.match(ports.lines.find(l => l.obj.step === 'cache-lookup' && l.obj.hit === false && l.obj.why === 'stale'), { obj: { detail: /no BTF, wanted BTF/ } })
  t.same(kmod.calls.filter(c => !c.startsWith('modprobe')), ['rmmod gtp5g', `insmod ${root}/var/lib/gtp5g/v0.0.1/${KERNEL}/gtp5g.ko`])
  t.ok(await btfPublished(root))
})

t.test('a node that cannot have BTF says why, before downloading, and keeps what it runs', async t => {
  await t.test('no /sys/kernel/btf/vmlinux', async t => {
    const { config, ports } = await setup(t, {}, { btf: false })
    await t.rejects(install(config, ports), { reason: 'BTFUnavailable', message: /exposes no \/sys\/kernel\/btf\/vmlinux/ })
    t.notOk(ports.lines.some(l => l.obj.step === 'download'))
  })
  await t.test('headers without CONFIG_DEBUG_INFO_BTF_MODULES', async t => {
    const { config, ports } = await setup(t, {}, { btfModules: false })
    await t.rejects(install(config, ports), { reason: 'BTFUnavailable', message: /CONFIG_DEBUG_INFO_BTF_MODULES=y/ })
  })
  await t.test('another kernel than the running one', async t => {
    const { config, ports } = await setup(t, { kernel: '6.1.0-99-amd64' })
    await t.rejects(install(config, ports), { reason: 'BTFUnavailable', message: /built for 6\.1\.0-99-amd64/ })
  })
  await t.test('an idle module of the right version stays loaded when BTF cannot be built', async t => {
    const { root, config, ports, kmod } = await setup(t, {}, { btf: false })
    await setLoaded(root, 'gtp5g', { version: '0.0.1', refcnt: 0 })
    await t.rejects(install(config, ports), { reason: 'BTFUnavailable', message: /exposes no/ })
    t.same(kmod.calls, [], 'the running module is not touched')
  })
})

t.test('a make that links no .BTF (pahole skipped) is BTFUnavailable and nothing is stored or loaded', async t => {
  const { config, ports, kmod } = await setup(t)
  const real = ports.runner
  // Like kbuild's "Skipping BTF generation": the module links, without BTF.
  ports.runner = async (cmd, args, opts) => {
    const result = await real(cmd, args, opts)
    const ko = path.join(args[args.indexOf('-C') + 1] as string, 'gtp5g.ko')
    await writeFile(ko, fakeElf(['.modinfo'], fakeKo('0.0.1')))
    return result
  }
  await t.rejects(install(config, ports), { reason: 'BTFUnavailable', message: /linked it without a \.BTF section/ })
  t.same(kmod.calls, [])
  await t.rejects(readFile(ports.paths.cacheEntry('v0.0.1', KERNEL).sidecar), { code: 'ENOENT' }, 'no cache entry committed')
})

t.test('without resolve_btfids in the node\'s kbuild, make runs `true` instead, and a module with BTF ids is refused', async t => {
  const { config, ports, kmod } = await setup(t)
  const real = ports.runner
  const argv: string[][] = []
  ports.runner = async (cmd, args, opts) => {
    argv.push([...args])
    const result = await real(cmd, args, opts)
    await writeFile(path.join(args[args.indexOf('-C') + 1] as string, 'gtp5g.ko'), fakeElf(['.modinfo', '.BTF', '.BTF_ids'], fakeKo('0.0.1')))
    return result
  }
  await t.rejects(install(config, ports), { reason: 'BTFUnavailable', message: /declares BTF ids \(\.BTF_ids\) that only resolve_btfids fills/ })
  t.ok(argv[0]?.includes('RESOLVE_BTFIDS=true'), 'make was told to skip the missing tool')
  t.same(kmod.calls, [])
})

t.test('the kernel refuses the module\'s BTF: BTFUnavailable, the working module stays loaded', async t => {
  const { root, config, ports } = await setup(t)
  const kmod = fakeKmod(root)
  // A kernel that loads the module but publishes no BTF for it (a BTF mismatch it tolerates).
  ports.kmod = { ...kmod, insmod: async ko => { await kmod.insmod(ko); await setUnloadedBtf(root) } }
  await t.rejects(install(config, ports), { reason: 'BTFUnavailable', message: /loaded, but the kernel published no BTF for it.*stays loaded without it/ })
  t.equal((await readFile(path.join(root, 'sys/module/gtp5g/version'), 'utf8')).trim(), '0.0.1', 'still loaded')
  t.match(await check(config, ports), { ready: false })
})

async function setUnloadedBtf (root: string): Promise<void> {
  await rm(path.join(root, 'sys/kernel/btf/gtp5g'), { force: true })
}

t.test('setUnloaded also drops the module\'s BTF', async t => {
  const { root, config, ports } = await setup(t)
  await install(config, ports)
  await setUnloaded(root, 'gtp5g')
  t.notOk(await btfPublished(root))
})
