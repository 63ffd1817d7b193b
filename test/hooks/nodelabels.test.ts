// The Node labels: a module's sync lists its installed nodes in per-shard ConfigMaps, and the
// Node decorator labels each node from its own shard's lists. One row per situation a node can
// be in, the round trip from a sync's status to the label (1,000 nodes, past the old 256 cap),
// and the shards' spread, which is what keeps a status write from re-syncing every node.
import t from 'tap'
import { LABEL_NODE_SHARD, LABEL_NODE_VERSION, nodeListName, nodeShard } from '../../contract/index.js'
import type { GTP5GModuleStatus } from '../../hooks/core/api.js'
import { sync } from '../../hooks/core/hooks.js'
import type { KubeObject } from '../../hooks/core/k8s.js'
import { CONFIGMAP_KEY, DAEMONSET_KEY, type NodeSyncRequest } from '../../hooks/core/metacontroller.js'
import { nodeCustomize, nodeListConfigMaps, nodeSync, nodeVersions } from '../../hooks/core/nodelabels.js'
import { buildApp } from '../../hooks/server/app.js'
import { CONFIG, controller, currentTemplateHash, DEFAULT_SPEC, gtp5gModule, type ModuleOptions, node, NOW, objectMap, pod, syncRequest } from '../support/hookfixtures.js'

const installedOn = (nodes: string[], extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ phase: 'Installed', version: 'v0.9.14', installed: nodes.length, desired: nodes.length, installedNodes: nodes, ...extra })

/** The ConfigMaps a module's sync would keep for this status, no rollout in flight (its spec's selector, the sample's by default). */
function listsOf (m: ModuleOptions): KubeObject[] {
  const module = gtp5gModule(m)
  const selector = (m.spec?.nodeSelector ?? DEFAULT_SPEC.nodeSelector) as Record<string, string>
  const status = (m.status ?? {}) as GTP5GModuleStatus
  const installed = status.installedNodes ?? []
  const tally = { desired: installed.length, nodes: installed, done: installed, failed: [], scheduled: installed.length, reached: installed }
  return nodeListConfigMaps(module, selector, nodeVersions(status, tally, []), CONFIG)
}

/** What Metacontroller sends the node's sync: the ConfigMaps of the node's shard, as the API server returns them. */
function requestWith (nodeName: string, lists: KubeObject[], labels: Record<string, string> = { 'gtp5g.gthulhu.io/enabled': 'true' }): NodeSyncRequest {
  const mine = lists.filter(l => (l.metadata as { labels: Record<string, string> }).labels[LABEL_NODE_SHARD] === nodeShard(nodeName))
  const related = {
    [CONFIGMAP_KEY]: Object.fromEntries(mine.map(l => {
      const meta = l.metadata as { name: string, namespace: string }
      return [`${meta.namespace}/${meta.name}`, { ...l, metadata: { ...meta, uid: `uid-${meta.name}`, resourceVersion: '77' } }]
    }))
  }
  return { controller, object: nodeObject(nodeName, labels), related }
}

function nodeObject (name: string, labels?: Record<string, string>): KubeObject & { metadata: { name: string } } {
  const n = node(name, labels)
  return { ...n, metadata: { ...n.metadata, name } }
}

const request = (nodeName: string, modules: ModuleOptions[], labels?: Record<string, string>): NodeSyncRequest =>
  requestWith(nodeName, modules.flatMap(listsOf), labels)

/** A node list whose data someone edited by hand (a key set to undefined is removed). */
function editedList (nodeName: string, data: Record<string, unknown>): KubeObject {
  const [list] = listsOf({ status: installedOn([nodeName]) })
  const edited = Object.entries({ ...(list?.data as Record<string, unknown>), ...data }).filter(([, v]) => v !== undefined)
  return { ...list, data: Object.fromEntries(edited) }
}

const rows: Array<{ name: string, req: NodeSyncRequest, want: string | null }> = [
  { name: 'installed there: labelled with the version', req: request('upf-1', [{ status: installedOn(['upf-1', 'upf-2']) }]), want: 'v0.9.14' },
  { name: 'installed elsewhere only: label removed', req: request('upf-3', [{ status: installedOn(['upf-1']) }]), want: null },
  { name: 'no module at all: label removed', req: request('upf-1', []), want: null },
  { name: 'module without status yet', req: request('upf-1', [{}]), want: null },
  { name: 'status from before status.version existed: no label (the next sync adds it)', req: request('upf-1', [{ status: { phase: 'Installed', installedNodes: ['upf-1'] } }]), want: null },
  { name: 'unloading: no list, label removed', req: request('upf-1', [{ status: installedOn(['upf-1'], { phase: 'Unloading' }) }]), want: null },
  { name: 'failed elsewhere, installed here: still labelled', req: request('upf-1', [{ status: installedOn(['upf-1'], { phase: 'Failed' }) }]), want: 'v0.9.14' },
  { name: 'node deselected (selector label gone): removed before the module resyncs', req: request('upf-1', [{ status: installedOn(['upf-1']) }], {}), want: null },
  {
    name: 'custom selector matched',
    req: request('upf-1', [{ spec: { ...DEFAULT_SPEC, version: 'v0.9.15', nodeSelector: { role: 'upf' } }, status: installedOn(['upf-1'], { version: 'v0.9.15' }) }], { role: 'upf' }),
    want: 'v0.9.15'
  },
  {
    name: 'two modules list the node (a moment of overlap): the older one wins',
    req: request('upf-1', [
      { name: 'newer', created: '2026-11-20T09:10:00Z', status: installedOn(['upf-1'], { version: 'v0.9.15' }) },
      { name: 'older', created: '2026-11-20T09:00:00Z', status: installedOn(['upf-1'], { version: 'v0.9.13' }) }
    ]),
    want: 'v0.9.13'
  },
  { name: 'a version that is no valid label value is never written', req: request('upf-1', [{ status: installedOn(['upf-1'], { version: 'v0.9.14 ; rm' }) }]), want: null },
  { name: 'a list edited by hand: a selector that is not JSON', req: requestWith('upf-1', [editedList('upf-1', { nodeSelector: '{role' })]), want: null },
  { name: 'a list edited by hand: a selector value that is not a string', req: requestWith('upf-1', [editedList('upf-1', { nodeSelector: '{"gtp5g.gthulhu.io/enabled":true}' })]), want: null },
  { name: 'a list edited by hand: no nodes key', req: requestWith('upf-1', [editedList('upf-1', { 'nodes.v0.9.14': undefined })]), want: null },
  { name: 'a list edited by hand: a name that only starts like this node', req: requestWith('upf-1', [editedList('upf-1', { 'nodes.v0.9.14': 'upf-10\nupf-1x' })]), want: null },
  { name: 'a list edited by hand: a nodes key of no valid version', req: requestWith('upf-1', [editedList('upf-1', { 'nodes.v0.9.14': undefined, 'nodes.latest': 'upf-1' })]), want: null },
  { name: 'a list edited by hand: the node under two versions, the first in key order wins', req: requestWith('upf-1', [editedList('upf-1', { 'nodes.v0.9.13': 'upf-1' })]), want: 'v0.9.13' }
]

for (const row of rows) {
  t.test(row.name, async t => {
    const res = nodeSync(row.req)
    t.same(res, { labels: { [LABEL_NODE_VERSION]: row.want }, attachments: [] }, 'only our key, set or null; no status, so the node\'s own is left alone')
    t.same(nodeSync(row.req), res, 'deterministic')
  })
}

t.test('customize relates only the node lists of the node\'s own shard, in the installer namespace (no modules, no pods)', async t => {
  const res = nodeCustomize({ controller, parent: nodeObject('upf-1') }, CONFIG)
  t.same(res, {
    relatedResources: [{ apiVersion: 'v1', resource: 'configmaps', namespace: CONFIG.targetNamespace, labelSelector: { matchLabels: { [LABEL_NODE_SHARD]: nodeShard('upf-1') } } }]
  })
  t.not(nodeShard('upf-1'), nodeShard('upf-2'), 'neighbouring names land in different shards here')
})

t.test('node names spread over all 256 shards: a list holds about nodes/256 names', async t => {
  const counts = new Map<string, number>()
  for (let i = 0; i < 10_000; i++) {
    const shard = nodeShard(`ip-10-0-${Math.floor(i / 250)}-${i % 250}.ec2.internal`)
    counts.set(shard, (counts.get(shard) ?? 0) + 1)
  }
  t.equal(counts.size, 256)
  const sizes = [...counts.values()]
  t.ok(Math.max(...sizes) < 3 * 10_000 / 256, `largest shard ${Math.max(...sizes)} of a mean ${10_000 / 256}`)
})

t.test('sync keeps one list per shard with installed nodes; each of 1,000 nodes (past the old 256 cap) is labelled from its shard alone', async t => {
  const names = Array.from({ length: 1000 }, (_, i) => `upf-${String(i).padStart(4, '0')}`)
  const hash = currentTemplateHash()
  const res = sync(syncRequest({ nodes: names.map(n => node(n)), pods: names.map(n => pod(n, hash, 'ready', 'sample', n)) }), CONFIG, NOW)
  t.equal(res.status.phase, 'Installed')
  t.equal(res.status.installedNodes?.length, 1000)
  const lists = res.children.filter(c => c.kind === 'ConfigMap')
  t.ok(lists.length > 200 && lists.length <= 256, `${lists.length} lists`)
  t.same(lists.map(l => (l.metadata as { name: string }).name), [...lists.map(l => (l.metadata as { name: string }).name)].sort(), 'in a stable order')
  for (const list of lists) {
    const meta = list.metadata as { name: string, namespace: string, labels: Record<string, string> }
    const shard = meta.labels[LABEL_NODE_SHARD] ?? ''
    t.equal(meta.name, nodeListName('sample', shard))
    t.equal(meta.namespace, CONFIG.targetNamespace)
    t.same(Object.keys(list.data as Record<string, string>), ['module', 'created', 'nodeSelector', 'nodes.v0.9.14'], `${meta.name}: one version, one key`)
    const nodes = String((list.data as Record<string, string>)['nodes.v0.9.14']).split('\n')
    if (!nodes.every(n => nodeShard(n) === shard)) t.fail(`${meta.name} lists a node of another shard`)
  }
  const labelled = names.filter(n => nodeSync(requestWith(n, lists)).labels[LABEL_NODE_VERSION] === 'v0.9.14')
  t.equal(labelled.length, 1000, 'every node gets its label')
  t.same(sync(syncRequest({ nodes: names.map(n => node(n)), pods: names.map(n => pod(n, hash, 'ready', 'sample', n)) }), CONFIG, NOW).children, res.children, 'the same answer twice: no diff for Metacontroller')
})

t.test('one more node installed changes one list only: only that shard\'s nodes re-sync', async t => {
  const names = Array.from({ length: 300 }, (_, i) => `upf-${i}`)
  const before = listsOf({ status: installedOn(names) })
  const after = listsOf({ status: installedOn([...names, 'upf-new']) })
  const changed = after.filter(a => !before.some(b => JSON.stringify(b) === JSON.stringify(a)))
  t.equal(changed.length, 1)
  t.equal((changed[0]?.metadata as { labels: Record<string, string> }).labels[LABEL_NODE_SHARD], nodeShard('upf-new'))
})

/** The node lists of a sync's answer. */
const configMaps = (res: { children: KubeObject[] }): KubeObject[] => res.children.filter(c => c.kind === 'ConfigMap')

/** The label each node gets from these lists. */
const labelsFrom = (names: readonly string[], lists: KubeObject[]): Record<string, string | null> =>
  Object.fromEntries(names.map(n => [n, nodeSync(requestWith(n, lists)).labels[LABEL_NODE_VERSION] ?? null]))

t.test('a version rollout: a node keeps the old version until its new installer is ready, so its list changes once', async t => {
  const names = Array.from({ length: 40 }, (_, i) => `upf-${i}`)
  const nodes = names.map(n => node(n))
  const old = gtp5gModule({ spec: { ...DEFAULT_SPEC, version: 'v0.9.13' } })
  const oldHash = currentTemplateHash({ parent: old })
  const steady = sync(syncRequest({ parent: old, nodes, pods: names.map(n => pod(n, oldHash, 'ready', 'sample', n)) }), CONFIG, NOW)
  const before = configMaps(steady)
  t.same(Object.values(labelsFrom(names, before)), names.map(() => 'v0.9.13'))

  const upgraded = gtp5gModule({ spec: { ...DEFAULT_SPEC, version: 'v0.9.14' }, status: steady.status as Record<string, unknown> })
  const newHash = currentTemplateHash({ parent: upgraded })
  t.not(newHash, oldHash, 'the version is in the template')
  const syncAt = (pods: ReturnType<typeof pod>[], lists: KubeObject[], selected = nodes): ReturnType<typeof sync> => {
    const req = syncRequest({ parent: upgraded, nodes: selected, pods })
    req.children = { ...req.children, [CONFIGMAP_KEY]: objectMap(lists) }
    return sync(req, CONFIG, NOW)
  }
  const oldPods = (from: number): Array<ReturnType<typeof pod>> => names.slice(from).map(n => pod(n, oldHash, 'ready', 'sample', n))

  // Under way: upf-0's old pod is gone and its new one is building, upf-1 has no pod at all.
  const started = syncAt([pod('upf-0', newHash, 'creating', 'sample', 'new0'), ...oldPods(2)], before)
  t.equal(started.status.installed, 0, 'the status counts the new version only')
  t.equal(started.status.version, 'v0.9.14')
  t.same(configMaps(started), before, 'no list changes: no node is re-synced, every node keeps v0.9.13')

  // upf-0's new installer is ready: only its shard's list changes, and it moves to v0.9.14.
  const one = syncAt([pod('upf-0', newHash, 'ready', 'sample', 'new0'), ...oldPods(2)], configMaps(started))
  const changed = configMaps(one).filter(l => !before.some(b => JSON.stringify(b) === JSON.stringify(l)))
  t.same(changed.map(l => (l.metadata as { labels: Record<string, string> }).labels[LABEL_NODE_SHARD]), [nodeShard('upf-0')])
  const labels = labelsFrom(names, configMaps(one))
  t.equal(labels['upf-0'], 'v0.9.14')
  t.same(names.slice(1).map(n => labels[n]), names.slice(1).map(() => 'v0.9.13'), 'the others keep the old one')

  // upf-2's new installer fails, upf-3 leaves the module's selector: both lose their label.
  const selected = nodes.filter(n => n.metadata?.name !== 'upf-3')
  const worse = syncAt([pod('upf-0', newHash, 'ready', 'sample', 'new0'), pod('upf-2', newHash, { crashed: 'ModuleInUse', message: 'gtp5g v0.9.13 is in use (refcount 1)' }, 'sample', 'new2'), ...oldPods(3)], configMaps(one), selected)
  const after = labelsFrom(names, configMaps(worse))
  t.same([after['upf-0'], after['upf-1'], after['upf-2'], after['upf-3'], after['upf-4']], ['v0.9.14', 'v0.9.13', null, null, 'v0.9.13'])

  // Rolled out everywhere: the lists are those of a fresh install at v0.9.14, one key each.
  const done = syncAt(names.map(n => pod(n, newHash, 'ready', 'sample', `new-${n}`)), configMaps(worse))
  const fresh = sync(syncRequest({ parent: upgraded, nodes, pods: names.map(n => pod(n, newHash, 'ready', 'sample', `new-${n}`)) }), CONFIG, NOW)
  t.same(configMaps(done), configMaps(fresh))
  t.same(Object.values(labelsFrom(names, configMaps(done))), names.map(() => 'v0.9.14'))
})

t.test('a node listed at the current version whose current installer is not ready (a reboot) loses its label', async t => {
  const hash = currentTemplateHash()
  const ok = sync(syncRequest({ nodes: [node('upf-1'), node('upf-2')], pods: [pod('upf-1', hash, 'ready', 'sample', 'a'), pod('upf-2', hash, 'ready', 'sample', 'b')] }), CONFIG, NOW)
  const req = syncRequest({ parent: gtp5gModule({ status: ok.status as Record<string, unknown> }), nodes: [node('upf-1'), node('upf-2')], pods: [pod('upf-1', hash, 'running', 'sample', 'a'), pod('upf-2', hash, 'ready', 'sample', 'b')] })
  req.children = { ...req.children, [CONFIGMAP_KEY]: objectMap(configMaps(ok)) }
  const rebooted = sync(req, CONFIG, NOW)
  t.same(labelsFrom(['upf-1', 'upf-2'], configMaps(rebooted)), { 'upf-1': null, 'upf-2': 'v0.9.14' })
})

t.test('finalizing: installedNodes names the nodes still loaded, yet no list is kept, so their labels leave at once', async t => {
  const hash = currentTemplateHash()
  const res = sync(syncRequest({ nodes: [node('upf-1')], pods: [pod('upf-1', hash, 'ready')], finalizing: true }), CONFIG, NOW)
  t.equal(res.status.phase, 'Unloading')
  t.same(res.status.installedNodes, ['upf-1'])
  t.same(res.children.filter(c => c.kind === 'ConfigMap'), [], 'Metacontroller deletes the lists')
})

t.test('an invalid spec keeps the lists that exist: labels do not flap on a typo', async t => {
  const hash = currentTemplateHash()
  const ok = sync(syncRequest({ nodes: [node('upf-1')], pods: [pod('upf-1', hash, 'ready')] }), CONFIG, NOW)
  const lists = ok.children.filter(c => c.kind === 'ConfigMap')
  t.equal(lists.length, 1)
  const req = syncRequest({ parent: gtp5gModule({ spec: { ...DEFAULT_SPEC, version: 'not-a-version' } }), nodes: [node('upf-1')], pods: [pod('upf-1', hash, 'ready')] })
  req.children = { [DAEMONSET_KEY]: {}, [CONFIGMAP_KEY]: Object.fromEntries(lists.map(l => [`${CONFIG.targetNamespace}/${(l.metadata as { name: string }).name}`, l])) }
  const refused = sync(req, CONFIG, NOW)
  t.equal(refused.status.conditions?.find(c => c.type === 'Ready')?.reason, 'InvalidSpec')
  t.same(refused.children.filter(c => c.kind === 'ConfigMap'), lists)
})

t.test('without the Node decorator (nodeLabels off) no list is kept', async t => {
  const hash = currentTemplateHash()
  const res = sync(syncRequest({ nodes: [node('upf-1')], pods: [pod('upf-1', hash, 'ready')] }), { ...CONFIG, nodeLabels: false }, NOW)
  t.equal(res.status.installed, 1)
  t.same(res.children.map(c => c.kind), ['DaemonSet'])
})

t.test('HTTP: /node-customize and /node-sync answer Metacontroller\'s DecoratorController envelope', async t => {
  const { app } = buildApp({ hooks: CONFIG, bodyLimit: 1024 * 1024, logLevel: 'silent', now: () => NOW })
  t.teardown(async () => await app.close())
  const post = async (url: string, payload: unknown): Promise<{ statusCode: number, json: () => any }> =>
    await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) })
  const custom = await post('/node-customize', { controller, parent: nodeObject('upf-1') })
  t.equal(custom.statusCode, 200)
  t.same(custom.json(), nodeCustomize({ controller, parent: nodeObject('upf-1') }, CONFIG))
  const body = { ...request('upf-1', [{ status: installedOn(['upf-1']) }]), attachments: null, finalizing: false }
  const ok = await post('/node-sync', body)
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { labels: { [LABEL_NODE_VERSION]: 'v0.9.14' }, attachments: [] })
  const bad = await post('/node-sync', { controller, parent: nodeObject('upf-1') })
  t.equal(bad.statusCode, 400, 'a CompositeController body is not a decorator request')
  t.match(bad.json(), { field: 'object' })
  const metrics = (await app.inject({ url: '/metrics' })).body
  const bytes = Number(/gtp5g_hook_request_bytes_total\{hook="node-sync"\} (\d+)/.exec(metrics)?.[1])
  const sent = JSON.stringify(body).length + JSON.stringify({ controller, parent: nodeObject('upf-1') }).length
  t.equal(bytes, sent, 'request bytes are counted per hook: both node-sync bodies')
})
