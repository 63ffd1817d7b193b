// Invariants that must hold for any input, not just the ones we thought of (fast-check).
import fc from 'fast-check'
import t from 'tap'
import { parse as secureJsonParse } from 'secure-json-parse'
import { daemonSetName, isDnsLabel, labelValue } from '../../contract/index.js'
import { sync } from '../../hooks/core/hooks.js'
import { mayHoldPrototypeKey, parse } from '../../hooks/server/answer.js'
import { holds } from '../support/property.js'
import { nodeAffinityProblems } from './apivalidation.js'
import { CONFIG, gtp5gModule, node, NOW, LATER, observedDaemonSet, pod, syncRequest, currentTemplateHash } from '../support/hookfixtures.js'

const RUNS = { numRuns: 200 }

// Kubernetes object names: DNS subdomains, up to 253 characters.
const dnsSubdomain = fc.array(fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/), { minLength: 1, maxLength: 12 })
  .map(parts => parts.join('.').slice(0, 253).replace(/[-.]+$/, ''))
  .filter(s => s.length > 0)

t.test('child names and label values are valid for any module name', async t => {
  holds(t, fc.property(dnsSubdomain, name => {
    const ds = daemonSetName(name)
    const label = labelValue(name)
    return isDnsLabel(ds) && ds.startsWith('gtp5g-installer-') && label.length <= 63 && /^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(label)
  }), RUNS, '200 random names')
})

t.test('distinct module names never share a DaemonSet', async t => {
  holds(t, fc.property(dnsSubdomain, dnsSubdomain, (a, b) => a === b || daemonSetName(a) !== daemonSetName(b)), RUNS, 'no collisions')
})

const podState = fc.constantFrom<Parameters<typeof pod>[2]>(
  'ready', 'running', 'creating',
  { waiting: 'ImagePullBackOff' },
  { crashed: 'BuildFailed', message: 'error: implicit declaration' },
  { terminated: 'ModuleInUse', message: 'in use' },
  { exited: 2 }
)

const scenario = fc.record({
  nodeCount: fc.integer({ min: 0, max: 12 }),
  states: fc.array(fc.option(podState, { nil: undefined }), { minLength: 12, maxLength: 12 }),
  version: fc.constantFrom('v0.9.14', 'v0.9.12a', 'v1.0.0'),
  unloadOnDelete: fc.boolean()
})

t.test('idempotence: feeding the status back changes nothing, whatever the clock', async t => {
  holds(t, fc.property(scenario, s => {
    const nodes = Array.from({ length: s.nodeCount }, (_, i) => node(`n${i}`))
    const spec = { version: s.version, unloadOnDelete: s.unloadOnDelete }
    const hash = currentTemplateHash({ nodes, parent: gtp5gModule({ spec }) })
    const pods = nodes.flatMap((n, i) => { const st = s.states[i]; return st === undefined ? [] : [pod(n.metadata?.name ?? '', hash, st)] })
    const first = sync(syncRequest({ nodes, pods, parent: gtp5gModule({ spec }) }), CONFIG, NOW)
    const parent = gtp5gModule({ spec, status: JSON.parse(JSON.stringify(first.status)) })
    const second = sync(syncRequest({ nodes, pods, parent }), CONFIG, LATER)
    return JSON.stringify(second) === JSON.stringify(first)
  }), RUNS, 'status is a fixed point')
})

t.test('children are never dropped on bad input', async t => {
  const observed = observedDaemonSet(sync(syncRequest({ nodes: [node('n0')] }), CONFIG, NOW).children[0] ?? {})
  const badSpec = fc.oneof(
    fc.anything(),
    fc.record({ version: fc.string() }),
    fc.record({ version: fc.constant('v0.9.14'), maxUnavailable: fc.oneof(fc.integer({ max: -1 }), fc.string()) }),
    fc.record({ version: fc.constant('v0.9.14'), nodeSelector: fc.dictionary(fc.string(), fc.anything()) }),
    fc.record({ version: fc.constant('v0.9.14'), tolerations: fc.anything() }),
    fc.record({ version: fc.constant('v0.9.14'), btf: fc.anything() })
  )
  holds(t, fc.property(badSpec, fc.boolean(), (spec, finalizing) => {
    const parent = gtp5gModule(finalizing ? { deletionTimestamp: '2026-11-20T09:59:00Z' } : {})
    parent.spec = spec
    const res = sync(syncRequest({ parent, nodes: [node('n0')], children: [observed], finalizing }), CONFIG, NOW)
    // A spec that happens to be valid builds the one DaemonSet; an invalid one keeps the observed one.
    return res.children.length === 1 || (finalizing && res.finalized === true && (spec as { unloadOnDelete?: unknown })?.unloadOnDelete === false)
  }), { numRuns: 300 }, '300 random specs')
})

t.test('the DaemonSet of a module that overlaps an older one is one the API server accepts', async t => {
  const older = gtp5gModule({ name: 'older', created: '2026-11-01T00:00:00Z', spec: { version: 'v0.9.14', nodeSelector: { site: 'edge' } } })
  const newer = gtp5gModule({ name: 'newer', created: '2026-11-02T00:00:00Z', spec: { version: 'v0.9.14' } })
  holds(t, fc.property(fc.uniqueArray(dnsSubdomain, { minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 40 }), (names, shared) => {
    const nodes = names.map((n, i) => node(n, i < shared ? { 'gtp5g.gthulhu.io/enabled': 'true', site: 'edge' } : { 'gtp5g.gthulhu.io/enabled': 'true' }))
    const res = sync(syncRequest({ parent: newer, nodes, modules: [older, newer] }), CONFIG, NOW)
    const spec = (res.children[0] as { spec: { template: { spec: { affinity?: unknown } } } }).spec.template.spec
    return nodeAffinityProblems(spec).length === 0 && res.status.desired === names.length - Math.min(shared, names.length)
  }), RUNS, '200 random fleets')
})

// The parse skips secure-json-parse when no key can spell __proto__ or constructor: for any
// text, it must accept and refuse exactly what secure-json-parse accepts and refuses.
t.test('the hooks parse a body as secure-json-parse does, however its keys are spelled', async t => {
  const escaped = (name: string): fc.Arbitrary<string> => fc.array(fc.constantFrom('plain', 'lower', 'upper'), { minLength: name.length, maxLength: name.length })
    .map(ways => [...name].map((c, i) => {
      const hex = c.charCodeAt(0).toString(16).padStart(4, '0')
      return ways[i] === 'plain' ? c : `\\u${ways[i] === 'lower' ? hex : hex.toUpperCase()}`
    }).join(''))
  const key = fc.constantFrom('__proto__', 'constructor', 'prototype', 'name', '_proto_').chain(escaped)
  const json: fc.Arbitrary<string> = fc.letrec<{ value: string }>(tie => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constantFrom('1', 'null', '"__proto__"', '"constructor"', '"x\\u0041"'),
      fc.array(fc.tuple(key, tie('value')), { maxLength: 3 }).map(kv => `{${kv.map(([k, v]) => `"${k}":${v}`).join(',')}}`),
      fc.array(tie('value'), { maxLength: 3 }).map(vs => `[${vs.join(',')}]`)
    )
  })).value
  const outcome = (f: () => unknown): string => { try { return `ok ${JSON.stringify(f())}` } catch { return 'refused' } }
  holds(t, fc.property(json, fc.boolean(), (text, bom) => {
    const body = (bom ? '\uFEFF' : '') + text
    const ours = parse(body)
    const theirs = outcome(() => secureJsonParse(body, undefined, { protoAction: 'error', constructorAction: 'error' }))
    return (ours.ok ? `ok ${JSON.stringify(ours.value)}` : 'refused') === theirs
  }), { numRuns: 2000 }, '2,000 random bodies')
  t.notOk(mayHoldPrototypeKey('{"name":"x","spec":{"version":"v0.9.14"}}'), 'an ordinary body takes the short way')
  t.ok(mayHoldPrototypeKey('{"\\u005f_proto__":1}'), 'an escaped letter does not')
})
