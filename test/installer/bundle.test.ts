// The installer as the image ships it: this tree bundled by installer/bundle.mjs (esbuild) into
// a temporary directory and run as a child process against a temporary host root, through the
// launcher (the image's entrypoint) and as the ES module. The launcher starts from the V8 start-up
// snapshot the installer built on the node, in the host cache (installer/snapshotcache.ts), and
// falls back to main.mjs in the same start when node refuses a blob. It must need no node_modules,
// split so that `check` and a restart load no more than before, and behave and log exactly as the
// unbundled installer does (main.test.ts runs that one), whether started from the snapshot or not.
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { chmod, copyFile, cp, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import t, { type Test } from 'tap'
import { ENV, ENV_READY_FILE, ENV_TERMINATION_LOG, HOST_PATHS, parseTerminationMessage } from '../../contract/index.js'
import { buildSnapshot, ENV_INSTALLER_DIR, SNAPSHOT_DIR } from '../../installer/snapshotcache.js'
import { bundleImports, fakeHeaders, setLoaded, tempDir } from './helpers.js'
import { packFixture } from '../support/fixturesource.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const KERNEL = '6.1.0-28-amd64'

/** Bundles this tree into `out`, as the image does: no blob. */
function bundle (out: string): void {
  execFileSync(process.execPath, [path.join(ROOT, 'installer/bundle.mjs'), out], { stdio: ['ignore', 'ignore', 'inherit'] })
}
const out = path.join(await tempDir(t, 'gtp5g-bundle-'), 'bundle')
bundle(out)
const MAIN = path.join(out, 'main.mjs')
const LAUNCHER = path.join(out, 'gtp5g-installer')
const KEY = readFileSync(path.join(out, 'snapshot.key'), 'utf8').trim()
/** Where the launcher looks for the blob of this bundle under a host root. */
const blobIn = (root: string): string => path.join(root, HOST_PATHS.cache, SNAPSHOT_DIR, `installer-${KEY}.blob`)

/** A blob of this bundle made by this node with `flags`, under the image's environment (no NODE_OPTIONS from tap). */
function makeBlob (file: string, flags: string[] = []): void {
  execFileSync(process.execPath, [...flags, '--no-warnings', '--snapshot-blob', file, '--build-snapshot', path.join(out, 'snapshot.cjs')],
    { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'ignore', 'inherit'] })
}
const SEED = path.join(path.dirname(out), 'seed.blob')
makeBlob(SEED)
/** Puts a valid blob where the launcher of this bundle finds it under `root`: the next start is from the snapshot. */
async function seed (root: string): Promise<void> {
  await mkdir(path.dirname(blobIn(root)), { recursive: true })
  await copyFile(SEED, blobIn(root))
}

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
  t.match(KEY, /^[0-9a-f]{16}$/, 'snapshot.key: the key of the blob that fits')
  t.notOk(readdirSync(out).some(f => f.endsWith('.blob')), 'no blob in the bundle: the node builds it')
  t.match(readFileSync(LAUNCHER, 'utf8'), `"\${GTP5G_HOST_ROOT-}${HOST_PATHS.cache}/${SNAPSHOT_DIR}/installer-$key.blob"`, 'the launcher looks in the host cache')
  // The launcher is generated: scripts/test.sh's shellcheck never sees it, so this does (shellcheck is the test command's own prerequisite).
  const sc = spawnSync('shellcheck', ['--shell=sh', LAUNCHER], { encoding: 'utf8' })
  t.equal(sc.status, 0, `shellcheck of the launcher: ${sc.error?.message ?? sc.stdout}`)
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

/** The ways the bundle starts: the ES module, the launcher without a blob (main.mjs), and the launcher from the snapshot. */
const ENTRIES: Array<{ name: string, script: string, snapshot: boolean }> = [
  { name: 'main.mjs', script: MAIN, snapshot: false },
  { name: 'the launcher, no blob yet', script: LAUNCHER, snapshot: false },
  { name: 'the launcher, from the snapshot', script: LAUNCHER, snapshot: true }
]

for (const { name, script, snapshot } of ENTRIES) {
  t.test(`${name}: check answers from /sys/module`, async t => {
    const root = await tempDir(t)
    if (snapshot) await seed(root)
    const env = { [ENV.version]: 'v0.0.1', [ENV.hostRoot]: root, [ENV_TERMINATION_LOG]: path.join(root, 'tl') }
    const notLoaded = await run(script, ['check'], env)
    t.equal(notLoaded.code, 1)
    t.equal(notLoaded.stderr, 'not ready: gtp5g not loaded\n')
    await setLoaded(root, 'gtp5g', { version: '0.0.1' })
    t.equal((await run(script, ['check'], env)).code, 0)
  })

  t.test(`${name}: invalid configuration: exit 1 and the one-line termination message`, async t => {
    const root = await tempDir(t)
    if (snapshot) await seed(root)
    const ran = await run(script, [], { [ENV.version]: 'latest', [ENV.hostRoot]: root, [ENV_TERMINATION_LOG]: path.join(root, 'tl') })
    t.equal(ran.code, 1)
    t.match(parseTerminationMessage(await readFile(path.join(root, 'tl'), 'utf8')), { reason: 'InvalidConfig', message: /GTP5G_VERSION/ })
    t.match(ran.stdout, /"reason":"InvalidConfig"/, 'logged by the logger made at run time')
    if (snapshot) t.ok(existsSync(blobIn(root)), 'the blob is still there: node took it')
  })
}

interface Started { lines: Array<Record<string, unknown>>, stderr: string, root: string }

/**
 * A restart (gtp5g loaded at the desired version) run by `script` until `stopAt` is logged (ready
 * by default), then SIGTERM: its log lines, times and this run's paths masked. `prepare` readies
 * the host root (a blob in its cache) first.
 */
async function restart (t: Test, script: string, o: { env?: Record<string, string>, root?: string, prepare?: (root: string) => Promise<void>, stopAt?: string } = {}): Promise<Started> {
  const root = o.root ?? await tempDir(t)
  await setLoaded(root, 'gtp5g', { version: '0.0.1', refcnt: 1 })
  await o.prepare?.(root)
  const ran = await run(script, ['install'], {
    [ENV.version]: 'v0.0.1',
    [ENV.hostRoot]: root,
    [ENV.kernelVersion]: KERNEL,
    [ENV_READY_FILE]: path.join(root, 'ready'),
    [ENV_TERMINATION_LOG]: path.join(root, 'tl'),
    ...o.env
  }, o.stopAt ?? '"step":"ready"')
  t.equal(ran.code, 0, `${path.basename(script)}: SIGTERM exits 0`, { stdout: ran.stdout, stderr: ran.stderr })
  t.equal(readFileSync(path.join(root, 'ready'), 'utf8'), 'gtp5g 0.0.1 loaded\n', `${path.basename(script)}: the readiness file`)
  // Times and this run's paths differ between runs; every key and every other value must not.
  const lines = ran.stdout.trim().split('\n').map(l => JSON.parse(l.replaceAll(root, '<root>')) as Record<string, unknown>).map(o =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, ['time', 'durationMs', 'startupMs', 'nodeBootstrapMs', 'bytes'].includes(k) ? typeof v : v])))
  return { lines, stderr: ran.stderr, root }
}

/** The lines without what tells the entries apart: the start line's entry and its reason, and the snapshot build's line. */
const common = (lines: Array<Record<string, unknown>>): Array<Record<string, unknown>> =>
  lines.filter(l => l.step !== 'snapshot').map(({ entry, entryReason, ...rest }) => rest)
const steps = (lines: Array<Record<string, unknown>>): unknown[] => lines.map(l => l.step ?? l.msg)
const RESTART = ['start', 'kernel', 'inspect', 'done', 'ready', 'stopping; the module stays loaded', 'stopped']

t.test('a restart logs the same JSON lines as the unbundled installer, from the snapshot or not, and writes the readiness file', async t => {
  const bundled = (await restart(t, MAIN)).lines
  t.same(bundled, (await restart(t, path.join(ROOT, 'installer/main.ts'))).lines, 'the ES module bundle')
  t.same(steps(bundled), RESTART)
  t.notOk('entry' in (bundled[0] ?? {}), 'main.mjs run directly names no entry')
  const plain = (await restart(t, LAUNCHER)).lines
  t.match(plain[0], { step: 'start', entry: 'plain', entryReason: 'no start-up snapshot built on this node yet' }, 'the launcher, no blob: main.mjs, and why')
  t.same(common(plain), bundled, 'the launcher, main.mjs')
  const snap = (await restart(t, LAUNCHER, { prepare: seed })).lines
  t.match(snap[0], { step: 'start', entry: 'snapshot' }, 'the launcher, a blob: the snapshot')
  t.notOk('entryReason' in (snap[0] ?? {}))
  t.same(common(snap), bundled, 'started from the snapshot')
  t.same(common((await restart(t, LAUNCHER, { prepare: seed, env: { [ENV.logLevel]: 'info' } })).lines), bundled, 'the log level read at run time')
})

t.test('on the node: the first start runs main.mjs and builds the blob after ready; the next starts from it', async t => {
  const root = await tempDir(t)
  const cache = path.dirname(blobIn(root))
  // An older image's blob and failure marker: removed once this key's blob is built.
  await mkdir(cache, { recursive: true })
  await writeFile(path.join(cache, 'installer-0123456789abcdef.blob'), 'old')
  await writeFile(path.join(cache, 'installer-0123456789abcdef.failed'), 'old')
  const first = await restart(t, LAUNCHER, { root, stopAt: '"step":"snapshot"' })
  t.match(first.lines[0], { entry: 'plain', entryReason: 'no start-up snapshot built on this node yet' })
  t.same(steps(first.lines), ['start', 'kernel', 'inspect', 'done', 'ready', 'snapshot', 'stopping; the module stays loaded', 'stopped'], 'built after ready, never before')
  t.match(first.lines[5], { level: 30, step: 'snapshot', file: `<root>${HOST_PATHS.cache}/${SNAPSHOT_DIR}/installer-${KEY}.blob`, bytes: 'number' })
  t.same(readdirSync(cache).sort(), ['.lock', `installer-${KEY}.blob`], 'the blob, renamed in place; the old key\'s files and every temporary file gone')
  const second = await restart(t, LAUNCHER, { root })
  t.match(second.lines[0], { entry: 'snapshot' }, 'the next start: from the snapshot')
  t.same(steps(second.lines), RESTART, 'nothing built again')
  t.same(common(second.lines), common(first.lines), 'the same lines')
  // Under NODE_OPTIONS (other V8 flags) the blob is neither used nor built.
  const other = await tempDir(t)
  const opts = await restart(t, LAUNCHER, { root: other, env: { NODE_OPTIONS: '--max-old-space-size=256' }, stopAt: '"step":"ready"' })
  t.match(opts.lines[0], { entry: 'plain', entryReason: 'NODE_OPTIONS is set' })
  t.same(common(opts.lines), common(first.lines))
})

for (const [what, damage, exit] of [
  ['a blob of other V8 flags (--stack-size)', async (file: string) => { makeBlob(file, ['--stack-size=2000']) }, 14],
  ['a damaged blob (garbage bytes)', async (file: string) => { await writeFile(file, Buffer.alloc(100_000, 0x5a)) }, 134]
] as const) {
  t.test(`${what}: node refuses it, the launcher deletes it and starts main.mjs in the same start; a good one is built after ready`, async t => {
    const root = await tempDir(t)
    const sha = async (f: string): Promise<string> => createHash('sha256').update(await readFile(f)).digest('hex')
    let placed = ''
    const bad = async (r: string): Promise<void> => {
      await mkdir(path.dirname(blobIn(r)), { recursive: true })
      await damage(blobIn(r))
      placed = await sha(blobIn(r))
    }
    const fell = await restart(t, LAUNCHER, { root, prepare: bad, stopAt: '"step":"snapshot"' })
    t.match(fell.stderr, `gtp5g-installer: node exited ${exit} starting from the start-up snapshot`, 'the launcher says so on stderr')
    t.match(fell.lines[0], { step: 'start', entry: 'plain', entryReason: `node exited ${exit} starting from the start-up snapshot; deleted it` })
    t.equal(fell.lines.filter(l => l.step === 'start').length, 1, 'one start logged: node refused the blob before any of the installer ran')
    t.same(steps(fell.lines), ['start', 'kernel', 'inspect', 'done', 'ready', 'snapshot', 'stopping; the module stays loaded', 'stopped'])
    t.not(await sha(blobIn(root)), placed, 'the bad blob is gone, a good one built in its place')
    const next = await restart(t, LAUNCHER, { root })
    t.match(next.lines[0], { entry: 'snapshot' }, 'the next start: from the new blob')
    t.same(common(next.lines), common(fell.lines))
  })
}

t.test('the launcher: install and unload start from the snapshot, which never runs main.mjs; check, NODE_OPTIONS or no blob run main.mjs', async t => {
  // A copy of the bundle whose main.mjs only says that it ran: what the launcher starts shows.
  const alt = path.join(await tempDir(t, 'gtp5g-bundle-'), 'bundle')
  await cp(out, alt, { recursive: true })
  await writeFile(path.join(alt, 'gtp5g-installer'), readFileSync(LAUNCHER, 'utf8').replace(`dir='${out}'`, `dir='${alt}'`))
  await writeFile(path.join(alt, 'main.mjs'), 'process.stdout.write("main.mjs ran\\n")\n')
  const launcher = path.join(alt, 'gtp5g-installer')
  const started = await restart(t, launcher, { prepare: seed })
  t.same(steps(started.lines), RESTART, 'install: the snapshot')
  const root = await tempDir(t)
  await seed(root)
  const env = { [ENV.version]: 'v0.0.1', [ENV.hostRoot]: root, [ENV_TERMINATION_LOG]: path.join(root, 'tl') }
  t.equal((await run(launcher, ['check'], env)).stdout, 'main.mjs ran\n', 'check: main.mjs')
  // Node.js refuses a snapshot built under other V8 flags, which NODE_OPTIONS may set.
  t.equal((await run(launcher, ['install'], { ...env, NODE_OPTIONS: '--max-old-space-size=256' })).stdout, 'main.mjs ran\n', 'NODE_OPTIONS: main.mjs')
  const unload = await run(launcher, ['unload'], { ...env, [ENV_READY_FILE]: path.join(root, 'ready') }, '"step":"ready"')
  t.match(unload.stdout, /"entry":"snapshot"/, 'unload: the snapshot')
  const other = await tempDir(t)
  t.equal((await run(launcher, ['install'], { ...env, [ENV.hostRoot]: other })).stdout, 'main.mjs ran\n', 'no blob: main.mjs')
})

t.test('two installers of a node build one blob; a key that failed is not tried again', async t => {
  const root = await tempDir(t)
  const cacheRoot = path.join(root, HOST_PATHS.cache)
  const env = { [ENV_INSTALLER_DIR]: out }
  const both = await Promise.all([0, 1].map(async () => await buildSnapshot({ env, cacheRoot, signal: new AbortController().signal })))
  t.same(both.map(b => b.outcome).sort(), ['built', 'busy'], 'one builds, the other finds it busy')
  t.same(await buildSnapshot({ env, cacheRoot, signal: new AbortController().signal }), { outcome: 'present', why: blobIn(root) })
  // A snapshot script that throws: no blob, a marker, and no second try.
  const broken = path.join(await tempDir(t, 'gtp5g-bundle-'), 'bundle')
  await cp(out, broken, { recursive: true })
  await writeFile(path.join(broken, 'snapshot.cjs'), 'throw new Error("stand-in failure")\n')
  await writeFile(path.join(broken, 'snapshot.key'), 'fedcba9876543210\n')
  const failed = await buildSnapshot({ env: { [ENV_INSTALLER_DIR]: broken }, cacheRoot, signal: new AbortController().signal })
  t.match(failed, { outcome: 'failed', why: /node --build-snapshot exited 1: .*stand-in failure/ })
  t.match(await buildSnapshot({ env: { [ENV_INSTALLER_DIR]: broken }, cacheRoot, signal: new AbortController().signal }), { outcome: 'skipped', why: /failed on this node before/ })
  t.notOk(existsSync(path.join(cacheRoot, SNAPSHOT_DIR, 'installer-fedcba9876543210.blob')))
  t.ok(existsSync(blobIn(root)), 'the good key\'s blob stays')
  t.same(await buildSnapshot({ env: { ...env, NODE_OPTIONS: '--max-old-space-size=256' }, cacheRoot, signal: new AbortController().signal }), { outcome: 'skipped', why: 'NODE_OPTIONS is set' })
  t.same(await buildSnapshot({ env: {}, cacheRoot, signal: new AbortController().signal }), { outcome: 'skipped', why: 'not started by the launcher' })
})

t.test('the image writes snapshot.key with the same formula as bundle.mjs', async t => {
  // installer/Dockerfile's line, run with this node and this bundle in place of the image's paths.
  const line = /RUN (\{ sha256sum <\/usr\/local\/bin\/node[^]*?) >\/opt\/gtp5g-installer\/snapshot\.key/.exec(readFileSync(path.join(ROOT, 'installer/Dockerfile'), 'utf8'))?.[1]
  t.ok(line, 'the Dockerfile writes snapshot.key')
  const sh = (line ?? 'false').replaceAll('\\\n', '\n').replaceAll('/usr/local/bin/node', process.execPath).replaceAll('/opt/gtp5g-installer', out)
  t.equal(execFileSync('sh', ['-c', sh], { encoding: 'utf8', env: { PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` } }).trim(), KEY)
})

for (const { name, script, snapshot } of ENTRIES) {
  t.test(`${name}: a build runs through the lazily loaded code (headers, download, extract, build) to BuildFailed`, async t => {
    const root = await tempDir(t)
    if (snapshot) await seed(root)
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
    if (snapshot) t.match(ran.stdout, /"entry":"snapshot"/, 'started from the snapshot')
    t.match(parseTerminationMessage(await readFile(path.join(root, 'tl'), 'utf8')), { reason: 'BuildFailed', message: /error: stand-in compiler/ })
    for (const step of ['headers', 'download', 'extract', 'build']) t.match(ran.stdout, new RegExp(`"step":"${step}"`), `logged step ${step}`)
    // The source really was unpacked and handed to make: the lock is free again afterwards.
    const free = await new Promise(resolve => execFile('flock', ['--exclusive', '--nonblock', path.join(root, 'var/lib/gtp5g/v0.0.1', KERNEL, '.lock'), 'true'], err => resolve(err === null)))
    t.equal(free, true, 'the entry lock is released')
  })
}
