// The HTTP contract as Metacontroller sees it, through app.inject (no sockets needed).
import t from 'tap'
import { buildApp } from '../../hooks/server/app.js'
import { CONFIG, controller, currentTemplateHash, gtp5gModule, node, NOW, observedDaemonSet, pod, syncRequest } from './fixtures.js'

function app (now = NOW): ReturnType<typeof buildApp>['app'] {
  return buildApp({ hooks: CONFIG, bodyLimit: 64 * 1024 * 1024, logLevel: 'silent', now: () => now }).app
}

const post = async (a: ReturnType<typeof app>, url: string, payload: unknown, contentType = 'application/json'): Promise<{ statusCode: number, body: string, json: () => any }> =>
  await a.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) })

t.test('sync answers status and the full DaemonSet', async t => {
  const a = app()
  t.teardown(async () => await a.close())
  const res = await post(a, '/sync', syncRequest({ nodes: [node('node-a')] }))
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.status.phase, 'Pending')
  t.equal(body.children.length, 1)
  t.equal(body.children[0].spec.template.spec.containers[0].securityContext.capabilities.add[0], 'SYS_MODULE', 'deep fields survive serialization')
  t.notOk('resyncAfterSeconds' in body)
})

t.test('observed children come back whole: no response schema strips unknown fields', async t => {
  const a = app()
  t.teardown(async () => await a.close())
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

t.test('bad requests are 400 with a JSON body naming the problem', async t => {
  const a = app()
  t.teardown(async () => await a.close())
  const valid = syncRequest({ nodes: [node('node-a')] })
  const rows: Array<{ name: string, url?: string, payload: unknown, contentType?: string, code: number, field?: string, message: RegExp }> = [
    { name: 'malformed JSON', payload: '{"controller": {', code: 400, message: /not valid JSON/ },
    { name: 'an array body', payload: '[]', code: 400, field: 'body', message: /must be object/ },
    { name: 'a string body', payload: '"sync please"', code: 400, field: 'body', message: /must be object/ },
    { name: 'null body', payload: 'null', code: 400, field: 'body', message: /^body must be object$/ },
    { name: 'missing parent', payload: { controller }, code: 400, field: 'parent', message: /required property 'parent'/ },
    { name: 'parent without a name', payload: { ...valid, parent: { apiVersion: 'operator.gthulhu.io/v1alpha1', kind: 'GTP5GModule', metadata: {} } }, code: 400, field: 'parent.metadata.name', message: /required property 'name'/ },
    { name: 'missing controller', payload: { parent: valid.parent }, code: 400, field: 'controller', message: /required property 'controller'/ },
    { name: 'children not a map of maps', payload: { ...valid, children: { 'DaemonSet.apps/v1': [1, 2] } }, code: 400, field: 'children.DaemonSet.apps/v1', message: /must be object/ },
    { name: 'finalizing not a boolean', payload: { ...valid, finalizing: 'maybe' }, code: 400, field: 'finalizing', message: /boolean/ },
    // No type coercion: "true" or 1 must not take the finalize path and switch nodes to unload.
    { name: 'finalizing as the string "true"', payload: { ...valid, finalizing: 'true' }, code: 400, field: 'finalizing', message: /boolean/ },
    { name: 'finalizing as the number 1', payload: { ...valid, finalizing: 1 }, code: 400, field: 'finalizing', message: /boolean/ },
    { name: 'a numeric parent name', payload: { ...valid, parent: { ...valid.parent, metadata: { name: 5 } } }, code: 400, field: 'parent.metadata.name', message: /string/ },
    { name: 'customize with a numeric parent name', url: '/customize', payload: { controller, parent: { ...valid.parent, metadata: { name: 5 } } }, code: 400, field: 'parent.metadata.name', message: /string/ },
    { name: 'customize without parent', url: '/customize', payload: { controller }, code: 400, field: 'parent', message: /parent/ },
    { name: 'plain text', payload: 'parent=x', contentType: 'text/plain', code: 400, field: 'body', message: /must be object/ },
    { name: 'an unknown content type', payload: 'parent=x', contentType: 'application/x-www-form-urlencoded', code: 415, message: /Unsupported Media Type/i }
  ]
  for (const row of rows) {
    const res = await post(a, row.url ?? '/sync', row.payload, row.contentType)
    t.equal(res.statusCode, row.code, `${row.name}: status`)
    const body = res.json()
    t.match(body.message, row.message, `${row.name}: message`)
    if (row.field !== undefined) t.equal(body.field, row.field, `${row.name}: field`)
  }
})

t.test('a body over the limit is refused with 413, not truncated', async t => {
  const small = buildApp({ hooks: CONFIG, bodyLimit: 2048, logLevel: 'silent' }).app
  t.teardown(async () => await small.close())
  const res = await post(small, '/sync', syncRequest({ nodes: [node('node-a'), node('node-b')] }))
  t.equal(res.statusCode, 413)
  t.match(res.json().message, /too large/i)
})

t.test('an internal error is a 500 (Metacontroller retries), never a 200 with partial children', async t => {
  const a = app(new Date(Number.NaN))
  t.teardown(async () => await a.close())
  // An invalid clock makes timestamp() throw deep inside the core.
  const res = await post(a, '/sync', syncRequest({ nodes: [node('node-a')] }))
  t.equal(res.statusCode, 500)
  t.notOk('children' in res.json())
})

t.test('customize asks for our pods, the selected nodes and every GTP5GModule', async t => {
  const a = app()
  t.teardown(async () => await a.close())
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
  const a = app()
  t.teardown(async () => await a.close())
  const res = await post(a, '/finalize', syncRequest({ parent: gtp5gModule({ deletionTimestamp: '2026-11-20T09:59:00Z' }), nodes: [node('node-a')], finalizing: true }))
  t.equal(res.statusCode, 200)
  t.equal(res.json().finalized, false)
  t.equal(res.json().status.phase, 'Unloading')
})

t.test('the same request gives byte-identical responses', async t => {
  const nodes = [node('node-a'), node('node-b')]
  const hash = currentTemplateHash({ nodes })
  const pods = [pod('node-a', hash, 'ready'), pod('node-b', hash, { crashed: 'BuildFailed', message: 'error: x' })]
  const first = await post(app(NOW), '/sync', syncRequest({ nodes, pods }))
  const parent = gtp5gModule({ status: first.json().status })
  const a = await post(app(new Date('2026-11-21T00:00:00Z')), '/sync', syncRequest({ nodes, pods, parent }))
  const b = await post(app(new Date('2026-12-25T00:00:00Z')), '/sync', syncRequest({ nodes, pods, parent }))
  t.equal(a.body, first.body)
  t.equal(b.body, a.body)
})

t.test('health, readiness and metrics', async t => {
  const a = app()
  t.teardown(async () => await a.close())
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
  const a = app()
  t.teardown(async () => await a.close())
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
