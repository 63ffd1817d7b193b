// parseSpec: the defaults the API server would apply, and the validation the CRD would do, so
// that a module reaching the hook without them (a CRD installed without its schema) is treated
// the same way.
import t from 'tap'
import { DEFAULT_NODE_SELECTOR } from '../../contract/index.js'
import { customize, sync } from '../../hooks/core/hooks.js'
import { resolveConflicts } from '../../hooks/core/conflicts.js'
import { parseSpec } from '../../hooks/core/spec.js'
import { buildCrd } from '../../hooks/crd/crd.js'
import { CONFIG, controller, gtp5gModule, node, NOW, syncRequest } from '../support/hookfixtures.js'
import { INVALID_SPECS, VALID_SPECS } from '../support/invalidspecs.js'

const specOf = (raw: unknown): ReturnType<typeof parseSpec> & { ok: true } => {
  const parsed = parseSpec(raw)
  if (!parsed.ok) throw new Error(parsed.message)
  return parsed
}

t.test('a user\'s nodeSelector replaces the default one; absent or null gets the default', async t => {
  t.same(specOf({ version: 'v0.9.14', nodeSelector: { role: 'upf' } }).spec.nodeSelector, { role: 'upf' }, 'no default label merged in')
  t.same(specOf({ version: 'v0.9.14', nodeSelector: {} }).spec.nodeSelector, {}, 'an empty selector stays empty (every node), as the API server keeps it')
  t.same(specOf({ version: 'v0.9.14' }).spec.nodeSelector, DEFAULT_NODE_SELECTOR)
  t.same(specOf({ version: 'v0.9.14', nodeSelector: null }).spec.nodeSelector, DEFAULT_NODE_SELECTOR, 'null is pruned, then defaulted')
})

t.test('nested defaults: a given source keeps its url and gets the default sha256; an absent one gets both', async t => {
  t.same(specOf({ version: 'v0.9.14', source: { url: 'https://mirror.example/x.tgz' } }).spec.source, { url: 'https://mirror.example/x.tgz', sha256: '' })
  t.same(specOf({ version: 'v0.9.14' }).spec.source, { url: 'https://github.com/free5gc/gtp5g/archive/refs/tags/{version}.tar.gz', sha256: '' })
  t.same(specOf({ version: 'v0.9.14', tolerations: [{ key: 'upf', operator: 'Exists' }] }).spec.tolerations, [{ key: 'upf', operator: 'Exists' }])
})

t.test('customize, conflict resolution and sync agree on a custom nodeSelector', async t => {
  const parent = gtp5gModule({ spec: { version: 'v0.9.14', nodeSelector: { role: 'upf' } } })
  const upf = node('upf-1', { role: 'upf' })
  const labelled = node('labelled-1', { 'gtp5g.gthulhu.io/enabled': 'true' })
  const asked = customize({ controller, parent }, CONFIG).relatedResources.find(r => r.resource === 'nodes')
  t.same(asked?.labelSelector, { matchLabels: { role: 'upf' } }, 'customize asks for the nodes the user selected')
  const res = sync(syncRequest({ parent, nodes: [upf, labelled] }), CONFIG, NOW)
  t.equal(res.status.desired, 1, 'sync installs on the node with role=upf only')
  const elder = gtp5gModule({ name: 'elder', created: '2026-11-01T00:00:00Z', spec: { version: 'v0.9.14', nodeSelector: { role: 'upf' } } })
  const { contested } = resolveConflicts(parent, [upf], [elder, parent])
  t.same(contested, [{ node: 'upf-1', owner: 'elder' }], 'conflicts see the same selector')
  t.equal(sync(syncRequest({ parent, nodes: [upf, labelled], modules: [elder, parent] }), CONFIG, NOW).status.desired, 0, 'and sync leaves the contested node to the elder')
})

t.test('unknown fields are pruned, as the API server prunes them: nothing unknown reaches the DaemonSet', async t => {
  const spec = specOf({ version: 'v0.9.14', future: 1, tolerations: [{ key: 'upf', operator: 'Exists', hostPID: true }], source: { url: 'https://x.example/a.tgz', mirror: 'y' } }).spec
  t.same(spec.tolerations, [{ key: 'upf', operator: 'Exists' }])
  t.same(spec.source, { url: 'https://x.example/a.tgz', sha256: '' })
  t.notOk('future' in spec)
})

t.test('the hook refuses what the CRD refuses, naming the same field (e2e checks the API server with the same table)', async t => {
  for (const row of INVALID_SPECS) {
    const parsed = parseSpec({ version: 'v0.9.14', ...row.spec })
    t.notOk(parsed.ok, `${row.name}: refused`)
    if (parsed.ok) continue
    t.equal(parsed.field, row.field, `${row.name}: names ${row.field}`)
    t.ok(parsed.message.startsWith(`${row.field}: `), `${row.name}: the message starts with the field`)
    t.match(parsed.message.slice(row.field.length + 2), row.hook, `${row.name}: says what is expected`)
  }
  for (const spec of VALID_SPECS) t.ok(parseSpec({ version: 'v0.9.14', ...spec }).ok, `accepted: ${JSON.stringify(spec).slice(0, 80)}`)
})

t.test('label keys: prefix up to 253 characters, name up to 63, as Kubernetes allows', async t => {
  const prefix = (n: number): string => Array.from({ length: Math.ceil(n / 51) }, () => 'a'.repeat(50)).join('.').slice(0, n).replace(/\.$/, 'b')
  const rows: Array<[string, boolean]> = [
    [`${prefix(253)}/x`, true],
    [`${prefix(254)}/x`, false],
    ['x'.repeat(63), true],
    ['x'.repeat(64), false],
    ['a/b/c', false],
    ['', false],
    ['-a', false],
    ['a_b.c-d', true]
  ]
  for (const [key, ok] of rows) t.equal(parseSpec({ version: 'v0.9.14', nodeSelector: { [key]: 'v' } }).ok, ok, `${key.slice(0, 40)}… (${key.length}): ${ok ? 'accepted' : 'refused'}`)
})

t.test('the CRD and the hook share each CEL rule and its message', async t => {
  const crdRules = JSON.stringify(buildCrd()).match(/"rule":"[^"\\]*(\\.[^"\\]*)*","message":"[^"\\]*(\\.[^"\\]*)*"/g) ?? []
  t.equal(crdRules.length, 6, 'maxUnavailable, kernelVersion, nodeSelector keys; commandRegex, podSelector keys and unique rule names of spec.scheduling')
  for (const row of INVALID_SPECS.filter(r => r.name.startsWith('maxUnavailable') || ['spec.kernelVersion', 'spec.nodeSelector', 'spec.scheduling.rules[0].commandRegex', 'spec.scheduling.rules'].includes(r.field))) {
    const parsed = parseSpec({ version: 'v0.9.14', ...row.spec })
    const message = parsed.ok ? '' : parsed.message.slice(row.field.length + 2)
    t.ok(crdRules.some(r => r.includes(JSON.stringify(message).slice(1, -1))), `${row.name}: the hook says what the CRD rule says`)
  }
})
