// The CompositeController must agree with the contract and the hooks it points at.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { parse } from 'yaml'
import { GROUP_VERSION, PLURAL } from '../../contract/index.js'

const cc = parse(readFileSync(new URL('../../metacontroller/composite-controller.yaml', import.meta.url), 'utf8'))

t.test('CompositeController', async t => {
  t.equal(cc.kind, 'CompositeController')
  t.same(cc.spec.parentResource, { apiVersion: GROUP_VERSION, resource: PLURAL })
  t.equal(cc.spec.generateSelector, true)
  t.ok(cc.spec.resyncPeriodSeconds > 0, 'a resync period is set')
  t.same(cc.spec.childResources, [
    { apiVersion: 'apps/v1', resource: 'daemonsets', updateStrategy: { method: 'InPlace' } },
    { apiVersion: 'apps/v1', resource: 'deployments', updateStrategy: { method: 'InPlace' } },
    { apiVersion: 'v1', resource: 'configmaps', updateStrategy: { method: 'InPlace' } }
  ], 'the installer DaemonSet, the scheduling agent Deployment and the node lists, InPlace: OnDelete would never roll out a new version nor update a list')
  for (const hook of ['customize', 'sync', 'finalize']) {
    const h = cc.spec.hooks[hook]
    t.equal(h.version, 'v2', `${hook}: v2 request format`)
    t.equal(h.webhook.path, `/${hook}`)
    t.match(h.webhook.timeout, /^\d+s$/, `${hook}: explicit timeout`)
  }
})
