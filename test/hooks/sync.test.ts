// The sync hook end to end through the pure core: status, determinism, invalid specs, caps.
import t from 'tap'
import { LABEL_TEMPLATE_HASH } from '../../contract/index.js'
import { sync } from '../../hooks/core/hooks.js'
import type { Condition, GTP5GModuleStatus } from '../../hooks/core/api.js'
import { CONFIG, currentTemplateHash, gtp5gModule, LATER, node, NOW, observedDaemonSet, pod, syncRequest } from '../support/hookfixtures.js'

const cond = (status: GTP5GModuleStatus, type: string): Condition | undefined => status.conditions?.find(c => c.type === type)

t.test('phase and counts follow the pods', async t => {
  const nodes = [node('node-a'), node('node-b'), node('node-c')]
  const hash = currentTemplateHash({ nodes })
  const rows: Array<{ name: string, states: Array<Parameters<typeof pod>[2] | undefined>, phase: string, installed: number, failed: number, ready: string }> = [
    { name: 'nothing scheduled', states: [undefined, undefined, undefined], phase: 'Pending', installed: 0, failed: 0, ready: 'False' },
    { name: 'one of three ready', states: ['ready', 'running', 'creating'], phase: 'Installing', installed: 1, failed: 0, ready: 'False' },
    { name: 'all ready', states: ['ready', 'ready', 'ready'], phase: 'Installed', installed: 3, failed: 0, ready: 'True' },
    { name: 'one failed', states: ['ready', { crashed: 'KernelHeadersMissing', message: 'no /lib/modules/5.15.0-91-generic/build' }, 'ready'], phase: 'Failed', installed: 2, failed: 1, ready: 'False' }
  ]
  for (const row of rows) {
    const pods = row.states.flatMap((s, i) => s === undefined ? [] : [pod(nodes[i]?.metadata?.name ?? '', hash, s)])
    const { status, children } = sync(syncRequest({ nodes, pods }), CONFIG, NOW)
    t.equal(status.phase, row.phase, `${row.name}: phase`)
    t.equal(status.desired, 3, `${row.name}: desired`)
    t.equal(status.installed, row.installed, `${row.name}: installed`)
    t.equal(status.failed, row.failed, `${row.name}: failed`)
    t.equal(cond(status, 'Ready')?.status, row.ready, `${row.name}: Ready`)
    t.same(children.filter(c => c.kind !== 'ConfigMap').map(c => c.kind), ['DaemonSet'], `${row.name}: one DaemonSet`)
    t.equal(children.filter(c => c.kind === 'ConfigMap').length, row.installed, `${row.name}: a node list per installed node (three nodes, three shards)`)
  }
})

t.test('failed nodes say why, sorted by node', async t => {
  const nodes = [node('node-b'), node('node-a')]
  const hash = currentTemplateHash({ nodes })
  const pods = [
    pod('node-b', hash, { crashed: 'BuildFailed', message: 'make: *** [Makefile:24: gtp5g.o] Error 1' }),
    pod('node-a', hash, { waiting: 'ImagePullBackOff', message: 'Back-off pulling image' })
  ]
  const { status } = sync(syncRequest({ nodes, pods }), CONFIG, NOW)
  t.same(status.failedNodes, [
    { nodeName: 'node-a', reason: 'ImagePullBackOff', message: 'Back-off pulling image' },
    { nodeName: 'node-b', reason: 'BuildFailed', message: 'make: *** [Makefile:24: gtp5g.o] Error 1' }
  ])
  t.equal(cond(status, 'Degraded')?.status, 'True')
  t.equal(cond(status, 'Degraded')?.reason, 'NodesFailed')
  t.match(status.message, /failed on 2 of 2 node\(s\): node-a \(ImagePullBackOff\), node-b \(BuildFailed\)/)
})

t.test('a version bump: pods of the old template are not counted as installed', async t => {
  const nodes = [node('node-a'), node('node-b')]
  const oldHash = currentTemplateHash({ nodes })
  const bumped = gtp5gModule({ generation: 2, spec: { ...gtp5gModule().spec as object, version: 'v0.9.15' } })
  const newHash = currentTemplateHash({ nodes, parent: bumped })
  t.not(newHash, oldHash, 'a new version is a new template')
  const pods = [pod('node-a', newHash, 'ready', 'sample', 'new01'), pod('node-b', oldHash, 'ready', 'sample', 'old01')]
  const { status } = sync(syncRequest({ nodes, pods, parent: bumped }), CONFIG, NOW)
  t.equal(status.phase, 'Installing')
  t.equal(status.installed, 1)
  t.same(status.installedNodes, ['node-a'])
  t.equal(cond(status, 'Progressing')?.status, 'True')
})

t.test('nodes outside the selector or with untolerated taints are not desired', async t => {
  const nodes = [
    node('node-a'),
    node('node-off', { 'gtp5g.gthulhu.io/enabled': 'false' }),
    node('node-tainted', undefined, [{ key: 'upf', value: 'true', effect: 'NoSchedule' }]),
    node('node-cordoned', undefined, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }])
  ]
  t.equal(sync(syncRequest({ nodes }), CONFIG, NOW).status.desired, 2, 'DaemonSets tolerate cordoned nodes themselves')
  const tolerant = gtp5gModule({ spec: { version: 'v0.9.14', tolerations: [{ key: 'upf', operator: 'Exists' }] } })
  t.equal(sync(syncRequest({ nodes, parent: tolerant }), CONFIG, NOW).status.desired, 3)
})

t.test('no matching node: Pending, and it says so', async t => {
  const { status } = sync(syncRequest({ nodes: [] }), CONFIG, NOW)
  t.equal(status.phase, 'Pending')
  t.equal(cond(status, 'Ready')?.reason, 'NoMatchingNodes')
  t.equal(status.message, 'No node matches spec.nodeSelector.')
})

t.test('failedNodes is capped at 256, installedNodes is complete (the node labels need every name), counts stay exact', async t => {
  const nodes = Array.from({ length: 600 }, (_, i) => node(`node-${String(i).padStart(4, '0')}`))
  const hash = currentTemplateHash({ nodes })
  const pods = nodes.map((n, i) => pod(n.metadata?.name ?? '', hash, i < 300 ? 'ready' : { crashed: 'LoadFailed', message: 'insmod: ERROR' }))
  const { status } = sync(syncRequest({ nodes, pods }), CONFIG, NOW)
  t.equal(status.desired, 600)
  t.equal(status.installed, 300)
  t.equal(status.failed, 300)
  t.equal(status.installedNodes?.length, 300)
  t.equal(status.failedNodes?.length, 256)
  t.equal(status.installedNodes?.[0], 'node-0000')
  t.equal(status.failedNodes?.[0]?.nodeName, 'node-0300')
})

t.test('determinism: the same request gives byte-identical answers, whatever the clock', async t => {
  const nodes = [node('node-a'), node('node-b')]
  const hash = currentTemplateHash({ nodes })
  const pods = [pod('node-a', hash, 'ready'), pod('node-b', hash, 'running')]
  const first = sync(syncRequest({ nodes, pods }), CONFIG, NOW)
  // Metacontroller writes that status; the next sync sees it as parent.status.
  const parent = gtp5gModule({ status: structuredClone(first.status) as Record<string, unknown> })
  const second = sync(syncRequest({ nodes, pods, parent }), CONFIG, LATER)
  const third = sync(syncRequest({ nodes, pods, parent }), CONFIG, new Date('2027-01-01T00:00:00Z'))
  t.equal(JSON.stringify(second), JSON.stringify(first), 'steady state: nothing moves, not even timestamps')
  t.equal(JSON.stringify(third), JSON.stringify(second))
})

t.test('timestamps move only with what they describe', async t => {
  const nodes = [node('node-a')]
  const hash = currentTemplateHash({ nodes })
  const installing = sync(syncRequest({ nodes, pods: [pod('node-a', hash, 'running')] }), CONFIG, NOW).status
  const parent = gtp5gModule({ status: structuredClone(installing) as Record<string, unknown> })
  const installed = sync(syncRequest({ nodes, pods: [pod('node-a', hash, 'ready')], parent }), CONFIG, LATER).status
  t.equal(cond(installed, 'Ready')?.lastTransitionTime, '2026-11-20T10:05:00Z', 'Ready flipped: stamped now')
  t.equal(cond(installed, 'Progressing')?.lastTransitionTime, '2026-11-20T10:05:00Z', 'Progressing flipped')
  t.equal(cond(installed, 'Degraded')?.lastTransitionTime, '2026-11-20T10:00:00Z', 'Degraded stayed False: its time is kept')
  t.equal(installed.lastUpdateTime, '2026-11-20T10:05:00Z')
  t.equal(installing.lastUpdateTime, '2026-11-20T10:00:00Z')
})

t.test('observedGeneration in status written by Metacontroller does not count as a change', async t => {
  const nodes = [node('node-a')]
  const first = sync(syncRequest({ nodes }), CONFIG, NOW).status
  const parent = gtp5gModule({ status: { ...structuredClone(first), observedGeneration: 1 } as Record<string, unknown> })
  t.equal(sync(syncRequest({ nodes, parent }), CONFIG, LATER).status.lastUpdateTime, first.lastUpdateTime)
})

t.test('invalid spec: 200-style answer, observed children unchanged, Degraded=InvalidSpec naming the field', async t => {
  const nodes = [node('node-a')]
  const good = sync(syncRequest({ nodes }), CONFIG, NOW)
  const observed = observedDaemonSet(good.children[0] ?? {}, { someFieldFromTheFuture: { keep: 'me' } })
  const previous = structuredClone(good.status) as Record<string, unknown>
  const bad = gtp5gModule({ generation: 3, spec: { version: 'latest' }, status: previous })
  const res = sync(syncRequest({ nodes, parent: bad, children: [observed] }), CONFIG, LATER)
  t.equal(res.children.length, 1, 'the running DaemonSet is kept')
  const kept = res.children[0] as { spec: unknown, metadata: Record<string, unknown> }
  t.same(kept.spec, (observed as { spec: unknown }).spec, 'spec unchanged, unknown fields included')
  t.same(kept.metadata.labels, observed.metadata?.labels)
  t.equal(kept.metadata.name, 'gtp5g-installer-sample')
  const degraded = cond(res.status, 'Degraded')
  t.equal(degraded?.status, 'True')
  t.equal(degraded?.reason, 'InvalidSpec')
  t.match(degraded?.message, /^spec\.version: must match \^v/)
  t.equal(degraded?.observedGeneration, 3)
  t.equal(res.status.phase, good.status.phase, 'what was observed before stays')
})

t.test('invalid spec with the last-applied annotation returns exactly what was last applied', async t => {
  const good = sync(syncRequest({ nodes: [node('node-a')] }), CONFIG, NOW).children[0] ?? {}
  const observed = observedDaemonSet(good)
  observed.metadata = { ...observed.metadata, annotations: { 'metacontroller.k8s.io/last-applied-configuration': JSON.stringify(good) } }
  const res = sync(syncRequest({ parent: gtp5gModule({ spec: { version: 'v1', maxUnavailable: -2 } }), children: [observed] }), CONFIG, NOW)
  t.same(res.children, [good])
})

t.test('missing spec and wrong types are invalid specs too, never fewer children', async t => {
  const observed = observedDaemonSet(sync(syncRequest({ nodes: [node('node-a')] }), CONFIG, NOW).children[0] ?? {})
  const rows: Array<[unknown, RegExp]> = [
    [undefined, /^spec: must be an object/],
    [{ version: 'v0.9.14', nodeSelector: { a: 1 } }, /^spec\.nodeSelector\.a: must be a string$/],
    // A label key of digits is a key, not an index.
    [{ version: 'v0.9.14', nodeSelector: { 0: 1 } }, /^spec\.nodeSelector\.0: must be a string$/],
    [{ version: 'v0.9.14', tolerations: [{ operator: 'Sometimes' }] }, /^spec\.tolerations\[0\]\.operator: must be one of Exists, Equal$/],
    [{ version: 'v0.9.14', maxUnavailable: '150%' }, /^spec\.maxUnavailable: must be a positive integer or a percentage/],
    [{ version: 'v0.9.14', source: { url: 'ftp://x' } }, /^spec\.source\.url: must match \^\(https\?\|file\)/],
    [{}, /^spec\.version: required$/]
  ]
  for (const [spec, message] of rows) {
    const parent = gtp5gModule()
    parent.spec = spec
    const res = sync(syncRequest({ parent, children: [observed] }), CONFIG, NOW)
    t.equal(res.children.length, 1, `${JSON.stringify(spec)}: child kept`)
    t.match(cond(res.status, 'Degraded')?.message, message, JSON.stringify(spec))
  }
})

t.test('the DaemonSet carries the template hash its pods are compared with: a function of the pod template alone', async t => {
  type Ds = { spec: { template: { metadata: { labels: Record<string, string> } } } }
  const hashOf = (spec: Record<string, unknown>, now = NOW): string | undefined =>
    (sync(syncRequest({ nodes: [node('node-a')], parent: gtp5gModule({ spec }) }), CONFIG, now).children[0] as Ds).spec.template.metadata.labels[LABEL_TEMPLATE_HASH]
  const base = hashOf({ version: 'v0.9.14' })
  t.match(base, /^[0-9a-f]{10}$/)
  t.equal(hashOf({ version: 'v0.9.14' }, LATER), base, 'the same spec at another time: the same hash')
  t.equal(hashOf({ version: 'v0.9.14', maxUnavailable: 3 }), base, 'a rollout setting outside the pod template keeps it')
  t.not(hashOf({ version: 'v0.9.15' }), base, 'another version (an env of the pod) changes it')
  t.not(hashOf({ version: 'v0.9.14', tolerations: [{ operator: 'Exists' }] }), base, 'another toleration (pod spec) changes it')
})

t.test('invalid spec: a last-applied annotation that describes another object is not trusted', async t => {
  const good = sync(syncRequest({ nodes: [node('node-a')] }), CONFIG, NOW).children[0] ?? {}
  const bad = gtp5gModule({ spec: { version: 'latest' } })
  const strangers: Array<[string, Record<string, unknown>]> = [
    ['another kind', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'gtp5g-installer-sample' }, roleRef: { kind: 'ClusterRole', name: 'cluster-admin' } }],
    ['another name', { ...good, metadata: { ...(good.metadata ?? {}), name: 'someone-else' } }],
    ['another namespace', { ...good, metadata: { ...(good.metadata ?? {}), namespace: 'kube-system' } }],
    ['no metadata', { apiVersion: 'apps/v1', kind: 'DaemonSet' }]
  ]
  for (const [what, stranger] of strangers) {
    const observed = observedDaemonSet(good)
    observed.metadata = { ...observed.metadata, annotations: { 'metacontroller.k8s.io/last-applied-configuration': JSON.stringify(stranger) } }
    const res = sync(syncRequest({ parent: bad, children: [observed] }), CONFIG, NOW)
    const kept = res.children[0] as { apiVersion: string, kind: string, metadata: Record<string, unknown>, spec: unknown }
    t.match(kept, { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'gtp5g-installer-sample', namespace: CONFIG.targetNamespace } }, `${what}: the observed DaemonSet itself`)
    t.same(kept.spec, (observed as { spec: unknown }).spec, `${what}: its observed spec`)
    t.notOk('resourceVersion' in kept.metadata, `${what}: minus the fields the API server owns`)
  }
})
