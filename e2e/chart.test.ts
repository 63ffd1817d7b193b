// The Helm chart against a real kube-apiserver (its own local cluster): what `helm template`
// renders passes server-side validation and Pod Security admission, and the chart goes through
// install, CRD upgrade, upgrade, test and uninstall. The hook server is deployed in-cluster here;
// its pods are simulated by kwok, so `helm test` proves Helm's flow and admission, not the check
// the test pod runs (e2e/kind runs that for real).
import path from 'node:path'
import t, { type Test } from 'tap'
import { parse, parseAllDocuments } from 'yaml'
import { type Harness, startHarness, whyNot } from './lib/harness.js'
import { CHART, HOOK_NAMESPACE, INSTALLER_NAMESPACE, RELEASE } from '../test/support/release.js'
import { LABEL_MODULE } from '../contract/index.js'
import { getJson, kindsOf, list, type Obj, releaseObjects, stillThere, waitFor } from './lib/kube.js'
import { METACONTROLLER_DIR } from './cluster/tools.js'
import { prerequisiteMet } from '../test/support/prerequisite.js'

const runs = prerequisiteMet(whyNot() ?? (process.env.E2E_KUBECONFIG !== undefined ? 'the chart suite installs its own release: it runs on the local cluster only' : undefined))
let h: Harness

if (runs) {
  t.before(async () => {
    h = await startHarness({ nodes: 2, name: 'chart' })
    // As the chart README recommends: the hook server's namespace enforces `restricted`.
    await h.kubectl(['create', 'namespace', HOOK_NAMESPACE])
    await h.kubectl(['label', 'namespace', HOOK_NAMESPACE, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/warn=restricted'])
  })
  t.teardown(async () => { await h?.stop({ failed: !t.passing() }) })
}

const scenario = (name: string, fn: (t: Test) => Promise<void>): void => {
  if (runs) t.test(name, fn)
}

/** The installer DaemonSet exactly as the running hook server answers a first sync. */
async function installerDaemonSet (): Promise<Obj> {
  const res = await fetch(`${String(h.hooksUrl)}/sync`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      controller: { metadata: { name: RELEASE } },
      parent: { apiVersion: 'operator.gthulhu.io/v1alpha1', kind: 'GTP5GModule', metadata: { name: 'sample', uid: 'u', generation: 1, creationTimestamp: '2026-11-22T00:00:00Z' }, spec: { version: 'v0.9.14' } },
      children: {},
      related: {}
    })
  })
  return ((await res.json()) as { children: Obj[] }).children[0] as Obj
}

const podFrom = (ds: Obj, namespace: string): string => JSON.stringify({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'installer-admission-probe', namespace }, spec: { ...ds.spec.template.spec, nodeName: 'upf-001' }
})

scenario('the rendered chart passes server-side validation; Pod Security admits each pod where the chart puts it', async t => {
  const rendered = await h.helm(['template', RELEASE, CHART, '-n', HOOK_NAMESPACE, '--kube-version', '1.37.1'])
  const kinds = parseAllDocuments(rendered).map(d => (d.toJS() as Obj | null)?.kind).filter(k => k !== undefined)
  t.ok(kinds.includes('Deployment') && kinds.includes('CompositeController'), `rendered: ${kinds.join(', ')}`)
  await h.kubectl(['apply', '--server-side', '-f', `${CHART}/crds/`])
  const out = await h.kubectl(['apply', '--dry-run=server', '-f', '-'], rendered)
  t.match(out, /deployment\.apps\/gtp5g-operator (created|configured) \(server dry run\)/)
  t.match(out, /compositecontroller\.metacontroller\.k8s\.io\/gtp5g-operator (created|configured) \(server dry run\)/)

  // A Deployment is only warned about; its pods are what `enforce` admits or refuses.
  const deployment = parseAllDocuments(rendered).map(d => d.toJS() as Obj).find(o => o?.kind === 'Deployment') as Obj
  // Its ServiceAccount does not exist before install: the namespace's default stands in.
  const hookPod = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'hook-admission-probe', namespace: HOOK_NAMESPACE }, spec: { ...deployment.spec.template.spec, serviceAccountName: 'default' } })
  t.match(await h.kubectl(['apply', '--dry-run=server', '-f', '-'], hookPod), /created \(server dry run\)/, 'the hook server pod is admitted under enforce=restricted')

  const ds = await installerDaemonSet()
  await t.rejects(h.kubectl(['apply', '--dry-run=server', '-f', '-'], podFrom(ds, HOOK_NAMESPACE)),
    /violates PodSecurity "restricted:latest".*(hostPath|SYS_MODULE|runAsNonRoot)/s, 'an installer pod is refused in the restricted namespace')
  await h.kubectl(['create', 'namespace', INSTALLER_NAMESPACE])
  await h.kubectl(['label', 'namespace', INSTALLER_NAMESPACE, 'pod-security.kubernetes.io/enforce=privileged'])
  t.match(await h.kubectl(['apply', '--dry-run=server', '-f', '-'], podFrom(ds, INSTALLER_NAMESPACE)), /created \(server dry run\)/, 'and admitted in the installer namespace')
  t.match(await h.kubectl(['apply', '--dry-run=server', '-f', '-'], JSON.stringify({ ...ds, metadata: { ...ds.metadata, namespace: INSTALLER_NAMESPACE } })), /created \(server dry run\)/, 'the DaemonSet itself validates')
  await h.kubectl(['delete', 'namespace', INSTALLER_NAMESPACE, '--wait=true'])
})

scenario('a typo in values is refused by helm install with the key named, and nothing is installed', async t => {
  await t.rejects(h.helm(['install', RELEASE, CHART, '-n', HOOK_NAMESPACE, '--set', 'hookServer.replica=3']), /hookServer.*additional properties 'replica' not allowed/)
  t.same(await list(h, ['deployments', '-n', HOOK_NAMESPACE]), [])
})

scenario('without Metacontroller, helm install stops at once and says how to install it', async t => {
  const crds = ['compositecontrollers', 'decoratorcontrollers', 'controllerrevisions'].map(r => `crd/${r}.metacontroller.k8s.io`)
  await h.kubectl(['delete', ...crds, '--wait=true'])
  try {
    await t.rejects(h.helm(['install', RELEASE, CHART, '-n', HOOK_NAMESPACE]),
      /Metacontroller is not installed in this cluster.*helm install metacontroller oci:\/\/ghcr\.io\/metacontroller\/metacontroller-helm --version 4\.17\.2/s)
    t.same(await list(h, ['deployments', '-n', HOOK_NAMESPACE]), [], 'nothing installed')
    t.same(parse(await h.helm(['list', '-n', HOOK_NAMESPACE, '-o', 'yaml'])), [], 'no release recorded')
  } finally {
    // Back as the local cluster installs them, from the Metacontroller directory.
    await h.kubectl(['apply', '--server-side', '--force-conflicts', '-f', path.join(METACONTROLLER_DIR, 'crds')])
    for (const crd of crds) await h.kubectl(['wait', '--for=condition=Established', crd, '--timeout=60s'])
    await h.restartMetacontroller()
  }
})

scenario('install, CRD upgrade, upgrade, test, uninstall', async t => {
  await h.helm(['install', RELEASE, CHART, '-n', HOOK_NAMESPACE, '--wait', '--timeout=3m'])

  // GTP5GModule is cluster-scoped: a second release would be a second controller over it.
  await t.rejects(h.helm(['install', 'second', CHART, '-n', 'gtp5g-second', '--create-namespace', '--set', 'installer.namespace=gtp5g-installers-2']),
    /already installed as release gtp5g-operator in namespace gtp5g-system.*one release serves the whole cluster/s, 'a second release with another installer namespace is refused, naming the first')
  t.equal(await getJson(h, ['namespace', 'gtp5g-installers-2']), undefined, 'its installer namespace was not created')
  t.same((await list(h, ['compositecontrollers'])).map(c => c.metadata.name), [RELEASE], 'one CompositeController')
  const deployment = await getJson(h, ['deployment', '-n', HOOK_NAMESPACE, RELEASE]) as Obj
  t.equal(deployment.status.availableReplicas, 2, 'two hook server replicas available (pods admitted under enforce=restricted)')
  t.ok(await getJson(h, ['pdb', '-n', HOOK_NAMESPACE, RELEASE]), 'PodDisruptionBudget')
  t.equal((await getJson(h, ['namespace', INSTALLER_NAMESPACE]))?.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'privileged')
  const cc = await getJson(h, ['compositecontroller', RELEASE]) as Obj
  t.same(cc.spec.hooks.sync.webhook.service, { name: RELEASE, namespace: HOOK_NAMESPACE, port: 8080 })

  // Helm never upgrades crds/: the chart README's command does.
  const crdOut = await h.kubectl(['apply', '--server-side', '--force-conflicts', '-f', `${CHART}/crds/`])
  t.match(crdOut, /customresourcedefinition\.apiextensions\.k8s\.io\/gtp5gmodules\.operator\.gthulhu\.io serverside-applied/, 'the README\'s CRD upgrade command works')

  const generation = deployment.metadata.generation ?? 0
  await h.helm(['upgrade', RELEASE, CHART, '-n', HOOK_NAMESPACE, '--set', 'hookServer.logLevel=debug', '--wait', '--timeout=3m'])
  const upgraded = await waitFor('the upgraded Deployment to roll out', async () => {
    const d = await getJson(h, ['deployment', '-n', HOOK_NAMESPACE, RELEASE])
    return d !== undefined && (d.metadata.generation ?? 0) > generation && d.status.updatedReplicas === 2 && d.status.observedGeneration === d.metadata.generation ? d : undefined
  })
  const env = upgraded.spec.template.spec.containers[0].env as Array<{ name: string, value: string }>
  t.equal(env.find(e => e.name === 'LOG_LEVEL')?.value, 'debug', 'a values change rolls the hook Deployment')
  t.ok((await list(h, ['replicasets', '-n', HOOK_NAMESPACE, '-l', `app.kubernetes.io/instance=${RELEASE}`])).length >= 2, 'through a new ReplicaSet')

  const tested = await h.helm(['test', RELEASE, '-n', HOOK_NAMESPACE, '--timeout=2m'])
  // What this proves: Helm's test hook flow, and that the API server admits the test pod where
  // the chart puts it. kwok reports every test pod Succeeded, so it does NOT prove the pod's
  // check passes: test/helm/testpod.test.ts runs that script against a real hook server.
  t.match(tested, /Phase:\s+Succeeded/, 'helm test: the test pod was created, admitted and reported (by kwok) Succeeded')

  await t.test('the installer namespace admits only pods the DaemonSet controller creates for installer DaemonSets (ValidatingAdmissionPolicy)', async t => {
    // Issue 14 finding 10, on the real API server: the namespace is privileged, so a pod there
    // is root on a node, and the hooks read installer status from the pods there.
    const ds = await installerDaemonSet()
    const installer = { ...ds, metadata: { ...ds.metadata, namespace: INSTALLER_NAMESPACE } }
    const denied = /ValidatingAdmissionPolicy 'gtp5g-operator-installer-pods' with binding 'gtp5g-operator-installer-pods' denied request/
    await t.rejects(h.kubectl(['apply', '-f', '-'], podFrom(ds, INSTALLER_NAMESPACE)),
      new RegExp(`${denied.source}: pods in ${INSTALLER_NAMESPACE} are created by the DaemonSet controller only \\(and the unprivileged scheduling agent by the ReplicaSet controller\\), not by kubernetes-admin`), 'a bare pod, even a cluster admin\'s')
    const owned = JSON.parse(podFrom(ds, INSTALLER_NAMESPACE)) as { metadata: Record<string, unknown> }
    owned.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'gtp5g-installer-sample', uid: '6d1c4a52-0c1e-4b8e-9d59-3a7f2f1b0c11', controller: true }]
    await t.rejects(h.kubectl(['apply', '-f', '-'], JSON.stringify(owned)), denied, 'a pod that claims an installer DaemonSet as its owner')
    await t.rejects(h.kubectl(['run', 'shell', '-n', INSTALLER_NAMESPACE, '--image=busybox', '--restart=Never']), denied, 'kubectl run')

    await h.kubectl(['apply', '-f', '-'], JSON.stringify(installer))
    const pods = await waitFor('the DaemonSet controller to create installer pods', async () => {
      const found = await list(h, ['pods', '-n', INSTALLER_NAMESPACE, '-l', `${LABEL_MODULE}=sample`])
      return found.length >= 2 ? found : undefined
    }, { timeoutMs: 60_000 })
    t.ok(pods.every(p => p.metadata.ownerReferences?.[0]?.name === 'gtp5g-installer-sample'), `the installer DaemonSet's pods are admitted (${pods.length})`)

    const otherLabels = { 'app.kubernetes.io/name': 'not-an-installer' }
    const other = { ...installer, metadata: { name: 'not-an-installer', namespace: INSTALLER_NAMESPACE }, spec: { ...installer.spec, selector: { matchLabels: otherLabels }, template: { ...installer.spec.template, metadata: { labels: otherLabels } } } }
    await h.kubectl(['apply', '-f', '-'], JSON.stringify(other))
    const refusal = await waitFor('the DaemonSet controller to report its refused pods', async () => {
      const events = await list(h, ['events', '-n', INSTALLER_NAMESPACE, '--field-selector', 'involvedObject.name=not-an-installer,reason=FailedCreate'])
      return (events[0] as { message?: string } | undefined)?.message
    }, { timeoutMs: 60_000 })
    t.match(refusal, /must belong to a gtp5g-operator installer DaemonSet \(gtp5g-installer-\*\)/, 'another DaemonSet\'s pods are refused, even when the DaemonSet controller creates them')
    t.same(await list(h, ['pods', '-n', INSTALLER_NAMESPACE, '-l', 'app.kubernetes.io/name=not-an-installer']), [], 'and none exists')
    await h.kubectl(['delete', 'daemonset', '-n', INSTALLER_NAMESPACE, 'not-an-installer', 'gtp5g-installer-sample', '--wait=true'])

    // The one other pod admitted there: the scheduling agent (spec.scheduling), created by the
    // ReplicaSet controller for a gtp5g-scheduling-* Deployment, and only while unprivileged.
    const agentRs = (name: string, podSpec: Record<string, unknown>): string => JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name, namespace: INSTALLER_NAMESPACE },
      spec: { replicas: 1, selector: { matchLabels: { agent: name } }, template: { metadata: { labels: { agent: name } }, spec: { automountServiceAccountToken: false, containers: [{ name: 'agent', image: 'busybox' }], ...podSpec } } }
    })
    await h.kubectl(['apply', '-f', '-'], agentRs('gtp5g-scheduling-plain', {}))
    await h.kubectl(['apply', '-f', '-'], agentRs('gtp5g-scheduling-hostnet', { hostNetwork: true }))
    const admitted = await waitFor('the unprivileged agent pod to be admitted', async () => {
      const found = await list(h, ['pods', '-n', INSTALLER_NAMESPACE, '-l', 'agent=gtp5g-scheduling-plain'])
      return found.length > 0 ? found : undefined
    }, { timeoutMs: 60_000 })
    const hostnet = await waitFor('the ReplicaSet controller to report its refused pod', async () => {
      const events = await list(h, ['events', '-n', INSTALLER_NAMESPACE, '--field-selector', 'involvedObject.name=gtp5g-scheduling-hostnet,reason=FailedCreate'])
      return (events[0] as { message?: string } | undefined)?.message
    }, { timeoutMs: 60_000 })
    t.match(hostnet, /created by the DaemonSet controller only .*not by system:serviceaccount:kube-system:replicaset-controller/, 'a gtp5g-scheduling-* pod with host networking is refused')
    t.equal(admitted[0]?.metadata.ownerReferences?.[0]?.name, 'gtp5g-scheduling-plain', 'an unprivileged gtp5g-scheduling-* pod from the ReplicaSet controller is admitted')
    await h.kubectl(['delete', 'replicaset', '-n', INSTALLER_NAMESPACE, 'gtp5g-scheduling-plain', 'gtp5g-scheduling-hostnet', '--wait=true'])
  })

  const manifest = await releaseObjects(h, RELEASE, HOOK_NAMESPACE)
  await h.helm(['uninstall', RELEASE, '-n', HOOK_NAMESPACE, '--wait', '--timeout=2m'])
  t.same(await stillThere(h, manifest), [], `none of the release's ${manifest.length} objects remains (${kindsOf(manifest)})`)
  const left = await list(h, ['all', '-n', HOOK_NAMESPACE])
  t.same(left.map(o => `${String(o.kind)}/${o.metadata.name}`), [], 'no workload is left in the release namespace')
  t.equal(await getJson(h, ['compositecontroller', RELEASE]), undefined, 'the CompositeController is gone')
  await waitFor('the installer namespace to be gone', async () => (await getJson(h, ['namespace', INSTALLER_NAMESPACE])) === undefined ? true : undefined)
  t.ok(await getJson(h, ['crd', 'gtp5gmodules.operator.gthulhu.io']), 'the CRD stays (Helm never deletes crds/)')
  t.equal(parse(await h.helm(['list', '-n', HOOK_NAMESPACE, '-o', 'yaml'])).length, 0, 'no release left')
})
