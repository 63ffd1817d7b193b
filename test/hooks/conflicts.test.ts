// Two GTP5GModules selecting the same node: the older keeps it, the newer steps aside and says so.
import t from 'tap'
import { sync } from '../../hooks/core/hooks.js'
import { resolveConflicts } from '../../hooks/core/conflicts.js'
import { MAX_EXCLUSION_BYTES } from '../../hooks/core/daemonset.js'
import { nodeAffinityProblems } from './apivalidation.js'
import { CONFIG, gtp5gModule, node, NOW, observedDaemonSet, syncRequest } from '../support/hookfixtures.js'

const upf = (name: string, created: string, selector: Record<string, string>, extra: Record<string, unknown> = {}): ReturnType<typeof gtp5gModule> =>
  gtp5gModule({ name, created, spec: { version: 'v0.9.14', nodeSelector: selector, ...extra } })

const EDGE = { site: 'edge' }
const ALL = { 'gtp5g.gthulhu.io/enabled': 'true' }
const nodes = [node('edge-1', { ...ALL, site: 'edge' }), node('edge-2', { ...ALL, site: 'edge' }), node('core-1', ALL)]

const rows: Array<{ name: string, self: ReturnType<typeof gtp5gModule>, others: Array<ReturnType<typeof gtp5gModule>>, owned: string[], contested: Array<{ node: string, owner: string }> }> = [
  {
    name: 'no other module',
    self: upf('all', '2026-11-01T00:00:00Z', ALL),
    others: [],
    owned: ['edge-1', 'edge-2', 'core-1'],
    contested: []
  },
  {
    name: 'an older module holds the edge nodes',
    self: upf('all', '2026-11-02T00:00:00Z', ALL),
    others: [upf('edge', '2026-11-01T00:00:00Z', EDGE)],
    owned: ['core-1'],
    contested: [{ node: 'edge-1', owner: 'edge' }, { node: 'edge-2', owner: 'edge' }]
  },
  {
    name: 'a newer module does not take anything',
    self: upf('all', '2026-11-01T00:00:00Z', ALL),
    others: [upf('edge', '2026-11-02T00:00:00Z', EDGE)],
    owned: ['edge-1', 'edge-2', 'core-1'],
    contested: []
  },
  {
    name: 'same creation second: the name decides',
    self: upf('b-module', '2026-11-01T00:00:00Z', ALL),
    others: [upf('a-module', '2026-11-01T00:00:00Z', EDGE)],
    owned: ['core-1'],
    contested: [{ node: 'edge-1', owner: 'a-module' }, { node: 'edge-2', owner: 'a-module' }]
  },
  {
    name: 'the oldest of several owners is named',
    self: upf('newest', '2026-11-03T00:00:00Z', ALL),
    others: [upf('middle', '2026-11-02T00:00:00Z', ALL), upf('oldest', '2026-11-01T00:00:00Z', EDGE)],
    owned: [],
    contested: [{ node: 'edge-1', owner: 'oldest' }, { node: 'edge-2', owner: 'oldest' }, { node: 'core-1', owner: 'middle' }]
  },
  {
    name: 'a module being deleted still owns its nodes until it is gone',
    self: upf('all', '2026-11-02T00:00:00Z', ALL),
    others: [gtp5gModule({ name: 'edge', created: '2026-11-01T00:00:00Z', deletionTimestamp: '2026-11-20T09:00:00Z', spec: { version: 'v0.9.14', nodeSelector: EDGE } })],
    owned: ['core-1'],
    contested: [{ node: 'edge-1', owner: 'edge' }, { node: 'edge-2', owner: 'edge' }]
  },
  {
    name: 'an older module without nodeSelector uses the default selector',
    self: upf('all', '2026-11-02T00:00:00Z', ALL),
    others: [gtp5gModule({ name: 'legacy', created: '2026-11-01T00:00:00Z', spec: { version: 'v0.9.14' } })],
    owned: [],
    contested: [{ node: 'edge-1', owner: 'legacy' }, { node: 'edge-2', owner: 'legacy' }, { node: 'core-1', owner: 'legacy' }]
  }
]

for (const row of rows) {
  t.test(row.name, async t => {
    const { owned, contested } = resolveConflicts(row.self, nodes, [row.self, ...row.others])
    t.same(owned.map(n => n.metadata?.name), row.owned)
    t.same(contested, row.contested)
  })
}

t.test('the newer module excludes contested nodes by node affinity and reports Conflict', async t => {
  const older = upf('edge', '2026-11-01T00:00:00Z', EDGE)
  const newer = upf('all', '2026-11-02T00:00:00Z', ALL)
  const res = sync(syncRequest({ parent: newer, nodes, modules: [older, newer] }), CONFIG, NOW)
  const ds = res.children[0] as { spec: { template: { spec: { affinity?: unknown } } } }
  t.same(ds.spec.template.spec.affinity, {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{
          matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['edge-1'] }, { key: 'metadata.name', operator: 'NotIn', values: ['edge-2'] }]
        }]
      }
    }
  }, 'one NotIn per node in one term (ANDed): the API takes one value per field requirement')
  t.same(nodeAffinityProblems(ds.spec.template.spec), [], 'the API server would accept it')
  t.equal(res.status.desired, 1)
  const degraded = res.status.conditions?.find(c => c.type === 'Degraded')
  t.equal(degraded?.status, 'True')
  t.equal(degraded?.reason, 'Conflict')
  t.match(degraded?.message, /edge-1, edge-2 belong to the older GTP5GModule "edge"/)

  const olderRes = sync(syncRequest({ parent: older, nodes, modules: [older, newer] }), CONFIG, NOW)
  t.equal(olderRes.status.desired, 2, 'the older keeps its nodes')
  t.equal(olderRes.status.conditions?.find(c => c.type === 'Degraded')?.status, 'False')
  t.notOk((olderRes.children[0] as { spec: { template: { spec: Record<string, unknown> } } }).spec.template.spec.affinity, 'no affinity when nothing is contested')
})

t.test('the affinity checker refuses what the API server refused before (one field requirement, many values)', async t => {
  const refused = { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['edge-1', 'edge-2'] }] }] } } } }
  t.match(nodeAffinityProblems(refused), [/matchFields\[0\]\.values: must be only one value when `operator` is 'In' or 'NotIn' for node field selector/])
  const wrongKey = { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.labels', operator: 'NotIn', values: ['a'] }] }] } } } }
  t.match(nodeAffinityProblems(wrongKey), [/not a valid field selector key/])
})

// Hundreds of contested nodes: each is one requirement of ~60 bytes plus its name.
const contestedFleet = (count: number, nameLength: number): Array<ReturnType<typeof node>> =>
  Array.from({ length: count }, (_, i) => node(`upf-${String(i).padStart(nameLength - 4, '0')}`, { ...ALL, site: 'edge' }))

t.test('hundreds of contested nodes: still one term the API accepts, within the annotation budget', async t => {
  const fleet = contestedFleet(800, 24)
  const older = upf('edge', '2026-11-01T00:00:00Z', EDGE)
  const newer = upf('all', '2026-11-02T00:00:00Z', ALL)
  const res = sync(syncRequest({ parent: newer, nodes: fleet, modules: [older, newer] }), CONFIG, NOW)
  const ds = res.children[0] as { spec: { template: { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: Array<{ matchFields: unknown[] }> } } } } } } }
  const terms = ds.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms
  t.equal(terms.length, 1)
  t.equal(terms[0]?.matchFields.length, 800)
  t.same(nodeAffinityProblems(ds.spec.template.spec), [])
  const bytes = JSON.stringify(ds).length
  t.ok(bytes < 256 * 1024, `the DaemonSet (${bytes} bytes) fits Metacontroller's last-applied annotation (256 KiB for all annotations)`)
})

t.test('more contested nodes than affinity can hold: the running DaemonSet is kept and Degraded says why', async t => {
  const fleet = contestedFleet(3000, 40)
  const older = upf('edge', '2026-11-01T00:00:00Z', EDGE)
  const newer = upf('all', '2026-11-02T00:00:00Z', ALL)
  const running = observedDaemonSet(sync(syncRequest({ parent: newer, nodes: [], modules: [newer] }), CONFIG, NOW).children[0] as Parameters<typeof observedDaemonSet>[0])
  const res = sync(syncRequest({ parent: newer, nodes: fleet, modules: [older, newer], children: [running] }), CONFIG, NOW)
  t.equal(res.children.length, 1, 'the observed DaemonSet is not deleted')
  t.notOk((res.children[0] as { spec: { template: { spec: { affinity?: unknown } } } }).spec.template.spec.affinity, 'and not replaced by one the API server would refuse')
  const degraded = res.status.conditions?.find(c => c.type === 'Degraded')
  t.equal(degraded?.reason, 'Conflict')
  t.match(degraded?.message, new RegExp(`3000 contested nodes are more than node affinity can exclude \\(${MAX_EXCLUSION_BYTES / 1024} KiB`))
  t.match(degraded?.message, /narrow spec\.nodeSelector/)

  const none = sync(syncRequest({ parent: newer, nodes: fleet, modules: [older, newer] }), CONFIG, NOW)
  t.same(none.children, [], 'nothing ran before: nothing is created')

  const deleting = { ...newer, metadata: { ...newer.metadata, deletionTimestamp: '2026-11-20T09:00:00Z' } }
  const fin = sync({ ...syncRequest({ parent: deleting, nodes: fleet, modules: [older, deleting], children: [running] }), finalizing: true }, CONFIG, NOW)
  t.equal(fin.finalized, true, 'finalize does not switch to an unload that could reach the older module\'s nodes')
  t.same(fin.children, [])
  t.match(fin.status.message, /Too many contested nodes to unload safely/)
})

// Issue 14 finding 6: conflict resolution was nodes × modules on request data. The indexed
// resolution must decide exactly what the plain one decides, and in time that does not grow
// with nodes × modules.
const plainResolution = (self: ReturnType<typeof gtp5gModule>, ns: ReturnType<typeof node>[], modules: Array<ReturnType<typeof gtp5gModule>>): Array<string | undefined> => {
  const created = (m: ReturnType<typeof gtp5gModule>): number => {
    const at = Date.parse(String((m.metadata as { creationTimestamp?: string }).creationTimestamp ?? ''))
    return Number.isNaN(at) ? Number.POSITIVE_INFINITY : at
  }
  const name = (m: ReturnType<typeof gtp5gModule>): string => String((m.metadata as { name: string }).name)
  const before = (a: ReturnType<typeof gtp5gModule>, b: ReturnType<typeof gtp5gModule>): boolean => created(a) !== created(b) ? created(a) < created(b) : name(a) < name(b)
  const elders = modules.filter(m => name(m) !== name(self) && before(m, self)).sort((a, b) => before(a, b) ? -1 : 1)
  return ns.map(n => {
    const labels = (n.metadata as { labels: Record<string, string> }).labels
    const owner = elders.find(e => Object.entries((e.spec as { nodeSelector: Record<string, string> }).nodeSelector).every(([k, v]) => labels[k] === v))
    return owner === undefined ? undefined : name(owner)
  })
}

t.test('the indexed resolution decides what comparing every node with every module decides', async t => {
  const fc = (await import('fast-check')).default
  const pair = fc.tuple(fc.constantFrom('site', 'rack', 'zone', 'gtp5g.gthulhu.io/enabled'), fc.constantFrom('a', 'b', 'true'))
  const labels = fc.array(pair, { maxLength: 4 }).map(ps => Object.fromEntries(ps))
  const when = fc.constantFrom('2026-11-01T00:00:00Z', '2026-11-02T00:00:00Z', '2026-11-03T00:00:00Z')
  fc.assert(fc.property(
    fc.array(labels, { maxLength: 12 }),
    fc.array(fc.tuple(labels, when), { maxLength: 6 }),
    (nodeLabels, mods) => {
      const ns = nodeLabels.map((l, i) => node(`n${i}`, l))
      const modules = mods.map(([selector, created], i) => upf(`m${i}`, created, selector))
      const self = upf('self', '2026-11-02T00:00:00Z', ALL)
      const { owned, contested } = resolveConflicts(self, ns, [self, ...modules])
      const got = ns.map(n => contested.find(c => c.node === n.metadata?.name)?.owner)
      const kept = owned.map(n => n.metadata?.name)
      return JSON.stringify(got) === JSON.stringify(plainResolution(self, ns, [self, ...modules])) &&
        kept.every(k => got[Number(String(k).slice(1))] === undefined)
    }), { numRuns: 300 })
  t.pass('300 random clusters')
})

t.test('8,000 nodes and 8,000 modules that select none of them: decided in under 3 s', async t => {
  const ns = Array.from({ length: 8000 }, (_, i) => node(`worker-${i}`, { ...ALL, rack: `r${i % 40}` }))
  const modules = Array.from({ length: 8000 }, (_, i) => upf(`m${i}`, '2026-11-01T00:00:00Z', { ...ALL, rack: `r${i % 40}`, pool: `p${i}` }))
  const self = upf('self', '2026-11-02T00:00:00Z', ALL)
  const started = performance.now()
  const { owned, contested } = resolveConflicts(self, ns, [self, ...modules])
  const ms = performance.now() - started
  t.equal(owned.length, 8000)
  t.equal(contested.length, 0)
  t.comment(`8,000 × 8,000: ${ms.toFixed(0)} ms`)
  // The plain comparison (64 million selector checks) took 170 s on a loaded 2-core machine; the index, 0.5 s.
  t.ok(ms < 3000, `took ${ms.toFixed(0)} ms`)
})
