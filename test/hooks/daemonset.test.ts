// The installer DaemonSet: a golden file for the whole object, plus the rules that matter most.
import t from 'tap'
import { stringify } from 'yaml'
import { daemonSetName, ENV, HOST_LIB, HOST_PATHS, isDnsLabel, READY_FILE } from '../../contract/index.js'
import { buildDaemonSet } from '../../hooks/core/daemonset.js'
import { parseSpec } from '../../hooks/core/spec.js'
import { CONFIG } from '../support/hookfixtures.js'
import { golden } from './golden.js'

function specOf (raw: Record<string, unknown>): Parameters<typeof buildDaemonSet>[0]['spec'] {
  const parsed = parseSpec(raw)
  if (!parsed.ok) throw new Error(parsed.message)
  return parsed.spec
}

interface Container {
  name: string
  image: string
  args?: string[]
  env: Array<{ name: string, value: string }>
  securityContext: Record<string, unknown>
  readinessProbe: { exec: { command: string[] }, periodSeconds: number, timeoutSeconds: number, failureThreshold: number }
  terminationMessagePolicy: string
  volumeMounts: Array<{ mountPath: string, readOnly?: boolean }>
}
interface DaemonSetShape {
  metadata: { name: string, namespace: string, labels: Record<string, string> }
  spec: {
    selector: { matchLabels: Record<string, string> }
    updateStrategy: { type: string, rollingUpdate: { maxUnavailable: number | string } }
    template: { metadata: { labels: Record<string, string> }, spec: { containers: Container[], volumes: Array<{ hostPath: { path: string, type: string } }>, [key: string]: unknown } }
  }
}

const sample = buildDaemonSet({ moduleName: 'sample', spec: specOf({ version: 'v0.9.14' }), config: CONFIG, action: 'install', excludedNodes: [] })
const ds = sample.daemonSet as unknown as DaemonSetShape
const container = ds.spec.template.spec.containers[0] as Container

t.test('golden: the sample module\'s DaemonSet', async t => {
  const { expected, path } = golden('daemonset-sample.yaml', stringify(sample.daemonSet, { lineWidth: 0 }))
  t.equal(stringify(sample.daemonSet, { lineWidth: 0 }), expected, `differs from ${path}; rerun with UPDATE_GOLDEN=1 after reviewing`)
})

t.test('names, labels and the immutable selector', async t => {
  t.equal(ds.metadata.name, 'gtp5g-installer-sample')
  t.equal(ds.metadata.namespace, 'gtp5g-system')
  t.same(ds.spec.selector.matchLabels, { 'gtp5g.gthulhu.io/module': 'sample' })
  for (const [k, v] of Object.entries(ds.spec.selector.matchLabels)) t.equal(ds.spec.template.metadata.labels[k], v, 'the selector selects the template')
  t.same(ds.metadata.labels, {
    'app.kubernetes.io/name': 'gtp5g-installer',
    'app.kubernetes.io/instance': 'sample',
    'app.kubernetes.io/managed-by': 'gtp5g-operator',
    'gtp5g.gthulhu.io/module': 'sample'
  })
})

t.test('least privilege: CAP_SYS_MODULE only, no API token, not privileged', async t => {
  t.equal(ds.spec.template.spec.automountServiceAccountToken, false)
  t.equal(ds.spec.template.spec.enableServiceLinks, false, 'issue 14 finding 11: no service-link variables for the kubelet to expand into env values')
  t.equal(ds.spec.template.spec.priorityClassName, 'system-node-critical')
  t.same(container.securityContext.capabilities, { drop: ['ALL'], add: ['SYS_MODULE'] })
  t.equal(container.securityContext.privileged, false)
  t.notOk(ds.spec.template.spec.hostPID)
  t.notOk(ds.spec.template.spec.hostNetwork)
  t.same(container.securityContext.seccompProfile, { type: 'RuntimeDefault' }, 'the runtime\'s default syscall filter, which allows finit_module to CAP_SYS_MODULE')
})

t.test('bounded disk: the build directory in the container counts against an ephemeral-storage limit', async t => {
  const resources = (container as unknown as { resources: { requests: Record<string, string>, limits: Record<string, string> } }).resources
  t.equal(resources.requests['ephemeral-storage'], '64Mi')
  t.equal(resources.limits['ephemeral-storage'], '1Gi')
})

t.test('host paths: modules, sources and the node\'s /usr/lib read-only, the cache writable', async t => {
  t.same(ds.spec.template.spec.volumes.map(v => [v.hostPath.path, v.hostPath.type]), [
    [HOST_PATHS.modules, 'Directory'], [HOST_PATHS.src, 'Directory'], [HOST_LIB.host, 'Directory'], [HOST_PATHS.cache, 'DirectoryOrCreate']
  ])
  t.same(container.volumeMounts.map(m => [m.mountPath, m.readOnly === true]), [
    [HOST_PATHS.modules, true], [HOST_PATHS.src, true], [HOST_LIB.mount, true], [HOST_PATHS.cache, false]
  ])
  t.not(HOST_LIB.mount, HOST_LIB.host, 'the node\'s /usr/lib beside the image\'s, never over it')
})

t.test('readiness reads the running installer\'s readiness file; failures reach status through the termination message', async t => {
  t.same(container.readinessProbe.exec.command, ['cat', READY_FILE], 'a cat, not a Node.js start per probe')
  t.equal(container.terminationMessagePolicy, 'FallbackToLogsOnError')
})

t.test('the probe runs often enough that Ready follows the load within seconds, and one slow exec is no verdict', async t => {
  // What a user waits for after the installer wrote the file is at most one period. The exec
  // itself may still take seconds on a starved node (a VM without KVM), so the timeout stays
  // long and one failure is not a verdict.
  const probe = container.readinessProbe
  t.ok(probe.periodSeconds <= 2, `periodSeconds ${probe.periodSeconds}: Ready at most 2 s after the module is loaded`)
  t.ok(probe.timeoutSeconds >= 10, `timeoutSeconds ${probe.timeoutSeconds} leaves room for a slow exec`)
  t.ok(probe.failureThreshold >= 3, `failureThreshold ${probe.failureThreshold}: one slow exec is not a verdict`)
  t.ok(probe.periodSeconds * probe.failureThreshold + probe.timeoutSeconds <= 90, 'a module that really went away is reported within about a minute')
})

t.test('environment from the spec', async t => {
  const full = buildDaemonSet({
    moduleName: 'upf',
    spec: specOf({ version: 'v0.9.12a', kernelVersion: '5.15.0-91-generic', source: { url: 'https://mirror.example/gtp5g-{version}.tgz', sha256: 'a'.repeat(64) }, image: 'registry.example/installer:1', maxUnavailable: '25%' }),
    config: CONFIG,
    action: 'unload',
    excludedNodes: []
  }).daemonSet as unknown as DaemonSetShape
  const c = full.spec.template.spec.containers[0] as Container
  t.same(c.env, [
    { name: ENV.version, value: 'v0.9.12a' },
    { name: ENV.kernelVersion, value: '5.15.0-91-generic' },
    { name: ENV.sourceUrl, value: 'https://mirror.example/gtp5g-v0.9.12a.tgz' },
    { name: ENV.sourceSha256, value: 'a'.repeat(64) },
    { name: ENV.action, value: 'unload' }
  ])
  t.same(c.args, ['unload'], 'the action is the command line too: no CMD of the image can turn an unload pod into an install')
  t.same(container.args, ['install'])
  t.equal(c.image, 'registry.example/installer:1')
  t.same(full.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%' } })
  t.notOk(container.env.some(e => e.name === ENV.kernelVersion), 'KERNEL_VERSION only when set')
  t.equal(container.image, CONFIG.installerImage)
})

t.test('spec.btf: GTP5G_BTF=true when asked for, nothing otherwise, so modules without it keep their template', async t => {
  const build = (spec: Record<string, unknown>): ReturnType<typeof buildDaemonSet> =>
    buildDaemonSet({ moduleName: 'sample', spec: specOf({ version: 'v0.9.14', ...spec }), config: CONFIG, action: 'install', excludedNodes: [] })
  const envOf = (built: ReturnType<typeof buildDaemonSet>): Container['env'] => ((built.daemonSet as unknown as DaemonSetShape).spec.template.spec.containers[0] as Container).env
  const withBtf = build({ btf: true })
  t.same(envOf(withBtf).filter(e => e.name === ENV.btf), [{ name: ENV.btf, value: 'true' }])
  t.same(envOf(withBtf).slice(0, -1), container.env, 'appended after the other variables')
  t.notOk(container.env.some(e => e.name === ENV.btf), 'absent by default')
  t.same(build({ btf: false }).daemonSet, sample.daemonSet, 'btf: false is the default: the same DaemonSet')
  t.not(withBtf.templateHash, sample.templateHash, 'turning btf on rolls the installer pods')
})

t.test('child names are DNS labels for any module name', async t => {
  for (const name of ['a', 'sample', 'upf.edge.site-1', 'x'.repeat(63), 'y'.repeat(253), `${'z'.repeat(46)}.a`]) {
    const built = buildDaemonSet({ moduleName: name, spec: specOf({ version: 'v0.9.14' }), config: CONFIG, action: 'install', excludedNodes: [] }).daemonSet as unknown as DaemonSetShape
    t.ok(isDnsLabel(built.metadata.name), `${name} → ${built.metadata.name}`)
    t.equal(built.metadata.name, daemonSetName(name))
    for (const value of Object.values(built.metadata.labels)) t.ok(value.length <= 63, 'label values fit')
  }
})

t.test('the template hash changes with the template and only with it', async t => {
  const again = buildDaemonSet({ moduleName: 'sample', spec: specOf({ version: 'v0.9.14' }), config: CONFIG, action: 'install', excludedNodes: [] })
  t.equal(again.templateHash, sample.templateHash)
  const bumped = buildDaemonSet({ moduleName: 'sample', spec: specOf({ version: 'v0.9.15' }), config: CONFIG, action: 'install', excludedNodes: [] })
  t.not(bumped.templateHash, sample.templateHash)
  const slower = buildDaemonSet({ moduleName: 'sample', spec: specOf({ version: 'v0.9.14', maxUnavailable: 3 }), config: CONFIG, action: 'install', excludedNodes: [] })
  t.equal(slower.templateHash, sample.templateHash, 'the rollout speed is not part of the pod template')
})
