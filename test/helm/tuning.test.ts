// The hook server's tuning and the installer pod settings, from values to the environment the
// server reads: its deadline stays below every hook timeout Metacontroller is given, and what the
// chart renders is what loadConfig accepts.
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { DEFAULT_INSTALLER_POD } from '../../hooks/core/config.js'
import { loadConfig } from '../../hooks/server/config.js'
import { helmOrSkip, type Manifest, one, render, runHelm, templateArgs } from './chart.js'

interface Env { name: string, value: string }
interface Deployment extends Manifest { spec: { template: { spec: { containers: Array<{ env: Env[] }> } } } }
interface Controller extends Manifest { spec: { hooks: Record<string, { webhook: { timeout: string } }> } }

const helm = helmOrSkip()
if (helm !== undefined) {
  const envOf = async (set: string[] = [], valuesFiles: string[] = []): Promise<Record<string, string>> => {
    const d = one<Deployment>(await render(helm, { set, valuesFiles }), 'Deployment')
    return Object.fromEntries((d.spec.template.spec.containers[0]?.env ?? []).map(e => [e.name, e.value]))
  }

  t.test('the server answers before Metacontroller gives up: REQUEST_TIMEOUT_SECONDS below every hook timeout', async t => {
    const objects = await render(helm)
    const env = await envOf()
    const deadline = Number(env.REQUEST_TIMEOUT_SECONDS)
    t.equal(deadline, 25)
    for (const kind of ['CompositeController', 'DecoratorController']) {
      for (const [hook, { webhook }] of Object.entries(one<Controller>(objects, kind).spec.hooks)) {
        t.ok(deadline < Number(/^(\d+)s$/.exec(webhook.timeout)?.[1]), `${kind} ${hook}: ${deadline} s < ${webhook.timeout}`)
      }
    }
    const res = await runHelm(helm, templateArgs({ set: ['hookServer.requestTimeoutSeconds=30'] }))
    t.not(res.code, 0, 'a deadline of 30 s is refused')
    t.match(res.stderr, /requestTimeoutSeconds/)
  })

  t.test('workers and the in-flight cap are values', async t => {
    const env = await envOf(['hookServer.workers=2', 'hookServer.maxHooksInFlight=16', 'hookServer.requestTimeoutSeconds=20'])
    t.match(env, { HOOK_WORKERS: '2', MAX_HOOKS_IN_FLIGHT: '16', REQUEST_TIMEOUT_SECONDS: '20' })
    t.match(loadConfig(env).limits, { hookWorkers: 2, maxHooksInFlight: 16, requestTimeoutMs: 20_000 })
  })

  t.test('installer pod settings: the chart\'s defaults, and overrides, reach the server as it parses them', async t => {
    const defaults = loadConfig(await envOf()).hooks.installerPod
    t.same(defaults, {
      ...DEFAULT_INSTALLER_POD,
      tolerations: [{ operator: 'Exists', effect: 'NoSchedule' }]
    }, 'system-node-critical, today\'s sizes, no pull secrets, every NoSchedule taint tolerated')
    const noTolerations = path.join(t.testdir(), 'values.yaml')
    writeFileSync(noTolerations, 'installer:\n  tolerations: []\n')
    const set = await envOf([
      'installer.priorityClassName=gtp5g-critical',
      'installer.imagePullSecrets[0].name=registry-creds',
      'installer.imagePullSecrets[1].name=mirror-creds',
      'installer.resources.limits.memory=2Gi'
    ], [noTolerations])
    t.same(loadConfig(set).hooks.installerPod, {
      priorityClassName: 'gtp5g-critical',
      resources: { requests: DEFAULT_INSTALLER_POD.resources.requests, limits: { memory: '2Gi', 'ephemeral-storage': '1Gi' } },
      imagePullSecrets: ['registry-creds', 'mirror-creds'],
      tolerations: []
    })
  })
}
