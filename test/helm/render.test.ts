// `helm template` with the default values and each ci/*-values.yaml: which objects render, their
// labels, Pod Security `restricted`, no RBAC, and the hook server's settings taken from values.
import t from 'tap'
import { DEFAULT_TARGET_NAMESPACE } from '../../contract/index.js'
import { DEFAULT_AGENT_IMAGE, DEFAULT_BODY_LIMIT_BYTES, DEFAULT_INSTALLER_IMAGE, EnvSchema, loadConfig } from '../../hooks/server/config.js'
import { chart, ciFiles, ciPath, ciValues, helmOrSkip, type Manifest, NAMESPACE, one, RELEASE, render, type RenderOptions } from './chart.js'
import { type ContainerSpec, type PodSpec, restrictedViolations } from './podsecurity.js'

interface Container extends ContainerSpec {
  image: string
  imagePullPolicy: string
  env: Array<{ name: string, value: string }>
  ports: Array<{ name: string, containerPort: number, protocol: string }>
  livenessProbe: { httpGet: { path: string, port: string } }
  readinessProbe: { httpGet: { path: string, port: string } }
  resources: Record<string, Record<string, string>>
}
interface HookPodSpec extends PodSpec {
  containers: Container[]
  serviceAccountName?: string
  automountServiceAccountToken?: boolean
  enableServiceLinks?: boolean
  nodeSelector?: Record<string, string>
  tolerations?: unknown[]
  priorityClassName?: string
  imagePullSecrets?: Array<{ name: string }>
  topologySpreadConstraints?: Array<Record<string, unknown>>
}
interface Deployment extends Manifest {
  spec: { replicas: number, selector: { matchLabels: Record<string, string> }, template: { metadata: { labels: Record<string, string>, annotations?: Record<string, string> }, spec: HookPodSpec } }
}
interface Pod extends Manifest { spec: HookPodSpec }
interface Service extends Manifest { spec: { type: string, selector: Record<string, string>, ports: Array<{ name: string, port: number, targetPort: string }> } }
interface Webhook { url?: string, service?: { name: string, namespace: string, port: number }, path?: string, timeout: string }
interface CompositeController extends Manifest { spec: { hooks: Record<string, { version: string, webhook: Webhook }> } }

const HOOKS = ['customize', 'sync', 'finalize']
const NAMESPACED = new Set(['ServiceAccount', 'Service', 'Deployment', 'PodDisruptionBudget', 'NetworkPolicy', 'ServiceMonitor', 'Pod'])
const COMPONENTS = new Set(['hook-server', 'controller', 'installer', 'test', 'rbac'])
// The NetworkPolicy is on by default (issue 14 finding 7): the hook routes take no credentials.
// So is the installer namespace's admission policy (finding 10), with or without hooks.url.
const ADMISSION = ['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']
const IN_CLUSTER = ['CompositeController', 'DecoratorController', 'Deployment', 'Namespace', 'NetworkPolicy', 'Pod', 'PodDisruptionBudget', 'Service', 'ServiceAccount', ...ADMISSION]

const envOf = (c: Container): Record<string, string> => Object.fromEntries(c.env.map(e => [e.name, e.value]))
const hookContainer = (objects: Manifest[]): Container => one<Deployment>(objects, 'Deployment').spec.template.spec.containers[0] as Container

/** Pod specs wherever they render: Deployment templates and bare Pods (the helm test). */
function podSpecs (objects: Manifest[]): Array<[string, HookPodSpec]> {
  const out: Array<[string, HookPodSpec]> = []
  for (const o of objects) {
    if (o.kind === 'Deployment') out.push([`Deployment ${o.metadata.name}`, (o as Deployment).spec.template.spec])
    if (o.kind === 'Pod') out.push([`Pod ${o.metadata.name}`, (o as Pod).spec])
  }
  return out
}

const helm = helmOrSkip()
if (helm !== undefined) {
  const renderings: Array<[string, RenderOptions, string[]]> = [
    ['default values', {}, IN_CLUSTER],
    ...ciFiles.map((f): [string, RenderOptions, string[]] => [f, { valuesFiles: [ciPath(f)] },
      f === 'external-hooks-values.yaml' ? ['CompositeController', 'DecoratorController', 'Namespace', ...ADMISSION] : f === 'all-optional-values.yaml' ? [...IN_CLUSTER, 'ClusterRole', 'ServiceMonitor'].sort() : IN_CLUSTER])
  ]

  t.test('ci/ holds the default-ish, external-hooks and all-optional-on files', async t => {
    t.same(ciFiles, ['all-optional-values.yaml', 'default-values.yaml', 'external-hooks-values.yaml'])
  })

  for (const [name, options, kinds] of renderings) {
    t.test(`${name}: kinds, labels, namespaces, no RBAC, Pod Security restricted`, async t => {
      const objects = await render(helm, options)
      t.same(objects.map(o => o.kind).sort(), kinds, 'the objects rendered')
      for (const kind of ['Role', 'RoleBinding', 'ClusterRoleBinding']) t.notOk(objects.some(o => o.kind === kind), `no ${kind}: the hook server never calls the API`)
      for (const role of objects.filter(o => o.kind === 'ClusterRole')) {
        t.equal(role.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-admin'], 'true', `${role.metadata.name}: only the ClusterRole aggregated into admin, bound to nobody here`)
      }
      for (const o of objects) {
        const at = `${o.kind} ${o.metadata.name}`
        const labels = o.metadata.labels ?? {}
        t.equal(labels['helm.sh/chart'], `${chart.name}-${chart.version}`, `${at}: helm.sh/chart`)
        t.equal(labels['app.kubernetes.io/name'], chart.name, `${at}: app.kubernetes.io/name`)
        t.equal(labels['app.kubernetes.io/instance'], RELEASE, `${at}: app.kubernetes.io/instance`)
        t.equal(labels['app.kubernetes.io/version'], chart.appVersion, `${at}: app.kubernetes.io/version`)
        t.equal(labels['app.kubernetes.io/managed-by'], 'Helm', `${at}: app.kubernetes.io/managed-by`)
        t.ok(COMPONENTS.has(labels['app.kubernetes.io/component'] ?? ''), `${at}: app.kubernetes.io/component`)
        if (NAMESPACED.has(o.kind)) t.equal(o.metadata.namespace, NAMESPACE, `${at}: in the release namespace`)
        else t.equal(o.metadata.namespace, undefined, `${at}: cluster-scoped`)
        if (o.kind === 'ServiceAccount') t.equal(o.automountServiceAccountToken, false, `${at}: no token`)
      }
      for (const [at, spec] of podSpecs(objects)) {
        t.same(restrictedViolations(spec), [], `${at}: Pod Security restricted`)
        const sc = spec.containers[0]?.securityContext
        t.equal(sc?.readOnlyRootFilesystem, true, `${at}: read-only root filesystem`)
        t.equal(sc?.runAsUser ?? spec.securityContext?.runAsUser, 65532, `${at}: the image's uid`)
        t.equal(spec.automountServiceAccountToken, false, `${at}: no API token`)
      }
    })
  }

  t.test('defaults: images at appVersion, env as the hook server reads it, installers apart', async t => {
    const objects = await render(helm)
    const c = hookContainer(objects)
    t.equal(c.image, `ghcr.io/gthulhu/gtp5g-operator:${chart.appVersion}`)
    t.same(envOf(c), {
      TARGET_NAMESPACE: 'gtp5g-installers',
      INSTALLER_IMAGE: `ghcr.io/gthulhu/gtp5g-installer:${chart.appVersion}`,
      // The scheduling agent (spec.scheduling) runs from the hook server's own image.
      AGENT_IMAGE: `ghcr.io/gthulhu/gtp5g-operator:${chart.appVersion}`,
      LOG_LEVEL: 'info',
      BODY_LIMIT_BYTES: '33554432',
      FINALIZE_TIMEOUT_SECONDS: '600',
      ALLOWED_IMAGE_PREFIXES: '',
      ALLOWED_SOURCE_PREFIXES: '',
      REQUIRE_SOURCE_SHA256: 'false',
      REQUEST_TIMEOUT_SECONDS: '25',
      HOOK_WORKERS: '1',
      MAX_HOOKS_IN_FLIGHT: '8',
      INSTALLER_PRIORITY_CLASS_NAME: 'system-node-critical',
      INSTALLER_RESOURCES: '{"limits":{"ephemeral-storage":"1Gi","memory":"1Gi"},"requests":{"cpu":"50m","ephemeral-storage":"64Mi","memory":"64Mi"}}',
      INSTALLER_IMAGE_PULL_SECRETS: '',
      INSTALLER_TOLERATIONS: '[{"effect":"NoSchedule","operator":"Exists"}]',
      NODE_LABELS: 'true'
    })
    t.same(loadConfig(envOf(c)).hooks.policy, { allowedImagePrefixes: [], allowedSourcePrefixes: [], requireSourceSha256: false }, 'no installer policy unless asked for')
    t.equal(envOf(c).INSTALLER_IMAGE, DEFAULT_INSTALLER_IMAGE, 'the chart and the server default to the same installer')
    t.equal(envOf(c).AGENT_IMAGE, DEFAULT_AGENT_IMAGE, 'and to the same agent image')
    t.equal(envOf(c).TARGET_NAMESPACE, DEFAULT_TARGET_NAMESPACE, 'and to the same installer namespace')
    t.equal(envOf(c).BODY_LIMIT_BYTES, String(DEFAULT_BODY_LIMIT_BYTES), 'and to the same body limit')
    const known = Object.keys(EnvSchema.properties)
    for (const e of c.env) t.ok(known.includes(e.name), `${e.name} is a variable the server reads`)
    const ns = one(objects, 'Namespace')
    t.equal(ns.metadata.name, 'gtp5g-installers')
    t.equal(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'privileged', 'installer pods need CAP_SYS_MODULE and hostPath')
    t.not(ns.metadata.name, NAMESPACE, 'the hook server is not in the privileged namespace')
    const test = one<Pod>(objects, 'Pod')
    t.equal(test.metadata.annotations?.['helm.sh/hook'], 'test')
    t.equal(test.spec.containers[0]?.image, c.image, 'the test pod runs the hook server image')
  })

  t.test('defaults: replicas, spreading, PDB, probes, Service', async t => {
    const objects = await render(helm)
    const d = one<Deployment>(objects, 'Deployment')
    const pod = d.spec.template
    t.equal(d.spec.replicas, 2)
    t.match(pod.metadata.labels, d.spec.selector.matchLabels, 'the selector selects the template')
    t.same(pod.spec.topologySpreadConstraints, [{
      maxSkew: 1,
      topologyKey: 'kubernetes.io/hostname',
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: d.spec.selector.matchLabels },
      matchLabelKeys: ['pod-template-hash']
    }])
    const pdb = one<Manifest & { spec: { minAvailable: number, selector: { matchLabels: Record<string, string> } } }>(objects, 'PodDisruptionBudget')
    t.equal(pdb.spec.minAvailable, 1)
    t.same(pdb.spec.selector.matchLabels, d.spec.selector.matchLabels)
    const c = pod.spec.containers[0] as Container
    t.same(c.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }])
    t.same(c.livenessProbe.httpGet, { path: '/healthz', port: 'http' })
    t.same(c.readinessProbe.httpGet, { path: '/readyz', port: 'http' })
    t.ok(c.resources.requests?.memory !== undefined && c.resources.limits?.memory !== undefined, 'memory request and limit')
    t.equal(pod.spec.serviceAccountName, RELEASE)
    t.equal(pod.spec.enableServiceLinks, false)
    const svc = one<Service>(objects, 'Service')
    t.equal(svc.metadata.name, RELEASE)
    t.same(svc.spec.ports, [{ name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' }])
    t.match(pod.metadata.labels, svc.spec.selector, 'the Service selects the hook server pods')
    const cc = one<CompositeController>(objects, 'CompositeController')
    for (const hook of HOOKS) {
      t.same(cc.spec.hooks[hook]?.webhook.service, { name: svc.metadata.name, namespace: NAMESPACE, port: 8080 }, `${hook}: calls the rendered Service`)
      t.equal(cc.spec.hooks[hook]?.webhook.path, `/${hook}`)
      t.equal(cc.spec.hooks[hook]?.webhook.url, undefined)
    }
  })

  t.test('all-optional values: every setting reaches the objects', async t => {
    const v = ciValues('all-optional-values.yaml') as {
      hookServer: { replicas: number, logLevel: string, bodyLimitBytes: number, finalizeTimeoutSeconds: number, requestTimeoutSeconds: number, workers: number, maxHooksInFlight: number, nodeSelector: unknown, tolerations: unknown, priorityClassName: string, podAnnotations: Record<string, string>, podLabels: Record<string, string> }
      installer: { namespace: string, image: { repository: string, tag: string }, imagePullSecrets: Array<{ name: string }>, priorityClassName: string, resources: unknown, tolerations: unknown }
      installerPolicy: { allowedImagePrefixes: string[], allowedSourcePrefixes: string[], requireSourceSha256: boolean }
      image: { tag: string, pullPolicy: string }
    }
    const objects = await render(helm, { valuesFiles: [ciPath('all-optional-values.yaml')] })
    const d = one<Deployment>(objects, 'Deployment')
    const c = hookContainer(objects)
    t.equal(d.metadata.name, 'gtp5g-hooks', 'fullnameOverride')
    t.equal(d.spec.replicas, v.hookServer.replicas)
    t.equal(c.image, `ghcr.io/gthulhu/gtp5g-operator:${v.image.tag}`)
    t.equal(c.imagePullPolicy, v.image.pullPolicy)
    t.same(envOf(c), {
      TARGET_NAMESPACE: v.installer.namespace,
      INSTALLER_IMAGE: `${v.installer.image.repository}:${v.installer.image.tag}`,
      AGENT_IMAGE: c.image,
      LOG_LEVEL: v.hookServer.logLevel,
      BODY_LIMIT_BYTES: String(v.hookServer.bodyLimitBytes),
      FINALIZE_TIMEOUT_SECONDS: String(v.hookServer.finalizeTimeoutSeconds),
      ALLOWED_IMAGE_PREFIXES: v.installerPolicy.allowedImagePrefixes.join(','),
      ALLOWED_SOURCE_PREFIXES: v.installerPolicy.allowedSourcePrefixes.join(','),
      REQUIRE_SOURCE_SHA256: 'true',
      REQUEST_TIMEOUT_SECONDS: String(v.hookServer.requestTimeoutSeconds),
      HOOK_WORKERS: String(v.hookServer.workers),
      MAX_HOOKS_IN_FLIGHT: String(v.hookServer.maxHooksInFlight),
      INSTALLER_PRIORITY_CLASS_NAME: v.installer.priorityClassName,
      INSTALLER_RESOURCES: envOf(c).INSTALLER_RESOURCES,
      INSTALLER_IMAGE_PULL_SECRETS: v.installer.imagePullSecrets.map(s => s.name).join(','),
      INSTALLER_TOLERATIONS: envOf(c).INSTALLER_TOLERATIONS,
      NODE_LABELS: 'true'
    })
    // JSON from toJson: Helm sorts the keys, so these compare as data.
    t.same(JSON.parse(envOf(c).INSTALLER_RESOURCES ?? ''), v.installer.resources)
    t.same(JSON.parse(envOf(c).INSTALLER_TOLERATIONS ?? ''), v.installer.tolerations)
    t.match(loadConfig(envOf(c)).hooks.installerPod, { priorityClassName: v.installer.priorityClassName, resources: v.installer.resources, tolerations: v.installer.tolerations }, 'the hook server reads the installer pod settings as the values say')
    t.same(loadConfig(envOf(c)).hooks.policy, v.installerPolicy, 'the hook server reads the policy as the values say')
    const role = one<Manifest & { rules: Array<{ apiGroups: string[], resources: string[], verbs: string[] }> }>(objects, 'ClusterRole')
    t.equal(role.metadata.name, 'gtp5g-hooks-admin')
    t.equal(role.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-admin'], 'true', 'aggregated into admin')
    t.notOk('rbac.authorization.k8s.io/aggregate-to-edit' in (role.metadata.labels ?? {}), 'never into edit')
    t.same(role.rules.flatMap(r => r.resources), ['gtp5gmodules', 'gtp5gmodules/status'], 'GTP5GModules only')
    t.ok(role.rules.every(r => r.apiGroups.length === 1 && r.apiGroups[0] === 'operator.gthulhu.io'))
    const spec = d.spec.template.spec
    t.same(spec.nodeSelector, v.hookServer.nodeSelector)
    t.same(spec.tolerations, v.hookServer.tolerations)
    t.equal(spec.priorityClassName, v.hookServer.priorityClassName)
    t.same(spec.imagePullSecrets, [{ name: 'ghcr-pull' }])
    t.match(d.spec.template.metadata.annotations, v.hookServer.podAnnotations)
    t.match(d.spec.template.metadata.labels, v.hookServer.podLabels)
    t.equal(one(objects, 'Namespace').metadata.name, v.installer.namespace)
    t.equal(one<Pod>(objects, 'Pod').spec.containers[0]?.env.find(e => e.name === 'EXPECT_NAMESPACE')?.value, v.installer.namespace)
    t.equal(one<Manifest & { spec: { minAvailable: number } }>(objects, 'PodDisruptionBudget').spec.minAvailable, 2)

    const np = one<Manifest & { spec: Record<string, unknown> }>(objects, 'NetworkPolicy')
    t.same(np.spec, {
      podSelector: { matchLabels: d.spec.selector.matchLabels },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{
        ports: [{ port: 'http', protocol: 'TCP' }],
        from: [
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'metacontroller-system' } } },
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
          { podSelector: { matchLabels: { 'app.kubernetes.io/name': chart.name, 'app.kubernetes.io/instance': RELEASE, 'app.kubernetes.io/component': 'test' } } }
        ]
      }],
      egress: []
    }, 'Metacontroller, the allowed namespaces and the helm test pod reach the hook port; no egress')
    t.match(one(objects, 'Pod').metadata.labels, { 'app.kubernetes.io/component': 'test' }, 'the test pod matches the policy')

    const sm = one<Manifest & { apiVersion: string, spec: { selector: { matchLabels: Record<string, string> }, endpoints: unknown[] } }>(objects, 'ServiceMonitor')
    t.equal(sm.apiVersion, 'monitoring.coreos.com/v1')
    t.equal(sm.metadata.labels?.release, 'kube-prometheus-stack')
    t.match(one(objects, 'Service').metadata.labels, sm.spec.selector.matchLabels, 'selects the Service')
    t.same(sm.spec.endpoints, [{ port: 'http', path: '/metrics', interval: '15s', scrapeTimeout: '10s' }])
  })

  t.test('hooks.url: no hook server, the CompositeController calls the URL', async t => {
    for (const [url, base] of [['http://127.0.0.1:18080', 'http://127.0.0.1:18080'], ['https://hooks.example.com/gtp5g/', 'https://hooks.example.com/gtp5g']]) {
      const objects = await render(helm, { set: [`hooks.url=${url}`] })
      t.same(objects.map(o => o.kind).sort(), ['CompositeController', 'DecoratorController', 'Namespace', ...ADMISSION], `${url}: only the controllers and the installer namespace with its admission policy`)
      const cc = one<CompositeController>(objects, 'CompositeController')
      for (const hook of HOOKS) {
        t.same(cc.spec.hooks[hook]?.webhook, { url: `${base}/${hook}`, timeout: '30s' }, `${url}: ${hook}`)
      }
    }
  })

  t.test('the installer namespace\'s admission policy follows installer.namespace and installerAdmission.*', async t => {
    const objects = await render(helm, { set: ['installer.namespace=upf-kmods', 'installerAdmission.podCreators={system:serviceaccount:kube-system:daemon-set-controller}'] })
    const policy = one<Manifest & { spec: { failurePolicy: string, matchConstraints: { namespaceSelector: unknown, resourceRules: unknown }, validations: Array<{ expression: string }> } }>(objects, 'ValidatingAdmissionPolicy')
    t.equal(policy.spec.failurePolicy, 'Fail')
    t.same(policy.spec.matchConstraints.namespaceSelector, { matchLabels: { 'kubernetes.io/metadata.name': 'upf-kmods' } })
    t.same(policy.spec.matchConstraints.resourceRules, [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }])
    t.equal(policy.spec.validations[0]?.expression, 'variables.agent || request.userInfo.username in ["system:serviceaccount:kube-system:daemon-set-controller"]')
    t.match(policy.spec.validations[1]?.expression, /r\.kind == 'DaemonSet' && r\.name\.startsWith\('gtp5g-installer-'\)/)
    const binding = one<Manifest & { spec: { policyName: string, validationActions: string[] } }>(objects, 'ValidatingAdmissionPolicyBinding')
    t.same(binding.spec, { policyName: policy.metadata.name, validationActions: ['Deny'] })
    t.notOk((await render(helm, { set: ['installerAdmission.enabled=false'] })).some(o => ADMISSION.includes(o.kind)), 'installerAdmission.enabled=false renders neither')
  })

  t.test('a values change that changes the env rolls the Deployment', async t => {
    const before = one<Deployment>(await render(helm), 'Deployment').spec.template
    for (const set of ['hookServer.logLevel=debug', 'installer.image.tag=0.2.0', 'installer.namespace=upf-modules', 'hookServer.finalizeTimeoutSeconds=60']) {
      const after = one<Deployment>(await render(helm, { set: [set] }), 'Deployment').spec.template
      t.not(JSON.stringify(after), JSON.stringify(before), `${set}: the pod template changes`)
    }
  })

  t.test('installer.createNamespace=false and an existing ServiceAccount', async t => {
    const objects = await render(helm, { set: ['installer.createNamespace=false', 'installer.namespace=kmods', 'serviceAccount.create=false', 'serviceAccount.name=hooks'] })
    t.notOk(objects.some(o => o.kind === 'Namespace'), 'no Namespace')
    t.notOk(objects.some(o => o.kind === 'ServiceAccount'), 'no ServiceAccount')
    const d = one<Deployment>(objects, 'Deployment')
    t.equal(d.spec.template.spec.serviceAccountName, 'hooks')
    t.equal(envOf(hookContainer(objects)).TARGET_NAMESPACE, 'kmods')
  })

  t.test('the checker catches what restricted forbids', async t => {
    const ok: PodSpec = { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, containers: [{ name: 'c', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }] }
    t.same(restrictedViolations(ok), [])
    const c0 = ok.containers[0] as ContainerSpec
    const rows: Array<[string, PodSpec, RegExp]> = [
      ['hostPath volume (the installer)', { ...ok, volumes: [{ name: 'lib-modules', hostPath: { path: '/lib/modules' } }] }, /hostPath is not allowed/],
      ['CAP_SYS_MODULE (the installer)', { ...ok, containers: [{ ...c0, securityContext: { ...c0.securityContext, capabilities: { drop: ['ALL'], add: ['SYS_MODULE'] } } }] }, /SYS_MODULE must not be added/],
      ['privileged', { ...ok, containers: [{ ...c0, securityContext: { ...c0.securityContext, privileged: true } }] }, /privileged/],
      ['root', { ...ok, securityContext: { ...ok.securityContext, runAsNonRoot: false } }, /runAsNonRoot/],
      ['uid 0', { ...ok, securityContext: { ...ok.securityContext, runAsUser: 0 } }, /runAsUser must not be 0/],
      ['no seccomp', { ...ok, securityContext: { runAsNonRoot: true } }, /seccompProfile/],
      ['escalation allowed', { ...ok, containers: [{ name: 'c', securityContext: { capabilities: { drop: ['ALL'] } } }] }, /allowPrivilegeEscalation/],
      ['capabilities kept', { ...ok, containers: [{ name: 'c', securityContext: { allowPrivilegeEscalation: false } }] }, /drop ALL/],
      ['host network', { ...ok, hostNetwork: true }, /hostNetwork/],
      ['host port', { ...ok, containers: [{ ...c0, ports: [{ hostPort: 8080 }] }] }, /hostPort/]
    ]
    for (const [name, spec, problem] of rows) t.match(restrictedViolations(spec).join('\n'), problem, name)
  })
}
