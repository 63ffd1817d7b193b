// Deleting a GTP5GModule: unload where asked (never forced), and let go only when done.
import t from 'tap'
import { ENV } from '../../contract/index.js'
import { finalize, FINALIZE_RESYNC_SECONDS, sync } from '../../hooks/core/hooks.js'
import type { KubeObject } from '../../hooks/core/k8s.js'
import { CONFIG, currentTemplateHash, gtp5gModule, node, NOW, observedDaemonSet, pod, syncRequest } from '../support/hookfixtures.js'

const DELETED = '2026-11-20T09:58:00Z'
const deleting = (spec?: Record<string, unknown>): ReturnType<typeof gtp5gModule> =>
  gtp5gModule({ deletionTimestamp: DELETED, ...(spec === undefined ? {} : { spec }) })

function actionOf (ds: KubeObject | undefined): string | undefined {
  const env = (ds as { spec: { template: { spec: { containers: Array<{ env: Array<{ name: string, value: string }> }> } } } }).spec.template.spec.containers[0]?.env
  return env?.find(e => e.name === ENV.action)?.value
}

const nodes = [node('node-a'), node('node-b')]

t.test('with unloadOnDelete the DaemonSet switches to unload and waits for every node', async t => {
  const parent = deleting()
  const unloadHash = currentTemplateHash({ nodes, parent, finalizing: true })
  const installHash = currentTemplateHash({ nodes })
  t.not(unloadHash, installHash, 'unloading is a new template')

  const waiting = finalize(syncRequest({ nodes, parent, finalizing: true, pods: [pod('node-a', unloadHash, 'ready'), pod('node-b', installHash, 'ready')] }), CONFIG, NOW)
  t.equal(actionOf(waiting.children[0]), 'unload')
  t.equal(waiting.status.phase, 'Unloading')
  t.equal(waiting.finalized, false, 'node-b still runs the install template')
  t.equal(waiting.resyncAfterSeconds, FINALIZE_RESYNC_SECONDS)
  t.equal(waiting.status.installed, 1, 'one node has not confirmed the unload')
  t.same(waiting.status.installedNodes, ['node-b'], 'and installedNodes names it: the two fields agree while unloading')

  const done = finalize(syncRequest({ nodes, parent, finalizing: true, pods: [pod('node-a', unloadHash, 'ready'), pod('node-b', unloadHash, 'ready')] }), CONFIG, NOW)
  t.equal(done.finalized, true)
  t.equal(done.status.installed, 0)
  t.same(done.status.installedNodes, [])
})

t.test('a node that cannot unload (module in use) keeps the module waiting and says why', async t => {
  const parent = deleting()
  const unloadHash = currentTemplateHash({ nodes, parent, finalizing: true })
  const pods = [pod('node-a', unloadHash, 'ready'), pod('node-b', unloadHash, { crashed: 'ModuleInUse', message: 'gtp5g is in use by 1 holder(s)' })]
  const res = finalize(syncRequest({ nodes, parent, finalizing: true, pods }), CONFIG, NOW)
  t.equal(res.finalized, false)
  t.same(res.status.failedNodes, [{ nodeName: 'node-b', reason: 'ModuleInUse', message: 'gtp5g is in use by 1 holder(s)' }])
  t.match(res.status, { installed: 1, installedNodes: ['node-b'] }, 'gtp5g is still loaded where the unload failed')
})

t.test('after the finalize timeout the module is let go even if a node never confirmed', async t => {
  const parent = deleting()
  const late = new Date(Date.parse(DELETED) + CONFIG.finalizeTimeoutSeconds * 1000)
  const res = finalize(syncRequest({ nodes, parent, finalizing: true }), CONFIG, late)
  t.equal(res.finalized, true)
  const early = finalize(syncRequest({ nodes, parent, finalizing: true }), CONFIG, new Date(late.getTime() - 1000))
  t.equal(early.finalized, false)
})

t.test('without unloadOnDelete: finalized at once, gtp5g stays loaded', async t => {
  const parent = deleting({ version: 'v0.9.14', unloadOnDelete: false })
  const res = finalize(syncRequest({ nodes, parent, finalizing: true }), CONFIG, NOW)
  t.equal(res.finalized, true)
  t.same(res.children, [], 'no unload DaemonSet is created')
  t.match(res.status.message, /stays loaded on 2 node\(s\)/)
})

t.test('no node selected: nothing to unload, finalized at once', async t => {
  const res = finalize(syncRequest({ nodes: [], parent: deleting(), finalizing: true }), CONFIG, NOW)
  t.equal(res.finalized, true)
})

t.test('an invalid spec while deleting: nothing is unloaded, the module is let go, children kept', async t => {
  const observed = observedDaemonSet(sync(syncRequest({ nodes }), CONFIG, NOW).children[0] ?? {})
  const res = finalize(syncRequest({ nodes, parent: deleting({ version: 'nope' }), finalizing: true, children: [observed] }), CONFIG, NOW)
  t.equal(res.finalized, true)
  t.equal(res.children.length, 1)
  t.equal(actionOf(res.children[0]), 'install', 'the running installer is not switched to unload')
})

t.test('a sync request with finalizing=true is answered as a finalize', async t => {
  const req = syncRequest({ nodes, parent: deleting(), finalizing: true })
  t.same(sync(req, CONFIG, NOW), finalize(req, CONFIG, NOW))
})
