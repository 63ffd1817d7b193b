// The installer as the image ships it: this tree bundled by installer/bundle.mjs (esbuild) into
// a temporary directory, its start-up snapshot built by this node binary as the image builds its
// own, and run as a child process against a temporary host root, through the launcher (the
// image's entrypoint) and as the ES module. It must need no node_modules, split so that `check`
// and a restart load no more than before, and behave and log exactly as the unbundled installer
// does (main.test.ts runs that one), whether started from the snapshot or not.
import { execFile, execFileSync, spawn } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import t, { type Test } from 'tap'
import { ENV, ENV_READY_FILE, ENV_TERMINATION_LOG, parseTerminationMessage } from '../../contract/index.js'
import { bundleImports, fakeHeaders, setLoaded, tempDir } from './helpers.js'
import { packFixture } from '../support/fixturesource.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const KERNEL = '6.1.0-28-amd64'

/** Bundles this tree into `out` and builds its snapshot with this node, as the image does. */
function bundle (out: string): void {
  execFileSync(process.execPath, [path.join(ROOT, 'installer/bundle.mjs'), out], { stdio: ['ignore', 'ignore', 'inherit'] })
  // Under the image's environment: no NODE_OPTIONS or coverage settings from tap.
  execFileSync(process.execPath, ['--no-warnings', '--snapshot-blob', path.join(out, 'installer.blob'), '--build-snapshot', path.join(out, 'snapshot.cjs')],
    { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'ignore', 'inherit'] })
}
const out = path.join(await tempDir(t, 'gtp5g-bundle-'), 'bundle')
bundle(out)
const MAIN = path.join(out, 'main.mjs')
const LAUNCHER = path.join(out, 'gtp5g-installer')

interface Ran { code: number | null, stdout: string, stderr: string }

/** Runs `script` (the bundle, or main.ts through tap's TypeScript loader); stops it with SIGTERM once `stopAt` is logged. */
function run (script: string, args: string[], env: Record<string, string>, stopAt?: string): Promise<Ran> {
  const execArgv = script.endsWith('.ts') ? process.execArgv : []
  // Only the test's environment, as in the image: tap's process-info hook adds NODE_OPTIONS to
  // every child's, even to an environment given whole, and env(1) takes it out again, setting the
  // test's own if it has one (with any, the launcher does not start from the snapshot). The launcher is a shell script that runs
  // `node` from PATH: this one, first on it.
  const argv = [...(script.endsWith('/gtp5g-installer') ? [script] : [process.execPath, ...execArgv, script]), ...args]
  const own = env.NODE_OPTIONS === undefined ? [] : [`NODE_OPTIONS=${env.NODE_OPTIONS}`]
  const child = spawn('/usr/bin/env', ['-u', 'NODE_OPTIONS', ...own, ...argv], { env: { PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString()
    if (stopAt !== undefined && stdout.includes(stopAt)) child.kill('SIGTERM')
  })
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  return new Promise(resolve => child.on('close', code => resolve({ code, stdout, stderr })))
}

/** The code of `file` and of every chunk it imports statically, transitively: what loads before it runs. */
function staticClosure (file: string): string {
  const seen = new Set<string>()
  const visit = (f: string): void => {
    if (seen.has(f)) return
    seen.add(f)
    for (const m of readFileSync(f, 'utf8').matchAll(/^import\s[^;]*?from\s*["'](\.[^"']+)["']/gm)) visit(path.resolve(path.dirname(f), m[1] as string))
  }
  visit(file)
  return [...seen].map(f => readFileSync(f, 'utf8')).join('\n')
}

t.test('the layout: the launcher, an executable entry script, chunks, the snapshot\'s script, a package.json with the release, the bundled packages\' licenses', async t => {
  t.match(readFileSync(MAIN, 'utf8'), /^#!\/usr\/bin\/env node\n/)
  t.match(readFileSync(LAUNCHER, 'utf8'), new RegExp(`^#!/bin/sh\n[^]*\ndir='${out}'\n`), 'the launcher names its directory')
  t.ok(statSync(LAUNCHER).mode & 0o111, 'the launcher is executable')
  t.match(readFileSync(path.join(out, 'snapshot.cjs'), 'utf8'), /setDeserializeMainFunction/, 'snapshot.cjs: the snapshot\'s entry, one CommonJS script')
  t.notMatch(readFileSync(path.join(out, 'snapshot.cjs'), 'utf8'), /^import\s|import\.meta/m, 'snapshot.cjs: no ES module syntax')
  const pkg = JSON.parse(readFileSync(path.join(out, 'package.json'), 'utf8')) as Record<string, unknown>
  const own = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }
  t.same(pkg, { name: 'gtp5g-operator', version: own.version, private: true, license: 'Apache-2.0' })
  const licenses = readFileSync(path.join(out, 'THIRD-PARTY-LICENSES'), 'utf8')
  for (const p of ['pino', 'tar', 'sonic-boom', 'thread-stream']) t.match(licenses, new RegExp(`^${p}@\\d+\\.\\d+\\.\\d+ \\(`, 'm'), p)
  t.notMatch(licenses, /^(fastify|typescript|esbuild)@/m, 'only what the installer imports')
})

t.test('no node_modules needed: every import is a Node.js built-in or a chunk of the bundle', async t => {
  const { specifiers, outside } = bundleImports(out)
  t.ok(specifiers.length > 20, `${specifiers.length} imports`)
  t.same(outside, [])
})

t.test('split where the installer loads lazily: check loads no logger, a restart no build pipeline', async t => {
  const check = staticClosure(MAIN)
  for (const pkg of ['pino', 'sonic-boom', 'tar', 'minipass']) t.notMatch(check, new RegExp(`node_modules/${pkg}/`), `check loads no ${pkg}`)
  const service = readFileSync(MAIN, 'utf8').match(/import\(\s*["'](\.\/chunks\/service-[^"']+)["']\s*\)/)?.[1]
  t.ok(service, 'main.mjs imports the service chunk on demand')
  const restart = staticClosure(path.join(out, service ?? 'missing'))
  t.match(restart, /node_modules\/pino\//, 'the long-running process has the logger')
  for (const pkg of ['tar', 'minipass']) t.notMatch(restart, new RegExp(`node_modules/${pkg}/`), `a restart loads no ${pkg}`)
  for (const lazy of ['download', 'extract', 'build', 'headers', 'elf']) t.match(restart, new RegExp(`import\\(\\s*["']\\./${lazy}-`), `${lazy} stays a dynamic import`)
})

for (const script of [MAIN, LAUNCHER]) {
  const name = path.basename(script)
  t.test(`${name}: check answers from /sys/module`, async t => {
    const root = await tempDir(t)
    const env = { [ENV.version]: 'v0.0.1', [ENV.hostRoot]: root, [ENV_TERMINATION_LOG]: path.join(root, 'tl') }
    const notLoaded = await run(script, ['check'], env)
    t.equal(notLoaded.code, 1)
    t.equal(notLoaded.stderr, 'not ready: gtp5g not loaded\n')
    await setLoaded(root, 'gtp5g', { version: '0.0.1' })
    t.equal((await run(script, ['check'], env)).code, 0)
  })

  t.test(`${name}: invalid configuration: exit 1 and the one-line termination message`, async t => {
    const root = await tempDir(t)
    const ran = await run(script, [], { [ENV.version]: 'latest', [ENV.hostRoot]: root, [ENV_TERMINATION_LOG]: path.join(root, 'tl') })
    t.equal(ran.code, 1)
    t.match(parseTerminationMessage(await readFile(path.join(root, 'tl'), 'utf8')), { reason: 'InvalidConfig', message: /GTP5G_VERSION/ })
    t.match(ran.stdout, /"reason":"InvalidConfig"/, 'logged by the logger made at run time')
  })
}

/** A restart (gtp5g loaded at the desired version) run by `script` until ready, then SIGTERM: its log lines, times and paths masked. */
async function restartLines (t: Test, script: string, env: Record<string, string> = {}): Promise<Array<Record<string, unknown>>> {
  const root = await tempDir(t)
  await setLoaded(root, 'gtp5g', { version: '0.0.1', refcnt: 1 })
  const ran = await run(script, ['install'], {
    [ENV.version]: 'v0.0.1',
    [ENV.hostRoot]: root,
    [ENV.kernelVersion]: KERNEL,
    [ENV_READY_FILE]: path.join(root, 'ready'),
    [ENV_TERMINATION_LOG]: path.join(root, 'tl'),
    ...env
  }, '"step":"ready"')
  t.equal(ran.code, 0, `${path.basename(script)}: SIGTERM exits 0`, { stdout: ran.stdout, stderr: ran.stderr })
  t.equal(readFileSync(path.join(root, 'ready'), 'utf8'), 'gtp5g 0.0.1 loaded\n', `${path.basename(script)}: the readiness file`)
  // Times and this run's paths differ between runs; every key and every other value must not.
  return ran.stdout.trim().split('\n').map(l => JSON.parse(l.replaceAll(root, '<root>')) as Record<string, unknown>).map(o =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, ['time', 'durationMs', 'startupMs', 'nodeBootstrapMs'].includes(k) ? typeof v : v])))
}

t.test('a restart logs the same JSON lines as the unbundled installer, from the snapshot or not, and writes the readiness file', async t => {
  const bundled = await restartLines(t, MAIN)
  t.same(bundled, await restartLines(t, path.join(ROOT, 'installer/main.ts')), 'the ES module bundle')
  t.same(await restartLines(t, LAUNCHER), bundled, 'started from the snapshot')
  t.same(await restartLines(t, LAUNCHER, { [ENV.logLevel]: 'info' }), bundled, 'the log level read at run time')
  t.same(bundled.map(l => l.step ?? l.msg), ['start', 'kernel', 'inspect', 'done', 'ready', 'stopping; the module stays loaded', 'stopped'])
})

t.test('the launcher: install and unload start from the snapshot, which never runs main.mjs; check, NODE_OPTIONS or no blob run main.mjs', async t => {
  // A second bundle whose main.mjs only says that it ran: what the launcher starts shows.
  const alt = path.join(await tempDir(t, 'gtp5g-bundle-'), 'bundle')
  bundle(alt)
  await writeFile(path.join(alt, 'main.mjs'), 'process.stdout.write("main.mjs ran\\n")\n')
  const launcher = path.join(alt, 'gtp5g-installer')
  const lines = await restartLines(t, launcher)
  t.same(lines.map(l => l.step ?? l.msg), ['start', 'kernel', 'inspect', 'done', 'ready', 'stopping; the module stays loaded', 'stopped'], 'install: the snapshot')
  const root = await tempDir(t)
  const env = { [ENV.version]: 'v0.0.1', [ENV.hostRoot]: root }
  t.equal((await run(launcher, ['check'], env)).stdout, 'main.mjs ran\n', 'check: main.mjs')
  // Node.js refuses a snapshot built under other V8 flags, which NODE_OPTIONS may set.
  t.equal((await run(launcher, ['install'], { ...env, NODE_OPTIONS: '--max-old-space-size=256' })).stdout, 'main.mjs ran\n', 'NODE_OPTIONS: main.mjs')
  await rm(path.join(alt, 'installer.blob'))
  t.equal((await run(launcher, ['install'], env)).stdout, 'main.mjs ran\n', 'no blob: main.mjs')
})

for (const script of [MAIN, LAUNCHER]) {
  t.test(`${path.basename(script)}: a build runs through the lazily loaded code (headers, download, extract, build) to BuildFailed`, async t => {
    const root = await tempDir(t)
    await fakeHeaders(root, KERNEL)
    const tarball = await packFixture(root, 'v0.0.1')
    const bin = path.join(root, 'bin')
    await mkdir(bin)
    // The compiler is a stand-in; everything else is the bundled installer's own code.
    await writeFile(path.join(bin, 'make'), '#!/bin/sh\necho "gtp5g.c:1:1: error: stand-in compiler"\nexit 2\n')
    await chmod(path.join(bin, 'make'), 0o755)
    await mkdir(path.join(root, 'tmp'))
    const ran = await run(script, ['install'], {
      PATH: `${bin}:${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      TMPDIR: path.join(root, 'tmp'),
      [ENV.version]: 'v0.0.1',
      [ENV.hostRoot]: root,
      [ENV.kernelVersion]: KERNEL,
      [ENV.sourceUrl]: pathToFileURL(tarball).href,
      [ENV_READY_FILE]: path.join(root, 'ready'),
      [ENV_TERMINATION_LOG]: path.join(root, 'tl')
    })
    t.equal(ran.code, 1)
    t.match(parseTerminationMessage(await readFile(path.join(root, 'tl'), 'utf8')), { reason: 'BuildFailed', message: /error: stand-in compiler/ })
    for (const step of ['headers', 'download', 'extract', 'build']) t.match(ran.stdout, new RegExp(`"step":"${step}"`), `logged step ${step}`)
    // The source really was unpacked and handed to make: the lock is free again afterwards.
    const free = await new Promise(resolve => execFile('flock', ['--exclusive', '--nonblock', path.join(root, 'var/lib/gtp5g/v0.0.1', KERNEL, '.lock'), 'true'], err => resolve(err === null)))
    t.equal(free, true, 'the entry lock is released')
  })
}
