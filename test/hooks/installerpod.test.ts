// Installer pods that fit real clusters: pull secrets per module and as the hook server's default,
// a configurable priority class (system-node-critical by default) and resources, and default
// tolerations, all from the environment the chart sets, refused at start when malformed.
import t from 'tap'
import { sync } from '../../hooks/core/hooks.js'
import { DEFAULT_INSTALLER_POD, type HookConfig } from '../../hooks/core/config.js'
import { loadConfig } from '../../hooks/server/config.js'
import { CONFIG, gtp5gModule, node, NOW, syncRequest } from '../support/hookfixtures.js'

interface PodSpec { priorityClassName?: string, imagePullSecrets?: Array<{ name: string }>, tolerations: unknown[], containers: Array<{ resources: unknown }> }
const podOf = (config: HookConfig, spec: Record<string, unknown> = {}, nodes = [node('upf-1')]): { pod: PodSpec, desired: number } => {
  const parent = gtp5gModule()
  parent.spec = { ...(parent.spec as Record<string, unknown>), ...spec }
  const res = sync(syncRequest({ parent, nodes }), config, NOW)
  const ds = res.children[0] as { spec: { template: { spec: PodSpec } } }
  return { pod: ds.spec.template.spec, desired: res.status.desired ?? -1 }
}

const UPF_TAINT = { key: 'node-role.kubernetes.io/upf', effect: 'NoSchedule' }

t.test('defaults: system-node-critical, the sizes of before, no pull secrets, the module\'s tolerations', async t => {
  const { pod } = podOf(CONFIG)
  t.equal(pod.priorityClassName, 'system-node-critical')
  t.same(pod.containers[0]?.resources, DEFAULT_INSTALLER_POD.resources)
  t.notOk('imagePullSecrets' in pod, 'no empty list: a module without secrets keeps its template (no rollout on upgrade)')
  t.same(pod.tolerations, [])
})

t.test('the hook server\'s settings reach every installer pod', async t => {
  const config = loadConfig({
    INSTALLER_PRIORITY_CLASS_NAME: 'gtp5g-critical',
    INSTALLER_RESOURCES: '{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"memory":"2Gi"}}',
    INSTALLER_IMAGE_PULL_SECRETS: 'registry-creds, mirror-creds',
    INSTALLER_TOLERATIONS: '[{"operator":"Exists","effect":"NoSchedule"}]'
  }).hooks
  const { pod, desired } = podOf(config, {}, [node('upf-1', undefined, [UPF_TAINT])])
  t.equal(pod.priorityClassName, 'gtp5g-critical')
  t.same(pod.containers[0]?.resources, { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '2Gi' } })
  t.same(pod.imagePullSecrets, [{ name: 'registry-creds' }, { name: 'mirror-creds' }])
  t.same(pod.tolerations, [{ operator: 'Exists', effect: 'NoSchedule' }])
  t.equal(desired, 1, 'the tainted UPF node counts as desired: the default toleration is the one the pod gets')
  t.notOk('priorityClassName' in podOf(loadConfig({ INSTALLER_PRIORITY_CLASS_NAME: '' }).hooks).pod, 'empty: no priority class')
})

t.test('a module\'s own pull secrets and tolerations replace the defaults', async t => {
  const config = loadConfig({ INSTALLER_IMAGE_PULL_SECRETS: 'registry-creds', INSTALLER_TOLERATIONS: '[{"operator":"Exists","effect":"NoSchedule"}]' }).hooks
  const own = { imagePullSecrets: [{ name: 'team-a-creds' }], tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'upf', effect: 'NoExecute' }] }
  const { pod, desired } = podOf(config, own, [node('upf-1', undefined, [UPF_TAINT])])
  t.same(pod.imagePullSecrets, [{ name: 'team-a-creds' }])
  t.same(pod.tolerations, own.tolerations)
  t.equal(desired, 0, 'the UPF taint is no longer tolerated, and status says so')
  t.same(podOf(CONFIG, { imagePullSecrets: [{ name: 'team-a-creds' }] }).pod.imagePullSecrets, [{ name: 'team-a-creds' }], 'per module without any default')
})

t.test('malformed settings stop the server at start, naming the variable', async t => {
  const refused: Array<[Record<string, string>, RegExp]> = [
    [{ INSTALLER_PRIORITY_CLASS_NAME: 'Node Critical' }, /INSTALLER_PRIORITY_CLASS_NAME: "Node Critical" is not a PriorityClass name/],
    [{ INSTALLER_RESOURCES: '{"requests":{"memory":"lots"}}' }, /INSTALLER_RESOURCES: expected a JSON object/],
    [{ INSTALLER_RESOURCES: '{"request":{}}' }, /INSTALLER_RESOURCES/],
    [{ INSTALLER_RESOURCES: 'cpu=1' }, /INSTALLER_RESOURCES: not JSON/],
    [{ INSTALLER_IMAGE_PULL_SECRETS: 'Creds_1' }, /INSTALLER_IMAGE_PULL_SECRETS: "Creds_1" is not a Secret name/],
    [{ INSTALLER_TOLERATIONS: '{"operator":"Exists"}' }, /INSTALLER_TOLERATIONS: expected a JSON array of Kubernetes tolerations/],
    [{ INSTALLER_TOLERATIONS: '[{"operator":"Sometimes"}]' }, /INSTALLER_TOLERATIONS/]
  ]
  for (const [env, message] of refused) t.throws(() => loadConfig(env), message, JSON.stringify(env))
})
