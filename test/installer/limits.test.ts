// Every bound on what the network, the tarball and the build control (issue 9, item 3), through
// the install flow on a temporary host root: each one fails with its own reason and a message
// naming the limit, leaves the running version alone and leaves no temporary files.
import { readFileSync } from 'node:fs'
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { type Config } from '../../installer/config.js'
import { run, type Runner } from '../../installer/exec.js'
import { install } from '../../installer/flow.js'
import { type Limits } from '../../installer/limits.js'
import { acquireLock } from '../../installer/lock.js'
import { type FakeKmod, type HasTeardown, fakeHeaders, setLoaded, tempDir, testConfig, testPorts } from './helpers.js'
import { packFixture } from '../support/fixturesource.js'

const KERNEL = '6.1.0-28-amd64'

async function setup (t: HasTeardown, limits: Partial<Limits> = {}, extra: Partial<Config> = {}) {
  const root = await tempDir(t)
  await fakeHeaders(root, KERNEL)
  const tarball = await packFixture(root, 'v0.0.1')
  const config = testConfig(root, pathToFileURL(tarball).href, extra)
  config.limits = { ...config.limits, ...limits }
  // An idle older version is running: every failure below must leave it loaded.
  await setLoaded(root, 'gtp5g', { version: '0.0.0', refcnt: 0 })
  const ports = testPorts(root)
  const entry = ports.paths.cacheEntry('v0.0.1', KERNEL)
  return { root, config, ports, entry, kmod: ports.kmod as FakeKmod }
}

/** A stand-in for make: a shell script run through the real runner (process group and all). */
async function scriptMake (t: HasTeardown, body: string): Promise<{ runner: Runner, dir: string }> {
  const dir = await tempDir(t, 'gtp5g-make-')
  const script = path.join(dir, 'make')
  await writeFile(script, `#!/bin/sh\n${body}\n`)
  await chmod(script, 0o755)
  return { dir, runner: (_cmd, args, opts) => run(script, args, opts) }
}

function running (pid: number): boolean {
  try {
    // A zombie is dead too: it only waits for its parent to read its status.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

async function noTemporaries (t: { same: (found: unknown, wanted: unknown, message: string) => unknown }, dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [])
  t.same(names.filter(n => n.includes('.tmp-')), [], 'no temporary files in the cache entry')
}

t.test('a download over the cap is SourceTooLarge', async t => {
  const { config, ports, kmod } = await setup(t, { downloadBytes: 100 })
  await t.rejects(install(config, ports), { reason: 'SourceTooLarge', message: /more than 100 bytes received, more than the 100 bytes a source tarball may have/ })
  t.same(kmod.calls, [], 'the running version stays')
})

t.test('a tarball with more entries than the cap is SourceTooLarge', async t => {
  const { config, ports } = await setup(t, { extractEntries: 2 })
  await t.rejects(install(config, ports), { reason: 'SourceTooLarge', message: /more than 2 entries/ })
})

t.test('a tarball that unpacks to more than the cap is SourceTooLarge', async t => {
  const { config, ports } = await setup(t, { extractBytes: 2048 })
  await t.rejects(install(config, ports), { reason: 'SourceTooLarge', message: /unpacks to more than 2 KiB/ })
})

t.test('a hung make is BuildTimeout: its whole process group is killed, its log kept', async t => {
  const { runner, dir } = await scriptMake(t, `echo "CC [M] gtp5g.o"\nsleep 20 & echo $! > "${'$'}{0%/*}/child.pid"\nsleep 20`)
  const { config, ports, entry, kmod } = await setup(t, { buildTimeoutMs: 500 })
  ports.runner = runner
  const started = Date.now()
  await t.rejects(install(config, ports), { reason: 'BuildTimeout', message: /make did not finish within 500 ms and was killed with its compilers; last lines:\nCC \[M\] gtp5g\.o/ })
  t.ok(Date.now() - started < 8000, `gave up in ${Date.now() - started} ms, not 20 s`)
  const child = Number(await readFile(path.join(dir, 'child.pid'), 'utf8'))
  t.notOk(running(child), `the background compiler (pid ${child}) was killed with make`)
  t.match(await readFile(entry.buildLog, 'utf8'), /CC \[M\] gtp5g\.o/, 'build.log kept in the cache entry')
  t.same(kmod.calls, [])
  await noTemporaries(t, entry.dir)
})

t.test('build output over the cap is BuildLogTooLarge: make stopped, build.log capped', async t => {
  // 4 MB of warnings, then a clean exit without a module.
  const { runner } = await scriptMake(t, 'yes "gtp5g.c:1:1: warning: this line repeats" | head -c 4000000\nexit 0')
  const { config, ports, entry } = await setup(t, { buildLogBytes: 64 * 1024 })
  ports.runner = runner
  await t.rejects(install(config, ports), { reason: 'BuildLogTooLarge', message: /make wrote more than 64 KiB of output and was stopped/ })
  const size = (await stat(entry.buildLog)).size
  t.ok(size <= 64 * 1024 + 200, `build.log is ${size} bytes`)
  t.match(await readFile(entry.buildLog, 'utf8'), /build output exceeded 64 KiB; build stopped\n$/)
  await noTemporaries(t, entry.dir)
})

t.test('another installer holding the entry longer than the wait limit is CacheLocked', async t => {
  const { config, ports, entry, kmod } = await setup(t, { lockWaitMs: 200 })
  await mkdir(entry.dir, { recursive: true })
  const other = await acquireLock(entry.lock, { timeoutMs: 1000, owner: 'pod gtp5g-installer-old pid 7' })
  t.teardown(other.release)
  await t.rejects(install(config, ports), { reason: 'CacheLocked', message: /held .*\.lock for more than 200 ms \(holder: pod gtp5g-installer-old pid 7 since/ })
  t.notOk(ports.lines.some(l => l.obj.step === 'download'), 'nothing fetched or built meanwhile')
  t.same(kmod.calls, [])
})
