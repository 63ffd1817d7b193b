// The HTTP contract as Metacontroller sees it, through app.inject (no sockets needed).
import { readdirSync } from 'node:fs'
import t, { type Test } from 'tap'
import { buildApp } from '../../hooks/server/app.js'
import { CONFIG, controller, currentTemplateHash, gtp5gModule, node, NOW, observedDaemonSet, pod, syncRequest } from '../support/hookfixtures.js'

type App = ReturnType<typeof buildApp>['app']

/** OS threads of this process: each hook worker of an app is two, gone again once the app is closed. */
const threads = (): number => readdirSync('/proc/self/task').length
const threadsBefore = threads()

/** An app closed when the test `t` ends: each one holds a hook worker thread until closed. */
function app (t: Test, options: { now?: () => Date, bodyLimit?: number } = {}): App {
  const a = buildApp({ hooks: CONFIG, bodyLimit: options.bodyLimit ?? 64 * 1024 * 1024, logLevel: 'silent', now: options.now ?? (() => NOW) }).app
  t.teardown(async () => await a.close())
  return a
}

const post = async (a: App, url: string, payload: unknown, contentType = 'application/json'): Promise<{ statusCode: number, body: string, json: () => any }> =>
  await a.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload: typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload) })

t.test('sync answers status and the full DaemonSet', async t => {
  const a = app(t)
  const res = await post(a, '/sync', syncRequest({ nodes: [node('node-a')] }))
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.status.phase, 'Pending')
  t.equal(body.children.length, 1)
  t.equal(body.children[0].spec.template.spec.containers[0].securityContext.capabilities.add[0], 'SYS_MODULE', 'deep fields survive serialization')
  t.notOk('resyncAfterSeconds' in body)
})

t.test('observed children come back whole: no response schema strips unknown fields', async t => {
  const a = app(t)
  const desired = (await post(a, '/sync', syncRequest({ nodes: [node('node-a')] }))).json().children[0]
  const observed = observedDaemonSet(desired, { minReadySeconds: 5, futureField: { nested: [1, 2, { deep: true }] } })
  const parent = gtp5gModule({ spec: { version: 'latest' } })
  const res = await post(a, '/sync', syncRequest({ parent, nodes: [node('node-a')], children: [observed] }))
  t.equal(res.statusCode, 200)
  const kept = res.json().children
  t.equal(kept.length, 1)
  t.same(kept[0].spec, (observed as { spec: unknown }).spec, 'every field of the observed spec, unknown ones included')
  t.equal(res.json().status.conditions.find((c: { type: string }) => c.type === 'Degraded').reason, 'InvalidSpec')
})

t.test('bad requests are 400 naming the field, in our words', async t => {
  const a = app(t)
  const valid = syncRequest({ nodes: [node('node-a')] })
  // `message` is the whole message: "<field>: <what is wrong>" (hooks/core/schemaerror.ts).
  const rows: Array<{ name: string, url?: string, payload: unknown, contentType?: string, code: number, field?: string, message: string | RegExp }> = [
    { name: 'malformed JSON', payload: '{"controller": {', code: 400, field: 'body', message: /^body: is not valid JSON \(.+\)$/ },
    { name: 'an empty body', payload: '', code: 400, field: 'body', message: 'body: required' },
    { name: 'an array body', payload: '[]', code: 400, field: 'body', message: 'body: must be an object' },
    { name: 'a string body', payload: '"sync please"', code: 400, field: 'body', message: 'body: must be an object' },
    { name: 'null body', payload: 'null', code: 400, field: 'body', message: 'body: must be an object' },
    { name: 'missing parent', payload: { controller }, code: 400, field: 'parent', message: 'parent: required' },
    { name: 'parent without a name', payload: { ...valid, parent: { apiVersion: 'operator.gthulhu.io/v1alpha1', kind: 'GTP5GModule', metadata: {} } }, code: 400, field: 'parent.metadata.name', message: 'parent.metadata.name: required' },
    { name: 'parent with an empty name', payload: { ...valid, parent: { ...valid.parent, metadata: { name: '' } } }, code: 400, field: 'parent.metadata.name', message: 'parent.metadata.name: must not be empty' },
    { name: 'missing controller', payload: { parent: valid.parent }, code: 400, field: 'controller', message: 'controller: required' },
    { name: 'children not a map of maps', payload: { ...valid, children: { 'DaemonSet.apps/v1': [1, 2] } }, code: 400, field: 'children.DaemonSet.apps/v1', message: 'children.DaemonSet.apps/v1: must be an object' },
    { name: 'a related object that is a number', payload: { ...valid, related: { 'Node.v1': { 'node-a': 5 } } }, code: 400, field: 'related.Node.v1.node-a', message: 'related.Node.v1.node-a: must be an object' },
    { name: 'finalizing not a boolean', payload: { ...valid, finalizing: 'maybe' }, code: 400, field: 'finalizing', message: 'finalizing: must be a boolean (true or false, not a string)' },
    // No type coercion: "true" or 1 must not take the finalize path and switch nodes to unload.
    { name: 'finalizing as the string "true"', payload: { ...valid, finalizing: 'true' }, code: 400, field: 'finalizing', message: /^finalizing: must be a boolean/ },
    { name: 'finalizing as the number 1', payload: { ...valid, finalizing: 1 }, code: 400, field: 'finalizing', message: /^finalizing: must be a boolean/ },
    { name: 'a numeric parent name', payload: { ...valid, parent: { ...valid.parent, metadata: { name: 5 } } }, code: 400, field: 'parent.metadata.name', message: 'parent.metadata.name: must be a string' },
    { name: 'customize with a numeric parent name', url: '/customize', payload: { controller, parent: { ...valid.parent, metadata: { name: 5 } } }, code: 400, field: 'parent.metadata.name', message: 'parent.metadata.name: must be a string' },
    { name: 'customize without parent', url: '/customize', payload: { controller }, code: 400, field: 'parent', message: 'parent: required' },
    { name: 'node-sync without the node', url: '/node-sync', payload: { controller }, code: 400, field: 'object', message: 'object: required' },
    { name: 'plain text', payload: 'parent=x', contentType: 'text/plain', code: 400, field: 'body', message: 'body: must be an object' },
    // fastify's own refusals, before a hook sees the body.
    { name: 'an unknown content type', payload: 'parent=x', contentType: 'application/x-www-form-urlencoded', code: 415, message: /Unsupported Media Type/i }
  ]
  for (const row of rows) {
    const res = await post(a, row.url ?? '/sync', row.payload, row.contentType)
    t.equal(res.statusCode, row.code, `${row.name}: status`)
    const body = res.json()
    if (typeof row.message === 'string') t.equal(body.message, row.message, `${row.name}: message`)
    else t.match(body.message, row.message, `${row.name}: message`)
    if (row.field !== undefined) t.equal(body.field, row.field, `${row.name}: field`)
    if (row.code === 400) t.same(Object.keys(body).sort(), ['error', 'field', 'message', 'statusCode'], `${row.name}: one shape for every 400`)
  }
})

t.test('bodies are decoded as fastify decodes JSON: BOM allowed, prototype keys refused however spelled', async t => {
  const a = app(t)
  const valid = JSON.stringify(syncRequest({ nodes: [node('node-a')] }))
  // A key named __proto__ would be the object's prototype for code that copies it with
  // assignment; fastify refuses such bodies, and so do the hooks.
  const withKey = (key: string, value: string): string => valid.replace('"controller":', `${key}: ${value}, "controller":`)
  const rows: Array<{ name: string, payload: string | Buffer, code: number }> = [
    { name: 'a UTF-8 byte order mark', payload: Buffer.concat([Buffer.from([0xEF, 0xBB, 0xBF]), Buffer.from(valid)]), code: 200 },
    { name: 'a __proto__ key', payload: withKey('"__proto__"', '{"polluted": true}'), code: 400 },
    // The hand-written scan this replaced looked for the text "__proto__" first and let this through.
    { name: 'a __proto__ key spelled with an escape', payload: withKey('"\\u005f_proto__"', '{"polluted": true}'), code: 400 },
    { name: 'a constructor holding a prototype', payload: withKey('"constructor"', '{"prototype": {"polluted": true}}'), code: 400 },
    { name: 'a constructor key without a prototype', payload: withKey('"constructor"', '{"name": "x"}'), code: 200 },
    { name: '"__proto__" inside a string value', payload: withKey('"note"', '"__proto__"'), code: 200 }
  ]
  for (const row of rows) {
    const res = await post(a, '/sync', row.payload)
    t.equal(res.statusCode, row.code, `${row.name}: ${res.statusCode === row.code ? 'as expected' : res.body.slice(0, 200)}`)
    if (row.code === 400) t.match(res.json(), { field: 'body', message: /^body: is not valid JSON \(.+\)$/ }, `${row.name}: refused as a body that is not valid JSON`)
  }
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype was touched')
})

t.test('a body over the limit is refused with 413, not truncated', async t => {
  const small = app(t, { bodyLimit: 2048 })
  const res = await post(small, '/sync', syncRequest({ nodes: [node('node-a'), node('node-b')] }))
  t.equal(res.statusCode, 413)
  t.match(res.json().message, /too large/i)
})

t.test('an internal error is a 500 (Metacontroller retries), never a 200 with partial children', async t => {
  const a = app(t, { now: () => new Date(Number.NaN) })
  // An invalid clock makes timestamp() throw deep inside the core.
  const res = await post(a, '/sync', syncRequest({ nodes: [node('node-a')] }))
  t.equal(res.statusCode, 500)
  t.notOk('children' in res.json())
})

t.test('customize asks for our pods, the selected nodes and every GTP5GModule', async t => {
  const a = app(t)
  const parent = gtp5gModule({ spec: { version: 'v0.9.14', nodeSelector: { 'node-role.kubernetes.io/upf': '' } } })
  const res = await post(a, '/customize', { controller, parent })
  t.equal(res.statusCode, 200)
  t.same(res.json(), {
    relatedResources: [
      { apiVersion: 'v1', resource: 'pods', namespace: 'gtp5g-system', labelSelector: { matchLabels: { 'gtp5g.gthulhu.io/module': 'sample' } } },
      { apiVersion: 'v1', resource: 'nodes', labelSelector: { matchLabels: { 'node-role.kubernetes.io/upf': '' } } },
      { apiVersion: 'operator.gthulhu.io/v1alpha1', resource: 'gtp5gmodules' },
      // The scheduling agent's pods: a spec.scheduling taken out is still cleaned up (test/hooks/agent.test.ts).
      { apiVersion: 'v1', resource: 'pods', namespace: 'gtp5g-system', labelSelector: { matchLabels: { 'gtp5g.gthulhu.io/scheduling-agent': 'sample' } } }
    ]
  })
})

t.test('finalize route', async t => {
  const a = app(t)
  const res = await post(a, '/finalize', syncRequest({ parent: gtp5gModule({ deletionTimestamp: '2026-11-20T09:59:00Z' }), nodes: [node('node-a')], finalizing: true }))
  t.equal(res.statusCode, 200)
  t.equal(res.json().finalized, false)
  t.equal(res.json().status.phase, 'Unloading')
})

t.test('the same request gives byte-identical responses', async t => {
  // One app, its clock moved between calls: only the clock differs.
  let clock = NOW
  const a = app(t, { now: () => clock })
  const nodes = [node('node-a'), node('node-b')]
  const hash = currentTemplateHash({ nodes })
  const pods = [pod('node-a', hash, 'ready'), pod('node-b', hash, { crashed: 'BuildFailed', message: 'error: x' })]
  const first = await post(a, '/sync', syncRequest({ nodes, pods }))
  const parent = gtp5gModule({ status: first.json().status })
  clock = new Date('2026-11-21T00:00:00Z')
  const later = await post(a, '/sync', syncRequest({ nodes, pods, parent }))
  clock = new Date('2026-12-25T00:00:00Z')
  const muchLater = await post(a, '/sync', syncRequest({ nodes, pods, parent }))
  t.equal(later.body, first.body)
  t.equal(muchLater.body, later.body)
})

t.test('health, readiness and metrics', async t => {
  const a = app(t)
  t.equal((await a.inject({ url: '/healthz' })).statusCode, 200)
  t.equal((await a.inject({ url: '/readyz' })).statusCode, 200)
  await post(a, '/sync', syncRequest())
  await post(a, '/sync', { controller })
  await post(a, '/customize', { controller, parent: gtp5gModule() })
  const metrics = await a.inject({ url: '/metrics' })
  t.equal(metrics.statusCode, 200)
  t.match(metrics.headers['content-type'], /text\/plain/)
  t.match(metrics.body, /gtp5g_hook_requests_total\{hook="sync",code="200"\} 1/)
  t.match(metrics.body, /gtp5g_hook_requests_total\{hook="sync",code="400"\} 1/)
  t.match(metrics.body, /gtp5g_hook_requests_total\{hook="customize",code="200"\} 1/)
  t.match(metrics.body, /gtp5g_hook_duration_seconds_count\{hook="sync"\} 2/)
  t.match(metrics.body, /process_cpu_seconds_total/)
  t.match(metrics.body, /nodejs_heap_size_used_bytes/)
})

t.test('scale: 5,000 nodes and 5,000 pods in one sync', async t => {
  const a = app(t)
  const nodes = Array.from({ length: 5000 }, (_, i) => node(`worker-${String(i).padStart(5, '0')}`))
  const hash = currentTemplateHash({ nodes: nodes.slice(0, 1) })
  const pods = nodes.map((n, i) => {
    const name = n.metadata?.name ?? ''
    if (i % 10 === 9) return pod(name, hash, { crashed: 'KernelHeadersMissing', message: `no headers for 5.15.0-91-generic on ${name}` }, 'sample', `p${i}`)
    return pod(name, hash, i % 10 === 8 ? 'running' : 'ready', 'sample', `p${i}`)
  })
  const payload = JSON.stringify(syncRequest({ nodes, pods }))
  t.ok(payload.length > 4 * 1024 * 1024, `a realistic request is several MiB (${(payload.length / 1024 / 1024).toFixed(1)} MiB)`)
  const res = await post(a, '/sync', payload)
  t.equal(res.statusCode, 200)
  const status = res.json().status
  t.equal(status.desired, 5000)
  t.equal(status.installed, 4000)
  t.equal(status.failed, 500)
  t.equal(status.phase, 'Failed')
  t.equal(status.installedNodes.length, 4000, 'every installed node: the Node decorator labels from this list')
  t.equal(status.failedNodes.length, 256)
  t.equal(status.failedNodes[0].nodeName, 'worker-00009')
})

// Last: every app above was closed by its test's teardown, so their worker threads are gone.
// An app left open keeps its worker (and a TypeScript loader) until the process exits.
t.test('no app of this file outlives its test', async t => {
  t.equal(threads(), threadsBefore, `${threadsBefore} threads, as before the first app`)
})
