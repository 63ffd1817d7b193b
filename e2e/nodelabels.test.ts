// Nodes say which gtp5g they carry, on the real kube-apiserver, scheduler and Metacontroller
// v4.17.2 (kwok nodes): the chart's Node DecoratorController sets gtp5g.gthulhu.io/version from
// the node lists a module keeps (ConfigMaps per shard of node names, children Metacontroller
// applies and deletes) and removes it with a null label value, touching no other label; the
// example UPF (examples/upf.yaml) stays Pending until a node is labelled and is scheduled after.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { LABEL_ENABLED, LABEL_MODULE, LABEL_NODE_VERSION, nodeListName, nodeShard } from '../contract/index.js'
import { REPO } from './cluster/cluster.js'
import { toolPath } from './cluster/tools.js'
import { type Harness, startHarness, whyNot } from './lib/harness.js'
import { CHART, HOOK_NAMESPACE, INSTALLER_NAMESPACE, RELEASE, SAMPLE } from '../test/support/release.js'
import { getJson, list, type Obj, waitFor, waitForModule } from './lib/kube.js'
import { prerequisiteMet } from '../test/support/prerequisite.js'

const UPF = path.join(REPO, 'examples/upf.yaml')
const UPF_TAINT = 'node-role.kubernetes.io/upf'
const FOREIGN = 'example.com/rack'
let h: Harness

const labelsOf = async (): Promise<Record<string, Record<string, string>>> =>
  Object.fromEntries((await list(h, ['nodes'])).map(n => [n.metadata.name, n.metadata.labels ?? {}]))
const versionLabels = async (): Promise<Record<string, string | undefined>> =>
  Object.fromEntries(Object.entries(await labelsOf()).map(([n, l]) => [n, l[LABEL_NODE_VERSION]]))
/**
 * Every update of every node, as `kubectl get --watch` streams them (the first line of each node
 * is its state when the watch started): its name and the version label it carried.
 */
function watchVersionLabels (): { started: Promise<void>, seen: Array<{ node: string, version: string }>, last: Map<string, string>, stop: () => void } {
  const template = `{.metadata.name}={.metadata.labels.${LABEL_NODE_VERSION.replaceAll('.', '\\.')}}{"\\n"}`
  const child = spawn(toolPath('kubectl') ?? 'kubectl', ['get', 'nodes', '--watch', '-o', `jsonpath=${template}`], { env: { ...process.env, KUBECONFIG: h.kubeconfig }, stdio: ['ignore', 'pipe', 'inherit'] })
  const seen: Array<{ node: string, version: string }> = []
  const last = new Map<string, string>()
  let buffered = ''
  const started = new Promise<void>(resolve => {
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        const [node = '', label = ''] = line.split('=')
        const version = label === '' ? '(none)' : label
        seen.push({ node, version })
        last.set(node, version)
      }
      resolve()
    })
  })
  return { started, seen, last, stop: () => { child.kill() } }
}

const upfPod = async (): Promise<Obj | undefined> => (await list(h, ['pods', '-n', 'default', '-l', 'app.kubernetes.io/name=upf']))[0]
const nodeLists = async (): Promise<Obj[]> => await list(h, ['configmaps', '-n', INSTALLER_NAMESPACE, '-l', `${LABEL_MODULE}=sample`])
const scheduled = (p: Obj | undefined): boolean =>
  (p?.status?.conditions as Array<{ type: string, status: string }> | undefined)?.some(c => c.type === 'PodScheduled' && c.status === 'True') === true

if (prerequisiteMet(whyNot())) {
  t.before(async () => {
    h = await startHarness({ nodes: 3, name: 'nodelabels' })
    await h.helm(['install', RELEASE, CHART, '-n', HOOK_NAMESPACE, '--create-namespace', '--set', `hooks.url=${String(h.hooksUrl)}`, '--wait', '--timeout=2m'])
    await h.kubectl(['wait', '--for=condition=Established', 'crd/gtp5gmodules.operator.gthulhu.io', '--timeout=60s'])
    await h.kubectl(['api-resources', '--api-group=operator.gthulhu.io'])
  })
  t.teardown(async () => { await h?.stop({ failed: !t.passing() }) })

  t.test('label set from status, removed by a null value, the UPF scheduled only on a labelled node', async t => {
    if (h.kind !== 'local') throw new Error('this suite taints and relabels nodes: run it on the local cluster')
    // The nodes the default selector picks (the local cluster also has a canary node of its own).
    const nodes = (await list(h, ['nodes', '-l', `${LABEL_ENABLED}=true`])).map(n => n.metadata.name).sort()
    const [first, second, third] = nodes as [string, string, string]
    // UPF nodes are tainted for the data plane; someone else's label and a stale version label
    // (our key, no module behind it) are on the nodes before the operator sees them.
    for (const n of nodes) {
      await h.kubectl(['taint', 'node', n, `${UPF_TAINT}:NoSchedule`, '--overwrite'])
      await h.kubectl(['label', 'node', n, `${FOREIGN}=r1`, '--overwrite'])
    }
    await h.kubectl(['label', 'node', third, `${LABEL_NODE_VERSION}=v0.0.1`, '--overwrite'])
    await waitFor('the stale version label removed (a null label value, on the real Metacontroller)', async () =>
      (await versionLabels())[third] === undefined ? true : undefined)

    await h.kubectl(['apply', '-n', 'default', '-f', UPF])
    const pending = await waitFor('the UPF pod refused by the scheduler', async () => {
      const p = await upfPod()
      const c = (p?.status?.conditions as Array<{ type: string, status: string, reason?: string, message?: string }> | undefined)?.find(c => c.type === 'PodScheduled')
      return c?.status === 'False' ? c : undefined
    })
    t.match(pending.message, /node affinity/, `Pending: ${pending.message ?? ''}`)

    // The README's sample with the UPF taint tolerated.
    const sample = parse(readFileSync(SAMPLE, 'utf8')) as Obj
    sample.spec.tolerations = [{ key: UPF_TAINT, operator: 'Exists', effect: 'NoSchedule' }]
    await h.kubectl(['apply', '-f', '-'], JSON.stringify(sample))
    const installed = await waitForModule(h, 'sample', 'Installed', m => m.status?.phase === 'Installed')
    t.equal(installed.status.version, 'v0.9.14')
    t.same(installed.status.installedNodes, nodes)
    const labelled = await waitFor('every node labelled with the version', async () => {
      const v = await versionLabels()
      return nodes.every(n => v[n] === 'v0.9.14') ? v : undefined
    }, { describe: versionLabels })
    t.same(labelled, Object.fromEntries(nodes.map(n => [n, 'v0.9.14'])))
    // What the decorator read: one list per shard, each naming its own nodes.
    const lists = await nodeLists()
    t.same(lists.map(l => l.metadata.name).sort(), [...new Set(nodes.map(n => nodeListName('sample', nodeShard(n))))].sort(), 'a node list per shard of the installed nodes')
    t.same(lists.flatMap(l => String((l as Obj & { data?: Record<string, string> }).data?.['nodes.v0.9.14']).split('\n')).sort(), nodes, 'listing every installed node once, under its version')
    t.ok(lists.every(l => l.metadata.ownerReferences?.[0]?.kind === 'GTP5GModule'), 'owned by the module, as children')
    const p = await waitFor('the UPF pod scheduled', async () => { const p = await upfPod(); return scheduled(p) ? p : undefined })
    t.ok(nodes.includes(p.spec.nodeName), `scheduled on ${String(p.spec.nodeName)}`)

    // A node deselected by its owner loses the label; nothing else of its labels changes.
    const before = (await labelsOf())[second] ?? {}
    await h.kubectl(['label', 'node', second, `${LABEL_ENABLED}-`])
    await waitFor('the deselected node unlabelled', async () => (await versionLabels())[second] === undefined ? true : undefined)
    const after = (await labelsOf())[second] ?? {}
    const { [LABEL_NODE_VERSION]: removed, [LABEL_ENABLED]: deselected, ...othersBefore } = before
    t.same(after, othersBefore, 'only our key left; every other label as it was')
    t.equal(removed, 'v0.9.14')
    t.equal(deselected, 'true')
    await h.kubectl(['label', 'node', second, `${LABEL_ENABLED}=true`])
    await waitFor('labelled again once selected and installed', async () => (await versionLabels())[second] === 'v0.9.14' ? true : undefined)

    // A node whose installer fails loses the label.
    await h.setNodeFault?.(first, { reason: 'LoadFailed', message: 'insmod: ERROR: could not insert module', mode: 'crashloop' })
    await waitFor('the failing node unlabelled', async () => (await versionLabels())[first] === undefined ? true : undefined, { describe: versionLabels })
    await h.setNodeFault?.(first)
    await waitFor('labelled again once healed', async () => (await versionLabels())[first] === 'v0.9.14' ? true : undefined, { describe: versionLabels })

    // A version change: each node keeps v0.9.14 until its new installer is ready, then carries
    // v0.9.13. A watch on the nodes sees every update the API server makes, so a label that left
    // a node for a moment on the way would be seen.
    const watch = watchVersionLabels()
    await watch.started
    await h.kubectl(['patch', 'gtp5gmodule', 'sample', '--type=merge', '-p', JSON.stringify({ spec: { version: 'v0.9.13' } })])
    await waitFor('every node relabelled with the new version', async () => {
      const v = await versionLabels()
      return nodes.every(n => v[n] === 'v0.9.13') ? true : undefined
    }, { describe: versionLabels })
    await waitFor('the watch caught up', async () => nodes.every(n => watch.last.get(n) === 'v0.9.13') ? true : undefined)
    watch.stop()
    const updates = watch.seen.filter(u => nodes.includes(u.node))
    t.same(updates.filter(u => u.version !== 'v0.9.14' && u.version !== 'v0.9.13'), [], 'no node was ever without the label during the rollout')
    for (const n of nodes) {
      const versions = updates.filter(u => u.node === n).map(u => u.version).filter((v, i, all) => v !== all[i - 1])
      t.same(versions, ['v0.9.14', 'v0.9.13'], `${n}: v0.9.14, then v0.9.13, and nothing between`)
    }

    // Deleting the module takes every version label away, and only that label.
    await h.kubectl(['delete', 'gtp5gmodule', 'sample', '--wait=false'])
    await waitFor('every version label gone', async () => {
      const v = await versionLabels()
      return nodes.every(n => v[n] === undefined) ? true : undefined
    }, { describe: versionLabels })
    await waitFor('the module gone', async () => (await getJson(h, ['gtp5gmodule', 'sample'])) === undefined ? true : undefined)
    t.same(await nodeLists(), [], 'its node lists deleted with it')
    const finalLabels = await labelsOf()
    for (const n of nodes) t.equal(finalLabels[n]?.[FOREIGN], 'r1', `${n}: someone else's label untouched`)
    await h.kubectl(['delete', '-n', 'default', '-f', UPF])
  })
}
