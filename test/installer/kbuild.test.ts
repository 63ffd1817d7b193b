// A real kbuild through the installer: the fixture module (a stand-in for gtp5g, see
// fixtures/gtp5g-fixture/README.md) is served from a loopback HTTP server, verified, extracted
// and compiled against Debian's linux-headers-amd64. Only loading is faked: the host's running
// kernel is not the Debian one (the qemu suite does the real load).
import { spawn } from 'node:child_process'
import { mkdir, readFile, rm, symlink, realpath } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { ENV, ENV_TERMINATION_LOG, parseTerminationMessage } from '../../contract/index.js'
import { type Config } from '../../installer/config.js'
import { elfSectionNames } from '../../installer/elf.js'
import { run } from '../../installer/exec.js'
import { install } from '../../installer/flow.js'
import { DEFAULT_LIMITS } from '../../installer/limits.js'
import { setUnloaded, tempDir, testPorts } from './helpers.js'
import { lacksNetifLltx, packFixture } from '../support/fixturesource.js'
import { loopback } from '../support/loopbackhttp.js'
import { debianKernelsWithHeaders } from '../support/realenv.js'
import { needs, prerequisiteMet } from '../support/prerequisite.js'
import { vmlinuxSource, writeKernelBtf } from './vmlinux.js'

const KERNELS = debianKernelsWithHeaders()
const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../installer/main.ts')

if (KERNELS.length === 0) {
  prerequisiteMet('no Debian -amd64 kernel headers under /lib/modules (apt-get install linux-headers-amd64)')
}
for (const kver of KERNELS) {
  t.test(`real kbuild through the installer, kernel ${kver}`, async t => {
    const root = await tempDir(t, 'gtp5g-kbuild-')
    // The node's /lib/modules/<kernel>/build, as the pod sees it through its hostPath.
    await mkdir(path.join(root, 'lib/modules', kver), { recursive: true })
    await symlink(await realpath(`/lib/modules/${kver}/build`), path.join(root, 'lib/modules', kver, 'build'))
    const good = await readFile(await packFixture(root, 'v0.0.1'))
    const broken = await readFile(await packFixture(root, 'v0.0.1', { broken: true }))
    const lltx = await readFile(await packFixture(root, 'v0.0.3', { overlay: 'gtp5g-lltx' }))
    const server = await loopback({ '/good.tar.gz': { redirect: '/files/good.tar.gz' }, '/files/good.tar.gz': good, '/broken.tar.gz': broken, '/lltx.tar.gz': lltx })
    t.teardown(server.close)
    const sha = createHash('sha256').update(good).digest('hex')
    const config = (over: Partial<Config>): Config => ({
      command: 'install',
      action: 'install',
      version: 'v0.0.1',
      kernel: kver,
      sourceUrl: `${server.base}/good.tar.gz`,
      sourceSha256: sha,
      allowedSourcePrefixes: [],
      btf: false,
      hostRoot: root,
      watchIntervalMs: 1000,
      logLevel: 'info',
      terminationLog: path.join(root, 'termination-log'),
      readyFile: path.join(root, 'ready'),
      limits: { ...DEFAULT_LIMITS },
      ...over
    })

    await t.test('builds gtp5g.ko for the Debian kernel and caches it', async t => {
      const ports = testPorts(root, { runner: run })
      t.equal(await install(config({}), ports), 'built-and-loaded')
      const ko = ports.paths.cacheEntry('v0.0.1', kver).ko
      const info = await run('modinfo', ['-F', 'version', ko])
      t.equal(info.output.trim(), '0.0.1', 'MODULE_VERSION of the built module')
      const vermagic = await run('modinfo', ['-F', 'vermagic', ko])
      t.ok(vermagic.output.startsWith(`${kver} `), 'built for the requested kernel')
      t.match(ports.lines.find(l => l.obj.step === 'download')?.obj, { verified: true, sha256: sha })
      t.match(await readFile(ports.paths.cacheEntry('v0.0.1', kver).buildLog, 'utf8'), /LD \[M\]/)
    })

    await t.test('a compile error is BuildFailed with the compiler tail', async t => {
      const ports = testPorts(root, { runner: run })
      await t.rejects(install(config({ version: 'v0.0.9', sourceUrl: `${server.base}/broken.tar.gz`, sourceSha256: undefined }), ports),
        { reason: 'BuildFailed', message: /#error "BROKEN fixture[\s\S]*Error \d/ })
    })

    // NETIF_F_LLTX is gone from 6.12 (fixtures/gtp5g-lltx): the same source builds on 6.1 only.
    const removedLltx = lacksNetifLltx(kver)
    await t.test(removedLltx ? 'a source using NETIF_F_LLTX, which this kernel removed, is BuildFailed with the compiler\'s line' : 'a source using NETIF_F_LLTX builds on this kernel', async t => {
      const ports = testPorts(root, { runner: run })
      const attempt = install(config({ version: 'v0.0.3', sourceUrl: `${server.base}/lltx.tar.gz`, sourceSha256: undefined }), ports)
      if (removedLltx) {
        await t.rejects(attempt, { reason: 'BuildFailed', message: /^make exit 2: \S*link\.h:\d+:\d+: error: 'NETIF_F_LLTX' undeclared/ })
      } else {
        t.equal(await attempt, 'built-and-loaded')
      }
    })

    await t.test('a wrong sha256 is ChecksumMismatch and nothing is built', async t => {
      const ports = testPorts(root, { runner: run })
      await t.rejects(install(config({ version: 'v0.0.8', sourceSha256: '0'.repeat(64) }), ports),
        { reason: 'ChecksumMismatch', message: new RegExp(`sha256 is ${sha}`) })
      t.notOk(ports.lines.some(l => l.obj.step === 'build'))
    })

    await t.test('missing headers is KernelHeadersMissing, before any download', async t => {
      const ports = testPorts(root, { runner: run })
      await t.rejects(install(config({ version: 'v0.0.7', kernel: '6.1.0-999-amd64' }), ports),
        { reason: 'KernelHeadersMissing', message: /6\.1\.0-999-amd64/ })
      t.notOk(server.hits.includes('/good.tar.gz') && ports.lines.some(l => l.obj.step === 'download'))
    })

    await t.test('spec.btf without the kernel\'s BTF is BTFUnavailable, before any download', async t => {
      const ports = testPorts(root, { runner: run, runningKernel: () => kver })
      await t.rejects(install(config({ version: 'v0.0.6', btf: true }), ports),
        { reason: 'BTFUnavailable', message: /exposes no \/sys\/kernel\/btf\/vmlinux/ })
      t.notOk(ports.lines.some(l => l.obj.step === 'download'))
    })

    // The node's BTF would be /sys/kernel/btf/vmlinux of a running kernel ${kver}; this host runs
    // another kernel, so the fixture is that kernel's own BTF, taken from the vmlinux its headers
    // ship (6.12) or from its /boot image (6.1's headers have none).
    const source = vmlinuxSource(kver)
    await t.test('spec.btf: built with the kernel\'s BTF as its base, a .BTF section in gtp5g.ko', needs(source === undefined ? `the vmlinux of ${kver}, in its headers or /boot/vmlinuz-${kver} (apt-get install linux-image-${kver})` : undefined), async t => {
      const btf = path.join(root, 'sys/kernel/btf/vmlinux')
      await mkdir(path.dirname(btf), { recursive: true })
      await writeKernelBtf(kver, btf, root)
      t.teardown(() => rm(btf))
      // Debian's 6.12 kbuild attached BTF to the first build too (its headers ship a vmlinux), so
      // the loaded module would already do: unload it to go through the cache.
      await setUnloaded(root, 'gtp5g')
      const ports = testPorts(root, { runner: run, runningKernel: () => kver })
      t.equal(await install(config({ btf: true }), ports), 'built-and-loaded', 'the entry built without spec.btf is stale: rebuilt')
      t.match(ports.lines.find(l => l.obj.step === 'cache-lookup')?.obj, { hit: false, why: 'stale', detail: /no BTF, wanted BTF/ })
      const entry = ports.paths.cacheEntry('v0.0.1', kver)
      t.ok((await elfSectionNames(entry.ko)).includes('.BTF'), 'gtp5g.ko carries .BTF')
      t.match(JSON.parse(await readFile(entry.provenance, 'utf8')), { btf: true })
      t.match(await readFile(entry.buildLog, 'utf8'), /BTF \[M\]/, 'kbuild ran pahole')
    })

    await t.test('the installer process reports BuildFailed in its termination message', async t => {
      const termination = path.join(root, 'termination-log')
      const env = {
        ...process.env,
        [ENV.version]: 'v0.0.9',
        [ENV.kernelVersion]: kver,
        [ENV.sourceUrl]: `${server.base}/broken.tar.gz`,
        [ENV.hostRoot]: root,
        [ENV_TERMINATION_LOG]: termination
      }
      const child = spawn(process.execPath, [...process.execArgv, MAIN, 'install'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
      const code = await new Promise(resolve => child.on('close', resolve))
      t.equal(code, 1)
      const text = await readFile(termination, 'utf8')
      t.equal(text.trimEnd().split('\n').length, 1, 'exactly one line')
      t.match(parseTerminationMessage(text), { reason: 'BuildFailed', message: /BROKEN fixture/ })
      const steps = stdout.trim().split('\n').map(l => JSON.parse(l) as { step?: string, durationMs?: number })
      t.ok(steps.some(s => s.step === 'build' && typeof s.durationMs === 'number'), 'JSON step log with duration')
    })
  })
}
