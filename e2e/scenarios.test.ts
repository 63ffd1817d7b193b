// The operator end to end: the real kube-apiserver, the real Metacontroller and this
// repository's hook server and chart, in the order a user meets them. Nodes are simulated by
// kwok in the local cluster (installer pods do not run; kwok Stages report what the installer
// would), so what is proven here is everything between `kubectl apply` and the pod status the
// installer reports: CRD validation, Metacontroller's calls, our answers being applied, and the
// status they produce. Skipped, with the reason, where the cluster cannot be built.
import { readFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import { parse } from 'yaml'
import { ENV, LABEL_ENABLED, LABEL_MODULE, LABEL_TEMPLATE_HASH } from '../contract/index.js'
import { INVALID_SPECS, VALID_SPECS } from '../test/support/invalidspecs.js'
import { type Harness, startHarness, whyNot } from './lib/harness.js'
import { CHART, HOOK_NAMESPACE, INSTALLER_NAMESPACE, PINNED, RELEASE, SAMPLE } from '../test/support/release.js'
import { condition, getJson, kindsOf, list, type Obj, releaseObjects, stillThere, waitFor, waitForModule } from './lib/kube.js'
import { counter } from '../test/support/metrics.js'
import { prerequisiteMet } from '../test/support/prerequisite.js'

const runs = prerequisiteMet(whyNot())
let h: Harness
/** The nodes the default selector picks, sorted: upf-001… locally, the workers on kind. */
let nodes: string[] = []
/** When the suite itself took the hook server or Metacontroller down, [from, to] in ms. */
const disruptions: Array<[number, number]> = []
async function disrupt (what: () => Promise<void>): Promise<void> {
  const from = Date.now()
  try { await what() } finally { disruptions.push([from, Date.now()]) }
}

const sample = parse(readFileSync(SAMPLE, 'utf8')) as Obj
const applyModule = async (name: string, spec: Record<string, unknown>): Promise<void> => {
  await h.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: sample.apiVersion, kind: sample.kind, metadata: { name }, spec }))
}
const daemonSet = async (module: string): Promise<Obj | undefined> => await getJson(h, ['daemonset', '-n', INSTALLER_NAMESPACE, `gtp5g-installer-${module}`])
const podsOf = async (module: string): Promise<Obj[]> => await list(h, ['pods', '-n', INSTALLER_NAMESPACE, '-l', `${LABEL_MODULE}=${module}`])
const envOf = (ds: Obj, name: string): string | undefined =>
  (ds.spec.template.spec.containers[0].env as Array<{ name: string, value: string }>).find(e => e.name === name)?.value

if (runs) {
  t.before(async () => {
    h = await startHarness({ nodes: 3, name: 'e2e' })
    if (h.kind === 'local') {
      await h.helm(['install', RELEASE, CHART, '-n', HOOK_NAMESPACE, '--create-namespace', '--set', `hooks.url=${String(h.hooksUrl)}`, '--wait', '--timeout=2m'])
    }
    // kubectl caches discovery from before the CRD existed: wait for it, then refresh.
    await h.kubectl(['wait', '--for=condition=Established', 'crd/gtp5gmodules.operator.gthulhu.io', '--timeout=60s'])
    await h.kubectl(['api-resources', '--api-group=operator.gthulhu.io'])
    nodes = (await list(h, ['nodes', '-l', `${LABEL_ENABLED}=true`])).map(n => n.metadata.name).sort()
    if (nodes.length < 3) throw new Error(`the scenarios need 3 nodes labelled ${LABEL_ENABLED}=true, found ${nodes.length}`)
  })
  t.teardown(async () => { await h?.stop({ failed: !t.passing() }) })
}

const scenario = (name: string, fn: (t: Test) => Promise<void>): void => {
  if (runs) t.test(name, fn)
}

scenario('the CRD is served with its descriptions and refuses an invalid version at apply', async t => {
  // The API server publishes a new CRD's discovery and OpenAPI a moment after Established.
  const explain = await waitFor('kubectl explain to know the CRD', async () => {
    await h.kubectl(['api-resources', '--api-group=operator.gthulhu.io'])
    return await h.kubectl(['explain', 'gtp5gmodule.spec'])
  }, { timeoutMs: 60_000 })
  t.match(explain, /The desired gtp5g module and the nodes it belongs on/)
  t.match(explain, /version\s+<string> -required-/)
  await t.rejects(applyModule('bad', { version: 'latest' }), /spec\.version.*should match/s, 'version: latest is refused by the API server')
  // The same table the hook's unit tests refuse (test/support/invalidspecs.ts): CEL rules and patterns at admission.
  for (const row of INVALID_SPECS) {
    await t.rejects(applyModule('bad', { version: 'v0.9.14', ...row.spec }), row.api, `${row.name}: refused, naming ${row.field}`)
  }
  t.equal(await getJson(h, ['gtp5gmodule', 'bad']), undefined, 'nothing was stored')
  for (const spec of VALID_SPECS) {
    const object = JSON.stringify({ apiVersion: sample.apiVersion, kind: sample.kind, metadata: { name: 'fine' }, spec: { version: 'v0.9.14', ...spec } })
    t.match(await h.kubectl(['apply', '--dry-run=server', '-f', '-'], object), /created \(server dry run\)/, `accepted: ${JSON.stringify(spec).slice(0, 60)}`)
  }
  t.match(await h.kubectl(['apply', '--dry-run=server', '-f', PINNED]), /gtp5gmodule\.operator\.gthulhu\.io\/pinned created \(server dry run\)/, 'the chart\'s pinned example is accepted')
})

scenario('create: the DaemonSet has the contract\'s shape, pods become Ready, the module Installed', async t => {
  await h.kubectl(['apply', '-f', SAMPLE])
  const ds = await waitFor('the installer DaemonSet', async () => await daemonSet('sample'))
  t.same(ds.spec.selector, { matchLabels: { [LABEL_MODULE]: 'sample' } })
  t.match(ds.metadata.labels, { 'app.kubernetes.io/name': 'gtp5g-installer', 'app.kubernetes.io/instance': 'sample', 'app.kubernetes.io/managed-by': 'gtp5g-operator', [LABEL_MODULE]: 'sample' })
  const pod = ds.spec.template.spec
  t.equal(pod.automountServiceAccountToken, false)
  t.equal(pod.priorityClassName, 'system-node-critical')
  t.same(pod.containers[0].securityContext.capabilities, { drop: ['ALL'], add: ['SYS_MODULE'] })
  t.equal(envOf(ds, ENV.version), 'v0.9.14')
  t.equal(envOf(ds, ENV.action), 'install')
  t.equal(ds.metadata.ownerReferences?.[0]?.kind, 'GTP5GModule', 'owned by the module (Metacontroller sets it)')

  const m = await waitForModule(h, 'sample', 'Installed on every node', m => m.status?.phase === 'Installed')
  t.match(m.status, { desired: nodes.length, installed: nodes.length, failed: 0, installedNodes: nodes, failedNodes: [] })
  t.equal(condition(m, 'Ready')?.status, 'True')
  t.equal(m.status.observedGeneration, m.metadata.generation, 'Metacontroller wrote observedGeneration')
  await h.kubectl(['wait', '--for=condition=Ready', 'gtp5gmodule/sample', '--timeout=30s'])
  t.pass('kubectl wait --for=condition=Ready returned')
  const printed = await h.kubectl(['get', 'gtp5g', 'sample'])
  t.match(printed, new RegExp(`sample\\s+v0\\.9\\.14\\s+True\\s+${nodes.length}\\s+${nodes.length}\\s+Installed`), 'printer columns')
})

scenario('a failing node: Failed with the installer\'s reason and message; healed, back to Installed', async t => {
  const setFault = h.setNodeFault
  if (setFault === undefined) { await t.test('fault injection', { skip: 'nodes are real here: no fault can be injected' }, async () => {}); return }
  const [healthy, building, headless] = nodes as [string, string, string]
  const buildError = 'gtp5g/src/gtp5g.c:210:9: error: implicit declaration of function netif_rx_ni'
  const headersMissing = 'no /lib/modules/6.1.0-28-amd64/build: install linux-headers-6.1.0-28-amd64'
  await setFault(building, { reason: 'BuildFailed', message: buildError, mode: 'crashloop' })
  await setFault(headless, { reason: 'KernelHeadersMissing', message: headersMissing, mode: 'terminated' })
  const failed = await waitForModule(h, 'sample', 'Failed on two nodes', m => m.status?.phase === 'Failed' && m.status.failed === 2)
  t.same(failed.status.failedNodes, [
    { nodeName: building, reason: 'BuildFailed', message: buildError },
    { nodeName: headless, reason: 'KernelHeadersMissing', message: headersMissing }
  ], 'reasons and messages come from the termination message, in CrashLoopBackOff (lastState) and just terminated')
  t.match(failed.status, { installed: 1, installedNodes: [healthy] })
  t.match(condition(failed, 'Degraded'), { status: 'True', reason: 'NodesFailed' })
  t.match(failed.status.message, `failed on 2 of ${nodes.length} node(s): ${building} (BuildFailed), ${headless} (KernelHeadersMissing)`)

  await setFault(building)
  await setFault(headless)
  const healed = await waitForModule(h, 'sample', 'Installed again', m => m.status?.phase === 'Installed')
  t.match(healed.status, { installed: 3, failed: 0, failedNodes: [] })
  t.equal(condition(healed, 'Degraded')?.status, 'False')
})

scenario('version change: the DaemonSet is updated in place and status follows the rollout to its end', async t => {
  const before = await daemonSet('sample') as Obj
  await applyModule('sample', { version: 'v0.9.15' })
  // While the rollout runs, `installed` never counts a pod of the old template.
  let samples = 0
  let sawProgress = false
  const done = await waitFor('the rollout to v0.9.15', async () => {
    const [m, ds, pods] = await Promise.all([getJson(h, ['gtp5gmodule', 'sample']), daemonSet('sample'), podsOf('sample')])
    if (m === undefined || ds === undefined) return undefined
    const hash = ds.spec.template.metadata.labels[LABEL_TEMPLATE_HASH] as string
    const currentReady = pods.filter(p => p.metadata.labels?.[LABEL_TEMPLATE_HASH] === hash &&
      p.status?.conditions?.some((c: { type: string, status: string }) => c.type === 'Ready' && c.status === 'True')).length
    if (m.metadata.generation === m.status?.observedGeneration) {
      samples++
      if (m.status.installed > currentReady) throw new Error(`installed=${String(m.status.installed)} counts old-template pods (current ready: ${currentReady})`)
      if (m.status.phase === 'Installing') sawProgress = true
    }
    return m.status?.phase === 'Installed' && envOf(ds, ENV.version) === 'v0.9.15' && m.status.observedGeneration === m.metadata.generation ? { m, ds, pods, hash } : undefined
  }, { intervalMs: 100 })
  t.ok(samples > 0, `status checked against the pods ${samples} times during the rollout${sawProgress ? ', Installing seen' : ''}`)
  t.equal(done.ds.metadata.uid, before.metadata.uid, 'the same DaemonSet, updated in place (not recreated)')
  t.ok((done.ds.metadata.generation ?? 0) > (before.metadata.generation ?? 0), 'its generation moved')
  t.ok(done.pods.every(p => p.metadata.labels?.[LABEL_TEMPLATE_HASH] === done.hash), 'every pod runs the new template')
  t.match(done.m.status.message, new RegExp(`v0\\.9\\.15 is loaded on all ${nodes.length} `))
})

scenario('the hook server crashes mid-rollout and Metacontroller restarts: it converges and nothing is deleted', async t => {
  const before = await daemonSet('sample') as Obj
  await applyModule('sample', { version: 'v0.9.16' })
  await disrupt(async () => {
    await h.crashHookServer()
    await waitForModule(h, 'sample', 'Installed at v0.9.16 after the hook server came back', m => m.status?.phase === 'Installed' && m.status.message.includes('v0.9.16'))
  })
  await applyModule('sample', { version: 'v0.9.14' })
  await disrupt(async () => { await h.restartMetacontroller() })
  const m = await waitForModule(h, 'sample', 'Installed at v0.9.14 after Metacontroller restarted', m => m.status?.phase === 'Installed' && m.status.message.includes('v0.9.14'))
  t.equal(m.status.installed, 3)
  t.equal((await daemonSet('sample'))?.metadata.uid, before.metadata.uid, 'the DaemonSet was never deleted')
})

scenario('two overlapping modules: the newer reports Conflict and no node is owned twice', async t => {
  const [first, second] = nodes as [string, string]
  await h.kubectl(['label', 'node', first, second, 'site=edge', '--overwrite'])
  await applyModule('edge', { version: 'v0.9.14', nodeSelector: { site: 'edge' }, unloadOnDelete: false })
  const edge = await waitForModule(h, 'edge', 'Conflict reported', m => condition(m, 'Degraded')?.reason === 'Conflict')
  t.match(condition(edge, 'Degraded')?.message, `${first}, ${second} belong to the older GTP5GModule "sample"`)
  t.equal(edge.status.desired, 0)
  const ds = await waitFor('the edge DaemonSet', async () => await daemonSet('edge'))
  t.same(ds.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms, [{
    matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: [first] }, { key: 'metadata.name', operator: 'NotIn', values: [second] }]
  }], 'the API server stored the exclusion it used to refuse')
  t.equal(ds.status?.desiredNumberScheduled ?? 0, 0, 'the DaemonSet controller schedules nothing on contested nodes')
  const owners = new Map<string, string[]>()
  for (const p of await list(h, ['pods', '-n', INSTALLER_NAMESPACE])) {
    const node = p.spec.nodeName as string
    owners.set(node, [...(owners.get(node) ?? []), p.metadata.labels?.[LABEL_MODULE] ?? '?'])
  }
  t.ok([...owners.values()].every(o => new Set(o).size === 1), `one module per node: ${JSON.stringify(Object.fromEntries(owners))}`)
  t.equal((await getJson(h, ['gtp5gmodule', 'sample']))?.status.phase, 'Installed', 'the older module is undisturbed')
})

scenario('every DaemonSet the hooks returned passes server-side validation and admission again', async t => {
  for (const ds of await list(h, ['daemonsets', '-n', INSTALLER_NAMESPACE])) {
    const applied = ds.metadata.annotations?.['metacontroller.k8s.io/last-applied-configuration']
    t.ok(applied, `${ds.metadata.name}: Metacontroller recorded what the hook returned`)
    if (applied === undefined) continue
    const out = await h.kubectl(['apply', '--dry-run=server', '-f', '-'], applied)
    t.match(out, /configured|unchanged/, `${ds.metadata.name}: kubectl apply --dry-run=server accepts it`)
  }
})

scenario('no hot loop: once converged, syncs stay at the resync rate and status stops changing', async t => {
  const modules = await list(h, ['gtp5gmodules'])
  const before = counter(await h.hookMetrics(), 'gtp5g_hook_requests_total', { hook: 'sync' })
  const stamps = modules.map(m => m.status?.lastUpdateTime as string)
  await new Promise(resolve => setTimeout(resolve, 62_000))
  const after = counter(await h.hookMetrics(), 'gtp5g_hook_requests_total', { hook: 'sync' })
  const perMinute = after - before
  // resyncPeriodSeconds is 60: about one sync per module per minute, plus a little slack.
  t.ok(perMinute <= modules.length * 2 + 2, `${perMinute} syncs in 62 s for ${modules.length} modules`)
  const now = await list(h, ['gtp5gmodules'])
  t.same(now.map(m => m.status?.lastUpdateTime as string), stamps, 'lastUpdateTime did not move: each answer was byte-identical')
})

scenario('delete: without unloadOnDelete gone at once; with it Unloading, the DaemonSet switched to unload, then gone', async t => {
  await h.kubectl(['delete', 'gtp5gmodule', 'edge', '--wait=true', '--timeout=60s'])
  t.equal(await getJson(h, ['gtp5gmodule', 'edge']), undefined, 'edge (unloadOnDelete: false) is gone')
  await waitFor('the edge DaemonSet to be garbage-collected', async () => (await daemonSet('edge')) === undefined ? true : undefined)

  // Hold one node's unload so the Unloading phase can be seen, then let it finish.
  const setFault = h.setNodeFault
  const holdout = nodes[2] as string
  if (setFault !== undefined) await setFault(holdout, { reason: 'ModuleInUse', message: 'gtp5g is in use (refcnt 2): stop the UPF first' })
  await h.kubectl(['delete', 'gtp5gmodule', 'sample', '--wait=false'])
  const unloading = await waitForModule(h, 'sample', 'Unloading', m => m.status?.phase === 'Unloading' && m.metadata.deletionTimestamp !== undefined)
  t.ok(unloading.metadata.finalizers?.some(f => f.startsWith('metacontroller.io/')), 'held by Metacontroller\'s finalizer')
  const ds = await waitFor('the DaemonSet switched to unload', async () => {
    const d = await daemonSet('sample')
    return d !== undefined && envOf(d, ENV.action) === 'unload' ? d : undefined
  })
  t.equal(envOf(ds, ENV.action), 'unload')
  if (setFault !== undefined) {
    const held = await waitForModule(h, 'sample', `${holdout} reported as failing to unload`, m => m.status?.failed === 1)
    t.match(held.status.failedNodes, [{ nodeName: holdout, reason: 'ModuleInUse' }])
    await setFault(holdout)
  }
  await waitFor('the module to be finalized and gone', async () => (await getJson(h, ['gtp5gmodule', 'sample'])) === undefined ? true : undefined)
  await waitFor('its DaemonSet to be gone', async () => (await daemonSet('sample')) === undefined ? true : undefined)
  t.pass('finalized after every node unloaded; module and DaemonSet gone')
})

scenario('Metacontroller never reported a SyncError for any GTP5GModule, but while the suite had taken a component down', async t => {
  const events = await list(h, ['events', '--all-namespaces', '--field-selector=involvedObject.kind=GTP5GModule'])
  t.ok(events.length > 0, `Metacontroller recorded ${events.length} events for GTP5GModules`)
  type Event = Obj & { reason: string, message: string, firstTimestamp?: string, lastTimestamp?: string, eventTime?: string }
  const errors = (events as Event[]).filter(e => e.reason === 'SyncError')
  // While the suite has the hook server or Metacontroller down (the windows `disrupt` records,
  // timestamps with 1 s resolution), a SyncError of any wording is expected: a hook call that
  // failed in transport, a sync cut short. Outside them none is, whatever it says. The one
  // exception is not a failure of ours: Metacontroller races the garbage collector for the
  // finalizer of a module that is already gone.
  const duringDisruption = (e: Event): boolean => [e.firstTimestamp, e.lastTimestamp, e.eventTime]
    .filter((s): s is string => typeof s === 'string')
    .every(s => disruptions.some(([from, to]) => Date.parse(s) >= from - 1000 && Date.parse(s) <= to + 2000))
  // Metacontroller v4.17.2 words the event "Sync error: %s" (pkg/controller/composite/controller.go).
  const finalizerRace = (e: Event): boolean => /^Sync error: can't remove finalizer for GTP5GModule \S+: .*not found$/.test(e.message)
  const expected = (e: Event): boolean => duringDisruption(e) || finalizerRace(e)
  t.ok(disruptions.length >= 2, `the suite recorded its disruption windows (${disruptions.length})`)
  t.same(errors.filter(e => !expected(e)).map(e => `${String(e.lastTimestamp)} ${e.message}`), [],
    `no SyncError outside the deliberate disruptions (${errors.length} during them)`)
})

scenario('uninstall after the modules are gone: nothing of ours remains but the CRD', async t => {
  if (h.kind !== 'local') { await t.test('uninstall', { skip: 'the external cluster keeps its release' }, async () => {}); return }
  // Every object the release made, of every kind (ServiceAccounts, RBAC, policies, ConfigMaps…),
  // as Helm recorded it: `kubectl get all` would see only workloads and Services.
  const manifest = await releaseObjects(h, RELEASE, HOOK_NAMESPACE)
  t.ok(manifest.some(o => o.kind === 'CompositeController'), `the release's ${manifest.length} objects were read (${kindsOf(manifest)})`)
  await h.helm(['uninstall', RELEASE, '-n', HOOK_NAMESPACE, '--wait', '--timeout=2m'])
  t.equal(await getJson(h, ['compositecontroller', RELEASE]), undefined, 'the CompositeController is gone')
  await waitFor('the installer namespace to be deleted', async () => (await getJson(h, ['namespace', INSTALLER_NAMESPACE])) === undefined ? true : undefined)
  t.ok(await getJson(h, ['crd', 'gtp5gmodules.operator.gthulhu.io']), 'the CRD stays, as Helm documents for crds/')
  t.same(await stillThere(h, manifest), [], `none of the release's ${manifest.length} objects remains (${kindsOf(manifest)})`)
  const leftovers = await list(h, ['all', '-n', HOOK_NAMESPACE])
  t.same(leftovers.map(o => `${String(o.kind)}/${o.metadata.name}`), [], 'no workload is left in the hook namespace')
})
