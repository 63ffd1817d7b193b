// The per-entry lock: flock(2) held through our own descriptor, so it works across processes
// (pods share the host path) and dies with its holder. Checked against flock(1) and against a
// second process that takes it the installer's way.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { acquireLock } from '../../installer/lock.js'
import { tempDir } from './helpers.js'
import { FIXTURES } from '../support/fixturesource.js'

const exec = promisify(execFile)

/** Does another process get the lock right now? (flock(1), non-blocking). */
async function freeForOthers (file: string): Promise<boolean> {
  try {
    await exec('flock', ['--exclusive', '--nonblock', file, 'true'])
    return true
  } catch {
    return false
  }
}

function holder (file: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...process.execArgv, path.join(FIXTURES, 'hold-lock.ts'), file], { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => { if (c.toString().includes('locked')) resolve(child) })
    child.on('exit', code => reject(new Error(`holder exited ${String(code)}`)))
  })
}

const exited = (child: ChildProcess): Promise<unknown> => new Promise(resolve => child.once('exit', resolve))

t.test('held: other processes wait; released: they get it', async t => {
  const file = path.join(await tempDir(t), '.lock')
  const lock = await acquireLock(file, { timeoutMs: 1000, owner: 'pod a pid 1' })
  t.equal(await freeForOthers(file), false, 'another process cannot take it')
  t.match(await readFile(file, 'utf8'), /^pod a pid 1 since \d{4}-/, 'the lock file names its holder')
  await lock.release()
  await lock.release()
  t.equal(await freeForOthers(file), true, 'free once released (release is idempotent)')
})

t.test('two acquisitions in one process exclude each other too (one descriptor each)', async t => {
  const file = path.join(await tempDir(t), '.lock')
  const first = await acquireLock(file, { timeoutMs: 1000 })
  let second = false
  const waiting = acquireLock(file, { timeoutMs: 5000 }).then(l => { second = true; return l })
  await new Promise(resolve => setTimeout(resolve, 300))
  t.equal(second, false, 'the second waits while the first holds it')
  await first.release()
  await (await waiting).release()
  t.equal(second, true)
})

t.test('waiting longer than the limit is CacheLocked, naming the holder', async t => {
  const file = path.join(await tempDir(t), '.lock')
  const child = await holder(file)
  t.teardown(() => { child.kill('SIGKILL') })
  const started = Date.now()
  await t.rejects(acquireLock(file, { timeoutMs: 300 }),
    { reason: 'CacheLocked', message: new RegExp(`held ${file.replaceAll('.', '\\.')} for more than 300 ms \\(holder: test holder pid ${String(child.pid)} since`) })
  t.ok(Date.now() - started < 3000, 'gave up at about the limit')
})

t.test('a holder killed with SIGKILL releases the lock at once (no stale lock files)', async t => {
  const file = path.join(await tempDir(t), '.lock')
  const child = await holder(file)
  t.equal(await freeForOthers(file), false, 'held by the other process')
  child.kill('SIGKILL')
  await exited(child)
  const lock = await acquireLock(file, { timeoutMs: 2000 })
  t.pass('acquired after the holder died')
  await lock.release()
})

t.test('a shutdown stops the wait with its own reason', async t => {
  const file = path.join(await tempDir(t), '.lock')
  const child = await holder(file)
  t.teardown(() => { child.kill('SIGKILL') })
  const stop = new AbortController()
  setTimeout(() => stop.abort(new DOMException('stopping on SIGTERM', 'AbortError')), 100)
  await t.rejects(acquireLock(file, { timeoutMs: 60_000, signal: stop.signal }), { name: 'AbortError' })
  t.equal(await freeForOthers(file), false, 'the holder still has it')
})
