// The installer's one process runner (installer/exec.ts), run for real on /bin/sh: what it keeps
// of a program's output, and how a timeout stops it.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { run } from '../../installer/exec.js'

const sh = async (script: string, signal?: AbortSignal): ReturnType<typeof run> =>
  await run('/bin/sh', ['-c', script], signal === undefined ? {} : { signal })

t.test('output interleaves stdout and stderr; stdout is also kept alone, exactly', async t => {
  const r = await sh('echo one; echo warning >&2; printf two')
  t.equal(r.code, 0)
  t.equal(r.stdout, 'one\ntwo', 'a line on stderr does not reach stdout (the snapshot check compares it exactly)')
  t.match(r.output, /one\n/)
  t.match(r.output, /warning\n/)
  t.match(r.output, /two/)
})

t.test('only the last 256 KiB of either is kept', async t => {
  const r = await sh('head -c 300000 /dev/zero | tr "\\0" a; printf END')
  t.equal(r.stdout?.length, 256 * 1024)
  t.ok(r.stdout?.endsWith('aEND'), 'the tail, not the head')
  t.equal(r.output.length, 256 * 1024)
})

t.test('a timeout through AbortSignal.timeout kills the whole process group', async t => {
  const started = Date.now()
  const r = await sh('sleep 30 & echo $!; wait', AbortSignal.any([new AbortController().signal, AbortSignal.timeout(300)]))
  t.equal(r.aborted, true)
  t.equal(r.signal, 'SIGKILL')
  t.ok(Date.now() - started < 5000, `stopped after ${Date.now() - started} ms, not 30 s`)
  const child = Number(r.stdout?.trim())
  t.ok(child > 0, `the background sleep's pid (${child})`)
  let state = ''
  try {
    state = readFileSync(`/proc/${child}/stat`, 'utf8')
  } catch {
    // gone: what we want
  }
  t.notOk(state !== '' && !/^\d+ \(.*\) Z/.test(state), 'the child in the background was killed with its parent')
})

t.test('an already aborted signal starts nothing', async t => {
  const controller = new AbortController()
  controller.abort()
  t.same(await sh('echo never', controller.signal), { code: null, signal: null, output: '', stdout: '', aborted: true })
})
