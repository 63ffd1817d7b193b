// The process shell: exit codes, the one-line termination message, the readiness probe and
// SIGTERM. Runs installer/main.ts as a child process against a temporary host root.
import { execFile, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import t, { type Test } from 'tap'
import { ENV, ENV_READY_FILE, ENV_TERMINATION_LOG, parseTerminationMessage } from '../../contract/index.js'
import { watch } from '../../installer/watch.js'
import { fakeHeaders, setLoaded, setUnloaded, tempDir } from './helpers.js'
import { packFixture } from '../support/fixturesource.js'

const KERNEL = '6.1.0-28-amd64'
const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../installer/main.ts')

interface Ran { code: number | null, stdout: string, stderr: string }

function installer (args: string[], env: Record<string, string>, onStdout?: (text: string, kill: (s: NodeJS.Signals) => void) => void): Promise<Ran> & { kill: (s: NodeJS.Signals) => boolean } {
  // The readiness file beside the host root, never the container's path on this machine.
  const root = env[ENV.hostRoot]
  const ready = root === undefined ? {} : { [ENV_READY_FILE]: path.join(root, 'ready') }
  const child = spawn(process.execPath, [...process.execArgv, MAIN, ...args], { env: { ...process.env, ...ready, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); onStdout?.(stdout, s => child.kill(s)) })
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  const done = new Promise<Ran>(resolve => child.on('close', code => resolve({ code, stdout, stderr })))
  return Object.assign(done, { kill: (s: NodeJS.Signals) => child.kill(s) })
}

function isRunning (pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

t.test('invalid configuration: exit 1 and one JSON line in the termination log', async t => {
  const root = await tempDir(t)
  const termination = path.join(root, 'termination-log')
  const ran = await installer([], { [ENV.version]: 'latest', [ENV_TERMINATION_LOG]: termination, [ENV.hostRoot]: root })
  t.equal(ran.code, 1)
  const text = await readFile(termination, 'utf8')
  t.match(text, /^\{.*\}\n$/, 'exactly one line')
  t.match(parseTerminationMessage(text), { reason: 'InvalidConfig', message: /GTP5G_VERSION must be a gtp5g release tag/ })
  t.match(parseTerminationMessage(ran.stderr), { reason: 'InvalidConfig' }, 'also the last stderr line, for FallbackToLogsOnError')
})

t.test('check: exit 0 iff the node is in the state the action wants', async t => {
  const root = await tempDir(t)
  const rows: Array<[string, string | undefined, Record<string, string>, number]> = [
    ['install, not loaded', undefined, {}, 1],
    ['install, right version', '0.0.1', {}, 0],
    ['install, right version with v', 'v0.0.1', {}, 0],
    ['install, other version', '0.0.2', {}, 1],
    ['unload, loaded', '0.0.1', { [ENV.action]: 'unload' }, 1],
    ['unload, not loaded', undefined, { [ENV.action]: 'unload' }, 0]
  ]
  for (const [name, loaded, env, want] of rows) {
    const { rm } = await import('node:fs/promises')
    await rm(path.join(root, 'sys'), { recursive: true, force: true })
    if (loaded !== undefined) await setLoaded(root, 'gtp5g', { version: loaded })
    const ran = await installer(['check'], { [ENV.version]: 'v0.0.1', [ENV.hostRoot]: root, [ENV_TERMINATION_LOG]: path.join(root, 'tl'), ...env })
    t.equal(ran.code, want, name)
  }
})

t.test('check with a broken configuration is "not ready" and writes no termination message', async t => {
  const root = await tempDir(t)
  const ran = await installer(['check'], { [ENV.action]: 'remove', [ENV.hostRoot]: root, [ENV_TERMINATION_LOG]: path.join(root, 'tl') })
  t.equal(ran.code, 1)
  t.match(ran.stderr, /not ready: GTP5G_ACTION must be one of install, unload/)
  await t.rejects(readFile(path.join(root, 'tl')), { code: 'ENOENT' })
})

t.test('restart with the right version loaded: no work; SIGTERM exits 0 and unloads nothing', async t => {
  const root = await tempDir(t)
  await setLoaded(root, 'gtp5g', { version: '0.0.1', refcnt: 2 })
  let readyText: string | undefined
  const ran = await installer(['install'], {
    [ENV.version]: 'v0.0.1',
    [ENV.hostRoot]: root,
    [ENV.kernelVersion]: '6.1.0-28-amd64',
    [ENV.sourceUrl]: 'http://127.0.0.1:1/never-fetched.tgz',
    [ENV_TERMINATION_LOG]: path.join(root, 'tl')
  }, (out, kill) => {
    if (out.includes('watching that the module stays loaded') && readyText === undefined) {
      readyText = readFileSync(path.join(root, 'ready'), 'utf8')
      kill('SIGTERM')
    }
  })
  t.equal(ran.code, 0)
  const steps = ran.stdout.trim().split('\n').map(l => JSON.parse(l) as { step?: string, outcome?: string, startupMs?: number })
  t.same(steps.filter(s => s.step !== undefined).map(s => s.step), ['start', 'kernel', 'inspect', 'done', 'ready'])
  t.type(steps[0]?.startupMs, 'number', 'the first line says how long Node.js and the modules took to start')
  t.match(steps.find(s => s.step === 'done'), { outcome: 'already-loaded' })
  t.equal(readyText, 'gtp5g 0.0.1 loaded\n', 'the readiness file the probe reads, once ready')
  t.equal((await readFile(path.join(root, 'sys/module/gtp5g/version'), 'utf8')).trim(), '0.0.1', 'still loaded')
})

t.test('the readiness file follows /sys/module, and a stale one is removed at start', async t => {
  const root = await tempDir(t)
  const ready = path.join(root, 'ready')
  // Left by an earlier container (a /tmp volume outlives it): says nothing about this one.
  await writeFile(ready, 'gtp5g 0.0.1 loaded\n')
  await setLoaded(root, 'gtp5g', { version: '0.0.1', refcnt: 1 })
  const seen: string[] = []
  const poll = async (want: boolean): Promise<void> => {
    // Up to 30 s: the installer starts through the TypeScript loader, slow on a busy machine.
    for (let i = 0; i < 600 && existsSync(ready) !== want; i++) await new Promise(resolve => setTimeout(resolve, 50))
    seen.push(existsSync(ready) ? readFileSync(ready, 'utf8').trim() : '(none)')
  }
  // In use: the unload is refused (ModuleInUse) and the process exits; the stale file went first.
  const ran = await installer(['unload'], { [ENV.hostRoot]: root, [ENV_TERMINATION_LOG]: path.join(root, 'tl') })
  t.equal(ran.code, 1, 'in use: the unload is refused')
  t.notOk(existsSync(ready), 'the stale readiness file was removed, and no new one written')

  await setUnloaded(root, 'gtp5g')
  const running = installer(['unload'], { [ENV.hostRoot]: root, [ENV.watchIntervalSeconds]: '0.1', [ENV_TERMINATION_LOG]: path.join(root, 'tl') })
  await poll(true)
  await setLoaded(root, 'gtp5g', { version: '0.0.1' })
  await poll(false)
  await setUnloaded(root, 'gtp5g')
  await poll(true)
  running.kill('SIGTERM')
  t.equal((await running).code, 0)
  t.same(seen, ['gtp5g not loaded', '(none)', 'gtp5g not loaded'], 'written, removed and written again as gtp5g comes and goes')
})

/**
 * A node with headers and a source for v0.0.1, and a `make` on PATH that runs `makeBody` (a
 * shell script): the real installer process, only the compiler is a stand-in.
 */
async function buildingNode (t: Parameters<typeof tempDir>[0], makeBody: string) {
  const root = await tempDir(t)
  await fakeHeaders(root, KERNEL)
  const tarball = await packFixture(root, 'v0.0.1')
  const bin = path.join(root, 'bin')
  const tmp = path.join(root, 'tmp')
  await mkdir(bin)
  await mkdir(tmp)
  await writeFile(path.join(bin, 'make'), `#!/bin/sh\n${makeBody}\n`)
  await chmod(path.join(bin, 'make'), 0o755)
  const env = {
    [ENV.version]: 'v0.0.1',
    [ENV.hostRoot]: root,
    [ENV.kernelVersion]: KERNEL,
    [ENV.sourceUrl]: pathToFileURL(tarball).href,
    [ENV_TERMINATION_LOG]: path.join(root, 'tl'),
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    TMPDIR: tmp
  }
  const entryDir = path.join(root, 'var/lib/gtp5g/v0.0.1', KERNEL)
  return { root, env, tmp, entryDir, pidFile: path.join(root, 'make.pid') }
}

async function afterShutdown (t: Test, node: Awaited<ReturnType<typeof buildingNode>>, ran: Ran, started: number): Promise<void> {
  t.equal(ran.code, 0, 'SIGTERM exits 0')
  t.ok(Date.now() - started < 8000, `stopped in ${Date.now() - started} ms`)
  t.same((await readdir(node.entryDir).catch(() => [] as string[])).filter(n => n.includes('.tmp-')), [], 'no temporary files in the host cache')
  t.same((await readdir(node.tmp)).filter(n => n.startsWith('gtp5g-build-')), [], 'the scratch build directory is gone')
  t.notOk(existsSync(path.join(node.root, 'tl')), 'no termination message: stopping is not a failure')
  // Another installer gets the entry's lock at once.
  const free = await new Promise(resolve => execFile('flock', ['--exclusive', '--nonblock', path.join(node.entryDir, '.lock'), 'true'], err => resolve(err === null)))
  t.equal(free, true, 'the entry lock is free')
  t.match(ran.stdout, /"msg":"stopping; the module stays loaded"/)
}

t.test('SIGTERM during a build: make and its children are killed, cleanup runs, exit 0', async t => {
  // A compiler that would run for 30 s, with a child of its own.
  const node = await buildingNode(t, 'echo "CC [M] gtp5g.o"\nsleep 30 &\necho $! > "$GTP5G_TEST_PIDFILE"\nwait')
  let started = 0
  const ran = installer(['install'], { ...node.env, GTP5G_TEST_PIDFILE: node.pidFile })
  // make prints to its log, not to the installer's stdout: watch for its pid file instead.
  const poll = setInterval(() => {
    if (started === 0 && existsSync(node.pidFile)) {
      started = Date.now()
      ran.kill('SIGTERM')
    }
  }, 50)
  const done = await ran
  clearInterval(poll)
  await afterShutdown(t, node, done, started)
  const pid = Number(await readFile(node.pidFile, 'utf8'))
  t.notOk(isRunning(pid), `the compiler's child (pid ${pid}) was killed`)
  t.match(done.stdout, /"step":"build".*"aborted":true/)
})

t.test('SIGTERM during a store: the entry is complete or absent, never half-written', async t => {
  // A build whose module is large enough (400 MiB) that storing it takes a while.
  const node = await buildingNode(t, 'dd if=/dev/zero of=gtp5g.ko bs=1M count=400 status=none')
  let started = 0
  // Storing 400 MiB (hash, copy, fsync, hash) takes seconds: 300 ms in, it is under way.
  const done = await installer(['install'], node.env, (out, kill) => {
    if (started === 0 && /"step":"build","durationMs"/.test(out)) { started = Date.now() + 300; setTimeout(() => kill('SIGTERM'), 300) }
  })
  t.match(done.stdout, /"step":"cache-store","durationMs":\d+,"aborted":true/, 'SIGTERM arrived during the store')
  await afterShutdown(t, node, done, started)
  const names = (await readdir(node.entryDir)).sort()
  t.ok(names.includes('gtp5g.ko.sha256') ? names.includes('gtp5g.ko') && names.includes('provenance.json') : !names.includes('gtp5g.ko'),
    `entry files: ${names.join(', ')}`)
})

t.test('watch repairs when asked and stops cleanly', async t => {
  // Driven by what the watch does, not by sleeping: any machine speed gives the same result.
  let checks = 0
  let repairs = 0
  let afterRepair!: () => void
  const threeMoreChecks = new Promise<void>(resolve => { afterRepair = resolve })
  const w = watch(5, async () => {
    checks++
    if (repairs === 1 && checks >= 6) afterRepair()
    return checks === 3
  }, async () => { repairs++ })
  await threeMoreChecks
  w.stop()
  await w.done
  t.equal(repairs, 1, 'one repair, on the one check that asked for it')
  const atStop = checks
  await new Promise(resolve => setTimeout(resolve, 30))
  t.equal(checks, atStop, 'no check after stop()')
  const failing = watch(5, async () => true, async () => { throw new Error('insmod failed') })
  await t.rejects(failing.done, /insmod failed/)
})
