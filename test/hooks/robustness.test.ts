// Malformed but envelope-valid requests, each once a 500 found by fuzzing (fuzz.ts): observed
// objects are JSON we do not control. Each row must be answered without a 5xx and without
// dropping the observed DaemonSet; the rows are kept as regression tests.
import t, { type Test } from 'tap'
import { daemonSetName } from '../../contract/index.js'
import { sync } from '../../hooks/core/hooks.js'
import { DAEMONSET_KEY, LAST_APPLIED_ANNOTATION, MODULE_KEY, NODE_KEY, POD_KEY } from '../../hooks/core/metacontroller.js'
import { buildApp } from '../../hooks/server/app.js'
import { CONFIG, currentTemplateHash, gtp5gModule, node, NOW, observedDaemonSet, pod, syncRequest } from '../support/hookfixtures.js'

type Req = ReturnType<typeof syncRequest> & Record<string, any>

/** A marker the payload text replaces with `depth` nested arrays: JSON.stringify itself cannot write that deep. */
const deep = (depth: number): string => `\u0000deep:${depth}`
const withDeepValues = (json: string): string => json.replace(/"\\u0000deep:(\d+)"/g, (_, n: string) => '['.repeat(Number(n)) + '"x"' + ']'.repeat(Number(n)))

const nodes = [node('node-a'), node('node-b')]
const hash = currentTemplateHash({ nodes })
const desired = sync(syncRequest({ nodes }), CONFIG, NOW).children[0] ?? {}

/** A realistic request with an observed DaemonSet, a pod per node, and a previous status. */
function base (): Req {
  const parent = gtp5gModule({ status: structuredClone(sync(syncRequest({ nodes }), CONFIG, NOW).status) as Record<string, unknown> })
  return structuredClone(syncRequest({ parent, nodes, pods: [pod('node-a', hash, 'ready'), pod('node-b', hash, { crashed: 'BuildFailed', message: 'error' })], children: [observedDaemonSet(desired)] })) as Req
}

const podOf = (r: Req, i: number): any => Object.values(r.related?.[POD_KEY] ?? {})[i]
const nodeOf = (r: Req, i: number): any => Object.values(r.related?.[NODE_KEY] ?? {})[i]
const childOf = (r: Req): any => Object.values(r.children?.[DAEMONSET_KEY] ?? {})[0]

const rows: Array<{ name: string, mutate: (r: Req) => void, route?: string, code?: number, check?: (t: Test, body: any) => void }> = [
  { name: 'deep nesting in spec.tolerations', mutate: r => { (r.parent.spec as any).tolerations = deep(20_000) }, check: (t, b) => t.match(degraded(b)?.message, /^spec\.tolerations/) },
  { name: 'deep nesting in spec.kernelVersion', mutate: r => { (r.parent.spec as any).kernelVersion = deep(200_000) }, check: (t, b) => t.match(degraded(b)?.message, /^spec\.kernelVersion/) },
  { name: 'deep nesting in an unknown field of a toleration', mutate: r => { (r.parent.spec as any).tolerations = [{ key: 'upf', operator: 'Exists', future: deep(20_000) }] } },
  { name: 'deep nesting in an unknown spec field', mutate: r => { (r.parent.spec as any).future = deep(20_000) } },
  { name: 'a deeply nested creationTimestamp of a module', mutate: r => { (r.related?.[MODULE_KEY]?.sample?.metadata as any).creationTimestamp = deep(20_000) } },
  { name: 'a deeply nested deletionTimestamp while finalizing', mutate: r => { r.finalizing = true; (r.parent.metadata as any).deletionTimestamp = deep(20_000) } },
  { name: 'taints: {}', mutate: r => { nodeOf(r, 0).spec.taints = {} } },
  { name: 'taints: a number', mutate: r => { nodeOf(r, 0).spec.taints = 1e308 } },
  { name: 'taints: [null]', mutate: r => { nodeOf(r, 0).spec.taints = [null] } },
  { name: 'node spec: a string', mutate: r => { nodeOf(r, 0).spec = 'x' } },
  { name: 'containerStatuses: "x"', mutate: r => { podOf(r, 0).status.containerStatuses = 'x' } },
  { name: 'containerStatuses: [null]', mutate: r => { podOf(r, 1).status.containerStatuses = [null] } },
  { name: 'pod conditions: an object', mutate: r => { podOf(r, 0).status.containerStatuses[0].ready = false; podOf(r, 0).status.conditions = { a: 1 } } },
  { name: 'pod conditions: [null]', mutate: r => { podOf(r, 0).status.containerStatuses[0].ready = false; podOf(r, 0).status.conditions = [null] } },
  { name: 'a numeric node name', mutate: r => { nodeOf(r, 0).metadata.name = 5 } },
  { name: 'a node name that is an object', mutate: r => { nodeOf(r, 1).metadata.name = { a: deep(20_000) } } },
  { name: 'numeric pod names on one node', mutate: r => { const p = structuredClone(podOf(r, 0)); p.metadata.name = 7; podOf(r, 0).metadata.name = 6; (r.related as any)[POD_KEY].extra = p } },
  { name: 'a numeric module name among the modules', mutate: r => { (r.related as any)[MODULE_KEY].other = gtp5gModule({ name: 'x' }); (r.related as any)[MODULE_KEY].other.metadata.name = 9 } },
  { name: 'terminated.message: 5', mutate: r => { podOf(r, 1).status.containerStatuses[0].lastState.terminated.message = 5 }, check: (t, b) => t.ok(b.status.failedNodes.every((f: any) => typeof f.message === 'string' && typeof f.reason === 'string'), 'failed nodes have string reasons and messages') },
  { name: 'waiting.message and terminated.reason not strings', mutate: r => { podOf(r, 1).status.containerStatuses[0] = { name: 'installer', ready: false, state: { terminated: { exitCode: 3, reason: ['x'], message: { a: 1 } } } } }, check: (t, b) => t.same(b.status.failedNodes.map((f: any) => [typeof f.reason, typeof f.message]), [['string', 'string']]) },
  { name: 'a state that is null', mutate: r => { podOf(r, 1).status.containerStatuses[0].state = null; podOf(r, 1).status.containerStatuses[0].lastState = 'x' } },
  { name: 'a pod nodeName that is a number', mutate: r => { podOf(r, 0).spec.nodeName = 1 } },
  { name: 'pod metadata: null', mutate: r => { podOf(r, 0).metadata = null } },
  { name: 'labels: a string', mutate: r => { nodeOf(r, 0).metadata.labels = 'gtp5g.gthulhu.io/enabled=true' } },
  { name: 'a non-integer generation', mutate: r => { (r.parent.metadata as any).generation = deep(20_000) }, check: (t, b) => t.ok(b.status.conditions.every((c: any) => c.observedGeneration === undefined), 'no observedGeneration from garbage') },
  { name: 'previous conditions: an object, with an invalid spec', mutate: r => { (r.parent as any).status.conditions = { a: 1 }; (r.parent.spec as any).version = 'latest' }, check: (t, b) => t.equal(degraded(b)?.reason, 'InvalidSpec') },
  { name: 'previous status full of garbage, with an invalid spec', mutate: r => { Object.assign((r.parent as any).status, { phase: deep(20_000), installedNodes: [deep(20_000)], failedNodes: [{ nodeName: 'n', reason: 'r', message: 'm', extra: deep(20_000) }], extra: deep(20_000), conditions: [null, 5] }); (r.parent.spec as any).version = 'latest' }, check: (t, b) => t.equal(degraded(b)?.reason, 'InvalidSpec') },
  { name: 'previous status: a string', mutate: r => { (r.parent as any).status = 'x'; (r.parent.spec as any).version = 'latest' } },
  { name: 'an observed DaemonSet nested 20,000 deep', mutate: r => { childOf(r).spec.future = deep(20_000) }, code: 400, check: (t, b) => t.match(b.field, /^children\.DaemonSet\.apps\/v1\.gtp5g-system\/gtp5g-installer-sample\.spec\.future/) },
  { name: 'a last-applied annotation nested 20,000 deep', mutate: r => { childOf(r).metadata.annotations = { [LAST_APPLIED_ANNOTATION]: JSON.stringify({ ...desired, x: 1 }).replace('"x":1', `"x":${'['.repeat(20_000)}${']'.repeat(20_000)}`) }; (r.parent.spec as any).version = 'latest' } },
  { name: 'a 100,000-line termination message', mutate: r => { podOf(r, 1).status.containerStatuses[0].lastState.terminated.message = '{\n'.repeat(100_000) } }
]

const degraded = (body: any): any => body.status?.conditions?.find((c: any) => c?.type === 'Degraded')

const { app } = buildApp({ hooks: CONFIG, bodyLimit: 64 * 1024 * 1024, logLevel: 'silent', now: () => NOW })
t.teardown(async () => await app.close())

for (const row of rows) {
  t.test(row.name, async t => {
    const req = base()
    row.mutate(req)
    const res = await app.inject({ method: 'POST', url: row.route ?? '/sync', headers: { 'content-type': 'application/json' }, payload: withDeepValues(JSON.stringify(req)) })
    t.equal(res.statusCode, row.code ?? 200, res.statusCode >= 500 ? res.body : 'answered')
    const body = res.json()
    if (res.statusCode === 200) {
      const names = (body.children as any[]).map(c => c?.metadata?.name)
      t.ok(body.finalized === true || names.includes(daemonSetName('sample')), 'the observed DaemonSet is kept')
    }
    row.check?.(t, body)
  })
}
