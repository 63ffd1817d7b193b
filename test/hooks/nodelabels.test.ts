// The Node decorator's hooks: one row per situation a node can be in, the label they answer,
// and the round trip from a sync's status to the node label (installedNodes complete past 256).
import t from 'tap'
import { LABEL_NODE_VERSION } from '../../contract/index.js'
import { sync } from '../../hooks/core/hooks.js'
import { MODULE_KEY, type NodeSyncRequest } from '../../hooks/core/metacontroller.js'
import { nodeCustomize, nodeSync } from '../../hooks/core/nodelabels.js'
import { buildApp } from '../../hooks/server/app.js'
import { CONFIG, controller, currentTemplateHash, gtp5gModule, type ModuleOptions, node, NOW, pod, syncRequest } from '../support/hookfixtures.js'

const installedOn = (nodes: string[], extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ phase: 'Installed', version: 'v0.9.14', installed: nodes.length, desired: nodes.length, installedNodes: nodes, ...extra })

function request (nodeName: string, modules: ModuleOptions[], labels: Record<string, string> = { 'gtp5g.gthulhu.io/enabled': 'true' }): NodeSyncRequest {
  const related: Record<string, Record<string, ReturnType<typeof gtp5gModule>>> = { [MODULE_KEY]: {} }
  for (const m of modules) {
    const module = gtp5gModule(m)
    ;(related[MODULE_KEY] as Record<string, unknown>)[module.metadata.name] = module
  }
  const n = node(nodeName, labels)
  return { controller, object: { ...n, metadata: { ...n.metadata, name: nodeName } }, related }
}

const rows: Array<{ name: string, req: NodeSyncRequest, want: string | null }> = [
  { name: 'installed there: labelled with the version', req: request('upf-1', [{ status: installedOn(['upf-1', 'upf-2']) }]), want: 'v0.9.14' },
  { name: 'installed elsewhere only: label removed', req: request('upf-3', [{ status: installedOn(['upf-1']) }]), want: null },
  { name: 'no module at all: label removed', req: request('upf-1', []), want: null },
  { name: 'module without status yet', req: request('upf-1', [{}]), want: null },
  { name: 'status from before status.version existed: no label (the next sync adds it)', req: request('upf-1', [{ status: { phase: 'Installed', installedNodes: ['upf-1'] } }]), want: null },
  { name: 'module being deleted: label removed at once', req: request('upf-1', [{ status: installedOn(['upf-1']), deletionTimestamp: '2026-11-20T09:30:00Z' }]), want: null },
  { name: 'unloading: label removed', req: request('upf-1', [{ status: installedOn(['upf-1'], { phase: 'Unloading' }) }]), want: null },
  { name: 'failed elsewhere, installed here: still labelled', req: request('upf-1', [{ status: installedOn(['upf-1'], { phase: 'Failed' }) }]), want: 'v0.9.14' },
  { name: 'node deselected (selector label gone): removed before the module resyncs', req: request('upf-1', [{ status: installedOn(['upf-1']) }], {}), want: null },
  {
    name: 'custom selector matched',
    req: request('upf-1', [{ spec: { version: 'v0.9.15', nodeSelector: { role: 'upf' } }, status: installedOn(['upf-1'], { version: 'v0.9.15' }) }], { role: 'upf' }),
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
  { name: 'installedNodes of the wrong type', req: request('upf-1', [{ status: installedOn(['upf-1'], { installedNodes: 'upf-1' }) }]), want: null }
]

for (const row of rows) {
  t.test(row.name, async t => {
    const res = nodeSync(row.req)
    t.same(res, { labels: { [LABEL_NODE_VERSION]: row.want }, attachments: [] }, 'only our key, set or null; no status, so the node\'s own is left alone')
    t.same(nodeSync(row.req), res, 'deterministic')
  })
}

t.test('customize relates every module and nothing else (no pods: N nodes would each get N pods)', async t => {
  t.same(nodeCustomize(), { relatedResources: [{ apiVersion: 'operator.gthulhu.io/v1alpha1', resource: 'gtp5gmodules' }] })
})

t.test('sync lists every installed node (1,000, past the old 256 cap) with the version, and each is labelled', async t => {
  const names = Array.from({ length: 1000 }, (_, i) => `upf-${String(i).padStart(4, '0')}`)
  const hash = currentTemplateHash()
  const res = sync(syncRequest({ nodes: names.map(n => node(n)), pods: names.map(n => pod(n, hash, 'ready', 'sample', n)) }), CONFIG, NOW)
  t.equal(res.status.phase, 'Installed')
  t.equal(res.status.version, 'v0.9.14')
  t.equal(res.status.installedNodes?.length, 1000)
  const labelled = names.filter(n => nodeSync(request(n, [{ status: res.status as Record<string, unknown> }])).labels[LABEL_NODE_VERSION] === 'v0.9.14')
  t.equal(labelled.length, 1000, 'every node gets its label from the status alone')
})

t.test('finalizing: installedNodes names the nodes still loaded, yet their labels leave at once (Unloading)', async t => {
  const hash = currentTemplateHash()
  const res = sync(syncRequest({ nodes: [node('upf-1')], pods: [pod('upf-1', hash, 'ready')], finalizing: true }), CONFIG, NOW)
  t.equal(res.status.phase, 'Unloading')
  t.same(res.status.installedNodes, ['upf-1'])
  t.same(nodeSync(request('upf-1', [{ status: res.status as Record<string, unknown> }])).labels, { [LABEL_NODE_VERSION]: null })
})

t.test('HTTP: /node-customize and /node-sync answer Metacontroller\'s DecoratorController envelope', async t => {
  const { app } = buildApp({ hooks: CONFIG, bodyLimit: 1024 * 1024, logLevel: 'silent', now: () => NOW })
  t.teardown(async () => await app.close())
  const post = async (url: string, payload: unknown): Promise<{ statusCode: number, json: () => any }> =>
    await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) })
  const custom = await post('/node-customize', { controller, parent: node('upf-1') })
  t.equal(custom.statusCode, 200)
  t.same(custom.json(), nodeCustomize())
  const ok = await post('/node-sync', { ...request('upf-1', [{ status: installedOn(['upf-1']) }]), attachments: null, finalizing: false })
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { labels: { [LABEL_NODE_VERSION]: 'v0.9.14' }, attachments: [] })
  const bad = await post('/node-sync', { controller, parent: node('upf-1') })
  t.equal(bad.statusCode, 400, 'a CompositeController body is not a decorator request')
  t.match(bad.json(), { field: 'object' })
  const metrics = (await app.inject({ url: '/metrics' })).body
  const bytes = Number(/gtp5g_hook_request_bytes_total\{hook="node-sync"\} (\d+)/.exec(metrics)?.[1])
  const sent = JSON.stringify({ ...request('upf-1', [{ status: installedOn(['upf-1']) }]), attachments: null, finalizing: false }).length + JSON.stringify({ controller, parent: node('upf-1') }).length
  t.equal(bytes, sent, 'request bytes are counted per hook: both node-sync bodies')
})
