import t from 'tap'
import { type Runner } from '../../installer/exec.js'
import { realKmod } from '../../installer/kmod.js'

function recorder (result: { code: number, output: string } = { code: 0, output: '' }): Runner & { calls: string[] } {
  const calls: string[] = []
  return Object.assign(async (cmd: string, args: readonly string[]) => {
    calls.push([cmd, ...args].join(' '))
    return { code: result.code, signal: null, output: result.output }
  }, { calls })
}

t.test('command lines', async t => {
  const rows: Array<[string, string, (k: ReturnType<typeof realKmod>) => Promise<void>, string]> = [
    ['dependency from the pod\'s own /lib/modules', '', k => k.loadDependency('6.1.0-28-amd64'), 'modprobe -S 6.1.0-28-amd64 udp_tunnel'],
    ['dependency under a host root', '/host', k => k.loadDependency('6.1.0-28-amd64'), 'modprobe -d /host -S 6.1.0-28-amd64 udp_tunnel'],
    ['load the cached file', '', k => k.insmod('/var/lib/gtp5g/v1.0.0/6.1.0-28-amd64/gtp5g.ko'), 'insmod /var/lib/gtp5g/v1.0.0/6.1.0-28-amd64/gtp5g.ko'],
    ['remove, never forced', '', k => k.remove(), 'rmmod gtp5g']
  ]
  for (const [name, root, act, want] of rows) {
    const run = recorder()
    await act(realKmod(run, root))
    t.same(run.calls, [want], name)
  }
})

t.test('failures map to reasons', async t => {
  const rows: Array<[string, { code: number, output: string }, (k: ReturnType<typeof realKmod>) => Promise<void>, string, RegExp]> = [
    ['rmmod of a busy module', { code: 1, output: 'rmmod: ERROR: Module gtp5g is in use by: gtp5g_holder' }, k => k.remove(), 'ModuleInUse', /in use by: gtp5g_holder/],
    ['rmmod other error', { code: 1, output: 'rmmod: ERROR: Module gtp5g is not currently loaded' }, k => k.remove(), 'LoadFailed', /not currently loaded/],
    ['bad module format', { code: 1, output: 'insmod: ERROR: could not insert module gtp5g.ko: Invalid module format' }, k => k.insmod('gtp5g.ko'), 'LoadFailed', /Invalid module format/],
    ['dependency not found', { code: 1, output: 'modprobe: FATAL: Module udp_tunnel not found in directory /lib/modules/6.1.0-28-amd64' }, k => k.loadDependency('6.1.0-28-amd64'), 'LoadFailed', /loading udp_tunnel.*not found/]
  ]
  for (const [name, result, act, reason, message] of rows) {
    await t.rejects(act(realKmod(recorder(result), '')), { reason, message }, name)
  }
  const missing: Runner = async () => { throw Object.assign(new Error('spawn insmod ENOENT'), { code: 'ENOENT' }) }
  await t.rejects(realKmod(missing, '').insmod('x.ko'), { reason: 'LoadFailed', message: /cannot run insmod/ }, 'kmod not installed')
})
