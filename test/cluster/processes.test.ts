// The local cluster's process supervisor (e2e/cluster/processes.ts) with real processes: a pid
// file names exactly the process that was started, and a stale one (its process gone, or the pid
// taken by another process) names nothing, so `stop` and `down` never signal a stranger.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { Processes } from '../../e2e/cluster/processes.js'

/** Resolves once `log` holds `line` (the process got that far). */
async function logged (log: string, line: string): Promise<void> {
  while (!readFileSync(log, 'utf8').includes(line)) await new Promise(resolve => setTimeout(resolve, 20))
}

const supervisor = (t: Test): Processes<string> => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gtp5g-processes-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  return new Processes<string>(dir)
}

t.test('a started process is known by its pid file, its output goes to its log, and stop ends it', async t => {
  const p = supervisor(t)
  const log = path.join(p.dir, 'logs', 'sleeper.log')
  const pid = p.spawn('sleeper', 'sh', ['-c', 'echo started; exec sleep 30'], { log })
  t.teardown(() => { try { process.kill(pid, 'SIGKILL') } catch {} })
  await logged(log, 'started\n')
  t.equal(p.pidOf('sleeper'), pid)
  t.match(readFileSync(p.pidPath('sleeper'), 'utf8'), new RegExp(`^${pid} \\d+$`), 'pid and start time recorded')
  await p.stop('sleeper', 5_000)
  t.equal(p.pidOf('sleeper'), undefined)
  // Gone, or a zombie until this process (its parent) reaps it.
  const state = (() => { try { return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] } catch { return 'gone' } })()
  t.ok(state === 'gone' || state === 'Z', `the process has ended (state ${String(state)})`)
})

t.test('a process that ignores SIGTERM is killed after the grace period', async t => {
  const p = supervisor(t)
  const log = path.join(p.dir, 'stubborn.log')
  const pid = p.spawn('stubborn', 'sh', ['-c', "trap '' TERM; echo trapped; while :; do sleep 1; done"], { log })
  t.teardown(() => { try { process.kill(-pid, 'SIGKILL') } catch {} })
  await logged(log, 'trapped\n')
  const started = Date.now()
  await p.stop('stubborn', 300)
  t.equal(p.pidOf('stubborn'), undefined)
  t.ok(Date.now() - started >= 300, 'waited for the grace period first')
})

t.test('a pid file whose pid now belongs to another process names nothing, and stop leaves that process alone', async t => {
  const p = supervisor(t)
  // This test's own process stands for a process that took over the recorded pid.
  mkdirSync(path.join(p.dir, 'pids'))
  writeFileSync(path.join(p.dir, 'pids', 'gone.pid'), `${process.pid} 1`, { flag: 'w' })
  t.equal(p.pidOf('gone'), undefined)
  await p.stop('gone', 0)
  t.pass('this process was not signalled')
})
