// The process shell: exit codes, the one-line termination message, the readiness probe and
// SIGTERM. Runs installer/main.ts as a child process against a temporary host root.
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { ENV, ENV_TERMINATION_LOG, parseTerminationMessage } from '../../contract/index.js'
import { watch } from '../../installer/watch.js'
import { setLoaded, tempDir } from './helpers.js'

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../installer/main.ts')

interface Ran { code: number | null, stdout: string, stderr: string }

function installer (args: string[], env: Record<string, string>, onStdout?: (text: string, kill: (s: NodeJS.Signals) => void) => void): Promise<Ran> {
  const child = spawn(process.execPath, [...process.execArgv, MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); onStdout?.(stdout, s => child.kill(s)) })
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  return new Promise(resolve => child.on('close', code => resolve({ code, stdout, stderr })))
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
  const ran = await installer(['install'], {
    [ENV.version]: 'v0.0.1',
    [ENV.hostRoot]: root,
    [ENV.kernelVersion]: '6.1.0-28-amd64',
    [ENV.sourceUrl]: 'http://127.0.0.1:1/never-fetched.tgz',
    [ENV_TERMINATION_LOG]: path.join(root, 'tl')
  }, (out, kill) => { if (out.includes('watching that the module stays loaded')) kill('SIGTERM') })
  t.equal(ran.code, 0)
  const steps = ran.stdout.trim().split('\n').map(l => JSON.parse(l) as { step?: string, outcome?: string })
  t.same(steps.filter(s => s.step !== undefined).map(s => s.step), ['kernel', 'inspect', 'done'])
  t.match(steps.find(s => s.step === 'done'), { outcome: 'already-loaded' })
  t.equal((await readFile(path.join(root, 'sys/module/gtp5g/version'), 'utf8')).trim(), '0.0.1', 'still loaded')
})

t.test('watch repairs when asked and stops cleanly', async t => {
  let broken = false
  let repairs = 0
  const w = watch(5, async () => broken, async () => { repairs++; broken = false })
  await new Promise(resolve => setTimeout(resolve, 20))
  broken = true
  await new Promise(resolve => setTimeout(resolve, 40))
  w.stop()
  await w.done
  t.equal(repairs, 1)
  const failing = watch(5, async () => true, async () => { throw new Error('insmod failed') })
  await t.rejects(failing.done, /insmod failed/)
})
