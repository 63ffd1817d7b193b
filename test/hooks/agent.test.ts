// spec.scheduling through the pure hooks: the agent Deployment they return, the Scheduling
// condition they read off its pod (and off the workload pods), and that none of it ever touches
// the installer's Ready, phase or DaemonSet. Fixtures: no cluster runs in these unit tests.
import t from 'tap'
import { AGENT_ENV, agentLabels, agentName, formatTerminationMessage, LABEL_MODULE, LABEL_TEMPLATE_HASH, type AgentFailure } from '../../contract/index.js'
import type { GTP5GModuleStatus } from '../../hooks/core/api.js'
import { customize, sync } from '../../hooks/core/hooks.js'
import type { KubeObject, Pod } from '../../hooks/core/k8s.js'
import { DEPLOYMENT_KEY, type SyncRequest } from '../../hooks/core/metacontroller.js'
import { CONFIG, currentTemplateHash, DEFAULT_SPEC, gtp5gModule, LATER, node, NOW, objectMap, pod, syncRequest } from '../support/hookfixtures.js'
import { RULE, scheduling } from '../support/invalidspecs.js'

const withScheduling = (rule: Record<string, unknown> = {}): Record<string, unknown> => ({ ...DEFAULT_SPEC, ...scheduling(rule) })

interface Parts {
  spec?: Record<string, unknown>
  agentPods?: Pod[]
  workload?: Pod[]
  deployments?: KubeObject[]
  finalizing?: boolean
  deletionTimestamp?: string
  status?: Record<string, unknown>
  installerReady?: boolean
  /** Template hash of the installer pod on node-a (default: the install template). */
  installerHash?: string
}

const nodes = [node('node-a')]
const installerHash = currentTemplateHash({ nodes })

function request (p: Parts = {}): SyncRequest {
  const parent = gtp5gModule({ spec: p.spec ?? withScheduling(), deletionTimestamp: p.deletionTimestamp, status: p.status })
  const installer = p.installerReady === false ? [] : [pod('node-a', p.installerHash ?? installerHash, 'ready')]
  const req = syncRequest({ parent, nodes, pods: [...installer, ...(p.agentPods ?? []), ...(p.workload ?? [])], finalizing: p.finalizing })
  if (p.deployments !== undefined) (req.children as Record<string, Record<string, KubeObject>>)[DEPLOYMENT_KEY] = objectMap(p.deployments)
  return req
}

/** A gNB pod as a user labels it. */
function gnbPod (namespace = 'ran', labels: Record<string, string> = RULE.podSelector): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'gnb-0', namespace, uid: 'gnb-uid', labels }, spec: { nodeName: 'node-a', containers: [{ name: 'gnb', image: 'ueransim:3.2.6' }] }, status: { phase: 'Running' } }
}

type AgentPodState = 'ready' | 'running' | { failed: AgentFailure, message: string, restarting?: boolean } | { waiting: string }

function agentPod (templateHash: string, state: AgentPodState): Pod {
  const term = (s: { failed: AgentFailure, message: string }): Record<string, unknown> => ({ terminated: { exitCode: 1, reason: 'Error', message: formatTerminationMessage(s.failed, s.message) } })
  const container: Record<string, unknown> = { name: 'scheduling-agent', ready: state === 'ready', restartCount: 0 }
  if (state === 'ready' || state === 'running') container.state = { running: { startedAt: '2026-11-20T09:01:00Z' } }
  else if ('waiting' in state) container.state = { waiting: { reason: state.waiting, message: 'Back-off pulling image' } }
  else if (state.restarting === true) Object.assign(container, { state: { running: {} }, lastState: term(state), restartCount: 1 })
  else container.state = term(state)
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${agentName('sample')}-7d9f-abcde`, namespace: CONFIG.targetNamespace, labels: { ...agentLabels('sample'), [LABEL_TEMPLATE_HASH]: templateHash } },
    spec: { nodeName: 'node-a', containers: [{ name: 'scheduling-agent' }] },
    status: { phase: 'Running', containerStatuses: [container] }
  }
}

const deploymentOf = (req: SyncRequest): any => sync(req, CONFIG, NOW).children.find(c => c.kind === 'Deployment')
const hashOf = (d: any): string => d.spec.template.metadata.labels[LABEL_TEMPLATE_HASH]
const cond = (s: GTP5GModuleStatus, type: string): any => s.conditions?.find(c => c.type === type)
/** The kinds of the workload children: the node lists (ConfigMaps, nodelabels.test.ts) aside. */
const workloadKinds = (children: KubeObject[]): string[] => children.map(c => String(c.kind)).filter(k => k !== 'ConfigMap')
const env = (d: any): Record<string, string> => Object.fromEntries(d.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]))

t.test('no spec.scheduling: the DaemonSet alone and no Scheduling condition, as before', async t => {
  const res = sync(request({ spec: DEFAULT_SPEC }), CONFIG, NOW)
  t.same(workloadKinds(res.children), ['DaemonSet'])
  t.same(res.status.conditions?.map(c => c.type), ['Ready', 'Progressing', 'Degraded'])
})

t.test('the agent Deployment', async t => {
  const res = sync(request(), CONFIG, NOW)
  t.same(workloadKinds(res.children), ['DaemonSet', 'Deployment'])
  const d = deploymentOf(request())
  t.equal(d.metadata.name, 'gtp5g-scheduling-sample')
  t.equal(d.metadata.namespace, CONFIG.targetNamespace)
  t.same(d.spec.selector, { matchLabels: { 'gtp5g.gthulhu.io/scheduling-agent': 'sample' } })
  t.notOk(LABEL_MODULE in d.spec.template.metadata.labels, 'not selected by the installer DaemonSet')
  t.same(d.spec.strategy, { type: 'Recreate' }, 'never two agents of one module at once')
  t.equal(d.spec.replicas, 1)
  const pod = d.spec.template.spec
  t.equal(pod.automountServiceAccountToken, false, 'no Kubernetes API access')
  const c = pod.containers[0]
  t.equal(c.image, CONFIG.agentImage)
  t.same(c.command, ['/usr/local/bin/scheduling-agent'])
  t.same(c.readinessProbe.exec.command, ['/usr/local/bin/scheduling-agent', 'check'])
  // The check starts Node.js: seconds on a slow node (a TCG guest under a real kubelet).
  t.ok(c.readinessProbe.timeoutSeconds >= 30 && c.readinessProbe.failureThreshold >= 3, 'a slow check start is not a verdict')
  t.equal(c.terminationMessagePolicy, 'FallbackToLogsOnError')
  t.same(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } })
  t.same(env(d), {
    [AGENT_ENV.managerUrl]: 'http://gthulhu-manager.gthulhu-system:8080',
    [AGENT_ENV.owner]: 'sample',
    [AGENT_ENV.mode]: 'apply',
    // The CRD's defaults, as the API server fills them in (the hook fills them in the same way).
    [AGENT_ENV.rules]: JSON.stringify([{ name: 'gnb', commandRegex: '^nr-gnb', podSelector: RULE.podSelector, namespaces: [], priority: 10, executionTimeNs: 20_000_000 }]),
    [AGENT_ENV.credentialsDir]: '/etc/gthulhu-credentials',
    [AGENT_ENV.stateDir]: '/run/scheduling-agent'
  })
  t.same(pod.volumes[0], { name: 'credentials', secret: { secretName: 'gthulhu-manager' } })
  t.not(hashOf(deploymentOf(request({ spec: withScheduling({ priority: 15 }) }))), hashOf(d), 'a changed rule changes the template: a new agent pod')
  t.same(deploymentOf(request()), d, 'the same request, the same Deployment')
})

t.test('the Scheduling condition, one row per situation', async t => {
  const hash = hashOf(deploymentOf(request()))
  const rows: Array<{ name: string, agent?: AgentPodState, workload: Pod[], status: string, reason: string, message?: RegExp }> = [
    { name: 'agent ready', agent: 'ready', workload: [gnbPod()], status: 'True', reason: 'Applied', message: /keeps every rule's strategy in the Gthulhu Manager/ },
    { name: 'no matching pod', agent: 'running', workload: [], status: 'False', reason: 'WaitingForPods', message: /No pod matches rule\(s\) gnb yet/ },
    { name: 'a pod with other labels', agent: 'running', workload: [gnbPod('ran', { app: 'other' })], status: 'False', reason: 'WaitingForPods' },
    { name: 'pods, agent not reported yet', agent: 'running', workload: [gnbPod()], status: 'Unknown', reason: 'Applying' },
    { name: 'no agent pod yet', workload: [gnbPod()], status: 'Unknown', reason: 'Applying' },
    { name: 'wrong password', agent: { failed: 'AuthFailed', message: 'the Manager refused the login of "admin": HTTP 401' }, workload: [gnbPod()], status: 'False', reason: 'AuthFailed', message: /refused the login/ },
    { name: 'Manager gone, agent restarting', agent: { failed: 'ManagerUnreachable', message: 'ECONNREFUSED', restarting: true }, workload: [gnbPod()], status: 'False', reason: 'ManagerUnreachable' },
    { name: 'refused body', agent: { failed: 'Rejected', message: 'rule gnb: HTTP 400' }, workload: [gnbPod()], status: 'False', reason: 'Rejected' },
    { name: 'image not pullable', agent: { waiting: 'ImagePullBackOff' }, workload: [gnbPod()], status: 'False', reason: 'ImagePullBackOff' },
    { name: 'agent failure beats missing pods', agent: { failed: 'AuthFailed', message: 'x' }, workload: [], status: 'False', reason: 'AuthFailed' }
  ]
  for (const row of rows) {
    const res = sync(request({ agentPods: row.agent === undefined ? [] : [agentPod(hash, row.agent)], workload: row.workload }), CONFIG, NOW)
    const c = cond(res.status, 'Scheduling')
    t.equal(c?.status, row.status, `${row.name}: status`)
    t.equal(c?.reason, row.reason, `${row.name}: reason`)
    if (row.message !== undefined) t.match(c?.message, row.message, `${row.name}: message`)
    // Never the installer's business: gtp5g is loaded on every node, whatever the Manager does.
    t.equal(res.status.phase, 'Installed', `${row.name}: phase stays Installed`)
    t.equal(cond(res.status, 'Ready')?.status, 'True', `${row.name}: Ready stays True`)
    t.equal(cond(res.status, 'Degraded')?.status, 'False', `${row.name}: not Degraded`)
    t.match(res.status.message, /^gtp5g v0\.9\.14 is loaded on all 1 selected node/, `${row.name}: the installer's sentence`)
  }
})

t.test('a workload pod counts only in the rule\'s namespaces', async t => {
  const hash = hashOf(deploymentOf(request({ spec: withScheduling({ namespaces: ['ran'] }) })))
  const inOther = sync(request({ spec: withScheduling({ namespaces: ['ran'] }), agentPods: [agentPod(hash, 'running')], workload: [gnbPod('default')] }), CONFIG, NOW)
  t.equal(cond(inOther.status, 'Scheduling')?.reason, 'WaitingForPods')
  const inRan = sync(request({ spec: withScheduling({ namespaces: ['ran'] }), agentPods: [agentPod(hash, 'running')], workload: [gnbPod('ran')] }), CONFIG, NOW)
  t.equal(cond(inRan.status, 'Scheduling')?.reason, 'Applying')
})

t.test('an agent pod of an older template says nothing about the current rules', async t => {
  const old = hashOf(deploymentOf(request({ spec: withScheduling({ priority: 5 }) })))
  const res = sync(request({ agentPods: [agentPod(old, 'ready')], workload: [gnbPod()] }), CONFIG, NOW)
  t.equal(cond(res.status, 'Scheduling')?.reason, 'Applying')
})

t.test('timestamps: Scheduling keeps its lastTransitionTime while its status holds, and the same request gives the same status', async t => {
  const hash = hashOf(deploymentOf(request()))
  const first = sync(request({ agentPods: [agentPod(hash, 'ready')], workload: [gnbPod()] }), CONFIG, NOW)
  const again = sync(request({ agentPods: [agentPod(hash, 'ready')], workload: [gnbPod()], status: first.status as Record<string, unknown> }), CONFIG, LATER)
  t.same(again.status, first.status, 'nothing moved, not even lastUpdateTime')
  const failed = sync(request({ agentPods: [agentPod(hash, { failed: 'AuthFailed', message: 'x' })], workload: [gnbPod()], status: first.status as Record<string, unknown> }), CONFIG, LATER)
  t.equal(cond(failed.status, 'Scheduling')?.lastTransitionTime, '2026-11-20T10:05:00Z')
  t.equal(cond(failed.status, 'Ready')?.lastTransitionTime, cond(first.status, 'Ready')?.lastTransitionTime, 'Ready did not move')
  t.not(failed.status.lastUpdateTime, first.status.lastUpdateTime)
})

t.test('an invalid scheduling spec keeps both children as they are and names the field', async t => {
  const d = deploymentOf(request())
  const res = sync(request({ spec: withScheduling({ priority: 99 }), deployments: [d] }), CONFIG, NOW)
  t.ok(res.children.some(c => c.kind === 'Deployment' && (c.metadata?.name ?? '') === d.metadata.name), 'the running agent stays')
  t.equal(cond(res.status, 'Degraded')?.reason, 'InvalidSpec')
  t.match(cond(res.status, 'Degraded')?.message, /^spec\.scheduling\.rules\[0\]\.priority: must be at most 20$/)
})

t.test('spec.scheduling removed: the agent that ran switches to cleanup, and goes once it reports the strategies removed', async t => {
  const d = deploymentOf(request())
  const removing = sync(request({ spec: DEFAULT_SPEC, deployments: [d] }), CONFIG, NOW)
  const cleanup = removing.children.find(c => c.kind === 'Deployment') as any
  t.ok(cleanup, 'still there')
  t.equal(env(cleanup)[AGENT_ENV.mode], 'cleanup')
  t.equal(env(cleanup)[AGENT_ENV.managerUrl], 'http://gthulhu-manager.gthulhu-system:8080', 'the Manager it knew')
  t.equal(cond(removing.status, 'Scheduling')?.reason, 'Removing')
  const done = sync(request({ spec: DEFAULT_SPEC, deployments: [d], agentPods: [agentPod(hashOf(cleanup), 'ready')] }), CONFIG, NOW)
  t.same(workloadKinds(done.children), ['DaemonSet'], 'the agent is gone')
  t.equal(cond(done.status, 'Scheduling')?.reason, 'Removed')
})

t.test('finalize: the strategies are removed before the module goes, whatever unloadOnDelete says', async t => {
  for (const unloadOnDelete of [true, false]) {
    const spec = { ...withScheduling(), unloadOnDelete }
    const base = { spec, finalizing: true, deletionTimestamp: '2026-11-20T09:59:00Z' }
    const first = sync(request(base), CONFIG, NOW)
    const agent = first.children.find(c => c.kind === 'Deployment') as any
    t.equal(env(agent)[AGENT_ENV.mode], 'cleanup', `unloadOnDelete ${unloadOnDelete}: cleanup mode`)
    t.equal(first.finalized, false, `unloadOnDelete ${unloadOnDelete}: not finalized before the agent reports`)
    t.equal(cond(first.status, 'Scheduling')?.reason, 'Removing')
    // The installer side done (unloaded on node-a, or kept): the agent's report decides.
    const ds = first.children.find(c => c.kind === 'DaemonSet') as any
    const unloaded = unloadOnDelete ? { installerHash: ds.spec.template.metadata.labels[LABEL_TEMPLATE_HASH] as string } : {}
    const waiting = sync(request({ ...base, ...unloaded }), CONFIG, NOW)
    t.equal(waiting.finalized, false, `unloadOnDelete ${unloadOnDelete}: gtp5g side done, strategies not yet removed: not finalized`)
    const done = sync(request({ ...base, ...unloaded, agentPods: [agentPod(hashOf(agent), 'ready')] }), CONFIG, NOW)
    t.equal(done.finalized, true, `unloadOnDelete ${unloadOnDelete}: finalized once the strategies are removed`)
    t.equal(cond(done.status, 'Scheduling')?.reason, 'Removed')
    t.ok(done.children.some(c => c.kind === 'Deployment'), 'the agent stays until Metacontroller lets the module go')
  }
  const late = sync(request({ spec: { ...withScheduling(), unloadOnDelete: false }, finalizing: true, deletionTimestamp: '2026-11-20T09:00:00Z' }), CONFIG, NOW)
  t.equal(late.finalized, true, 'after the finalize timeout the module goes anyway')
  t.equal(cond(late.status, 'Scheduling')?.reason, 'RemoveTimedOut')
})

t.test('customize: the agent\'s pods and each rule\'s workload pods are related', async t => {
  const parent = gtp5gModule({ spec: { ...DEFAULT_SPEC, scheduling: { managerUrl: 'http://m', credentialsSecret: { name: 's' }, rules: [{ ...RULE, namespaces: ['ran', 'edge'] }, { ...RULE, name: 'all', namespaces: [] }] } } })
  const rules = customize({ controller: {}, parent }, CONFIG).relatedResources
  t.same(rules.slice(3), [
    { apiVersion: 'v1', resource: 'pods', namespace: CONFIG.targetNamespace, labelSelector: { matchLabels: { 'gtp5g.gthulhu.io/scheduling-agent': 'sample' } } },
    { apiVersion: 'v1', resource: 'pods', namespace: 'ran', labelSelector: { matchLabels: RULE.podSelector } },
    { apiVersion: 'v1', resource: 'pods', namespace: 'edge', labelSelector: { matchLabels: RULE.podSelector } },
    { apiVersion: 'v1', resource: 'pods', labelSelector: { matchLabels: RULE.podSelector } }
  ])
  const without = customize({ controller: {}, parent: gtp5gModule({ spec: DEFAULT_SPEC }) }, CONFIG).relatedResources
  t.equal(without.length, 4, 'without scheduling only the agent pods are added (to clean up a removed spec.scheduling)')
})
