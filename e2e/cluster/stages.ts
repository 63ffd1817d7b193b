// kwok Stages: the kubelet's part for simulated nodes. kwok's stock stages bring nodes up, keep
// their leases and finish pod deletions; the pod stages here are ours, because the installer's
// behaviour is what the hooks read:
//   - on a healthy node a pod becomes Running and Ready (gtp5g loaded, as the readiness probe says);
//   - on a node given a fault (setNodeFault), the installer container ends with the installer's
//     real one-line JSON termination message, either just terminated or in CrashLoopBackOff
//     with the message in lastState, as the kubelet reports a failing container;
//   - once the fault is gone, a failed pod comes back Ready, as the kubelet's restart would.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { formatTerminationMessage, type InstallerReason, LABEL_AGENT, LABEL_MODULE } from '../../contract/index.js'
import { TOOLS_BIN } from './tools.js'

/** Node label that gives a simulated node a fault; its value is the installer's reason code. */
export const FAULT_LABEL = 'e2e.gtp5g.gthulhu.io/fault'
/** Node annotations with the fault's message and how it shows: `crashloop` (default) or `terminated`. */
export const FAULT_MESSAGE_ANNOTATION = 'e2e.gtp5g.gthulhu.io/fault-message'
export const FAULT_MODE_ANNOTATION = 'e2e.gtp5g.gthulhu.io/fault-mode'

/** Pod annotation changed to make kwok look at a pod again after the stages changed. */
export const POKE_ANNOTATION = 'e2e.gtp5g.gthulhu.io/poke'

/**
 * The canary pod: one pod, on the canary node, that only the canary Stage acts on. Its status
 * message is the proof that kwok applies every Stage written so far (see `canaryStage`).
 */
export const CANARY_LABEL = 'e2e.gtp5g.gthulhu.io/canary'
export const CANARY_POD = { namespace: 'kube-system', name: 'kwok-canary' } as const
export const CANARY_STAGE = 'gtp5g-e2e-canary'

export type FaultMode = 'crashloop' | 'terminated'
export interface NodeFault { node: string, reason: InstallerReason, message: string, mode: FaultMode }

const STAGE_API = 'kwok.x-k8s.io/v1alpha1'
const KWOK_FILES = path.join(TOOLS_BIN, 'kwok-kustomize')
/** In/NotIn need at least one value; no node has this name. */
const NO_NODE = '-'

// Placeholders in a status written as JSON, swapped for template actions after stringifying,
// so every literal (the termination message above all) is escaped by JSON.stringify.
const NOW = '__NOW__'
const IMAGE = '__IMAGE__'
const NAME = '__NAME__'
// Braces in a literal would start a template action: they are emitted by actions of their own.
const toTemplate = (status: unknown): string =>
  '{{ $now := Now }}\n' + JSON.stringify(status, null, 2)
    .replace(/\{\{|\}\}/g, braces => `{{ "${braces}" }}`)
    .replaceAll(`"${NOW}"`, '{{ $now | Quote }}')
    .replaceAll(`"${IMAGE}"`, '{{ (index .spec.containers 0).image | Quote }}')
    .replaceAll(`"${NAME}"`, '{{ (index .spec.containers 0).name | Quote }}')

const podRef = { apiGroup: 'v1', kind: 'Pod' }
const notDeleting = { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' }
const onNodes = (operator: 'In' | 'NotIn', nodes: readonly string[]): Record<string, unknown> =>
  ({ key: '.spec.nodeName', operator, values: nodes.length > 0 ? [...nodes] : [NO_NODE] })
/** A pod whose installer already reports a failure (in either mode). */
const failedKey = '.status.containerStatuses.[0] | (.state.waiting.reason // .state.terminated.reason // "")'
const FAILED = ['CrashLoopBackOff', 'Error']

const conditions = (ready: boolean): unknown[] => ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(type => ({
  type,
  status: ready || type === 'Initialized' || type === 'PodScheduled' ? 'True' : 'False',
  lastTransitionTime: NOW
}))

const helmHook = '.metadata.annotations["helm.sh/hook"] // ""'
const notCanary = { key: `.metadata.labels["${CANARY_LABEL}"]`, operator: 'DoesNotExist' }
/**
 * The scheduling agent's pods are not played by kwok: their status comes from the real agent
 * process the scheduling suite runs (e2e/lib/agentkubelet.ts), and on a real node from its kubelet.
 */
const notAgent = { key: `.metadata.labels["${LABEL_AGENT}"]`, operator: 'DoesNotExist' }

/** A Stage acting on the pods that match every expression, writing `statusTemplate` as their status. */
const podStage = (name: string, matchExpressions: unknown[], statusTemplate: string): Record<string, unknown> => ({
  apiVersion: STAGE_API,
  kind: 'Stage',
  metadata: { name },
  spec: { resourceRef: podRef, selector: { matchExpressions }, next: { statusTemplate } }
})

/** Pending pods on healthy nodes start and pass their readiness probe. */
function readyStage (faulty: readonly string[]): Record<string, unknown> {
  return podStage('gtp5g-e2e-pod-ready', [
    notDeleting,
    { key: '.status.phase', operator: 'In', values: ['Pending'] },
    { key: helmHook, operator: 'NotIn', values: ['test'] },
    notCanary,
    notAgent,
    onNodes('NotIn', faulty)
  ], '{{ $now := Now }}\n' +
    `conditions: ${JSON.stringify(conditions(true)).replaceAll(`"${NOW}"`, '{{ $now | Quote }}')}\n` +
    'containerStatuses:\n' +
    '{{ range .spec.containers }}\n' +
    '- {name: {{ .name | Quote }}, image: {{ .image | Quote }}, ready: true, started: true, restartCount: 0, state: {running: {startedAt: {{ $now | Quote }}}}}\n' +
    '{{ end }}\n' +
    'hostIP: {{ NodeIPWith .spec.nodeName | Quote }}\n' +
    'podIP: {{ PodIPWith .spec.nodeName false .metadata.uid .metadata.name .metadata.namespace | Quote }}\n' +
    'phase: Running\n' +
    'startTime: {{ $now | Quote }}\n')
}

/** The installer on this node fails with its JSON termination message. */
function faultStage (fault: NodeFault): Record<string, unknown> {
  const terminated = { exitCode: 1, reason: 'Error', message: formatTerminationMessage(fault.reason, fault.message), startedAt: NOW, finishedAt: NOW }
  const container = fault.mode === 'terminated'
    ? { name: NAME, image: IMAGE, ready: false, started: false, restartCount: 0, state: { terminated } }
    : {
        name: NAME,
        image: IMAGE,
        ready: false,
        started: false,
        restartCount: 3,
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=installer' } },
        lastState: { terminated }
      }
  return podStage(`gtp5g-e2e-fault-${fault.node}`, [
    notDeleting,
    { key: `.metadata.labels["${LABEL_MODULE}"]`, operator: 'Exists' },
    onNodes('In', [fault.node]),
    { key: failedKey, operator: 'NotIn', values: FAILED }
  ], toTemplate({ conditions: conditions(false), containerStatuses: [container], phase: 'Running', startTime: NOW }))
}

/** A failed installer on a node whose fault is gone restarts and becomes Ready. */
function recoverStage (faulty: readonly string[]): Record<string, unknown> {
  const container = { name: NAME, image: IMAGE, ready: true, started: true, restartCount: 4, state: { running: { startedAt: NOW } } }
  return podStage('gtp5g-e2e-pod-recover', [
    notDeleting,
    { key: `.metadata.labels["${LABEL_MODULE}"]`, operator: 'Exists' },
    onNodes('NotIn', faulty),
    { key: failedKey, operator: 'In', values: FAILED }
  ], toTemplate({ conditions: conditions(true), containerStatuses: [container], phase: 'Running' }))
}

/**
 * `helm test` pods run to completion. Simulated: this proves Helm's test flow and that the pod
 * is admitted, not what the test pod checks (that runs for real on kind).
 */
function helmTestStage (): Record<string, unknown> {
  const container = { name: NAME, image: IMAGE, ready: false, started: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: NOW, finishedAt: NOW } } }
  return podStage('gtp5g-e2e-helm-test', [notDeleting, { key: '.status.phase', operator: 'In', values: ['Pending'] }, { key: helmHook, operator: 'In', values: ['test'] }],
    toTemplate({ conditions: conditions(false), containerStatuses: [container], phase: 'Succeeded', startTime: NOW }))
}

/** The status message the canary Stage writes for `nonce`. */
export const canaryMessage = (nonce: string): string => `kwok applied canary ${nonce}`

/**
 * The canary Stage, rewritten with a new nonce each time the cluster needs to know that kwok
 * acts on every Stage applied before it.
 *
 * Why: kwok v0.8.0 keeps the Stages it acts on in a cache keyed by its informer's last-synced
 * resourceVersion, and client-go sets that version as soon as a list or watch event is queued,
 * before the objects reach the informer's store. A lookup in that window caches an incomplete
 * list under the newest version, and nothing refreshes it until another Stage changes: kwok then
 * starts no stage controller at all (seen at start-up under load: healthy, but no node ever
 * Ready), or misses a Stage applied later. Events reach the store in order, so once the canary
 * pod carries this nonce's message, kwok's cache holds this Stage and hence every earlier one.
 */
export function canaryStage (nonce: string): Record<string, unknown> {
  return podStage(CANARY_STAGE, [
    notDeleting,
    { key: `.metadata.labels["${CANARY_LABEL}"]`, operator: 'Exists' },
    { key: '.status.message // ""', operator: 'NotIn', values: [canaryMessage(nonce)] }
  ], toTemplate({
    conditions: conditions(true),
    containerStatuses: [{ name: NAME, image: IMAGE, ready: true, started: true, restartCount: 0, state: { running: { startedAt: NOW } } }],
    message: canaryMessage(nonce),
    phase: 'Running',
    startTime: NOW
  }))
}

/** The canary pod, bound to `node` (no scheduler involved); nothing but the canary Stage acts on it. */
export function canaryPod (node: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ...CANARY_POD, labels: { [CANARY_LABEL]: '' } },
    spec: {
      nodeName: node,
      automountServiceAccountToken: false,
      tolerations: [{ operator: 'Exists' }],
      // Never pulled: kwok runs nothing.
      containers: [{ name: 'canary', image: 'registry.k8s.io/pause:3.10' }]
    }
  }
}

/** Our pod stages for the given faults: apply them all (and delete fault stages of healed nodes). */
export function podStages (faults: readonly NodeFault[]): Array<Record<string, unknown>> {
  const faulty = faults.map(f => f.node).sort()
  return [readyStage(faulty), recoverStage(faulty), helmTestStage(), ...faults.map(faultStage)]
}

/** The Stage CRD and kwok's stock node and pod-delete stages, as kubectl-ready YAML. */
export function kwokStages (): { crd: string, stages: string } {
  const read = (f: string): string => readFileSync(path.join(KWOK_FILES, f), 'utf8')
  const stock = ['node-initialize.yaml', 'node-heartbeat-with-lease.yaml', 'pod-delete.yaml'].map(read)
  return {
    crd: read('kwok.x-k8s.io_stages.yaml'),
    stages: [...stock, ...podStages([]).map(s => JSON.stringify(s))].join('\n---\n')
  }
}

/** What setting node faults needs of a cluster (LocalCluster has both). */
export interface StageWriter {
  kubectl: (args: readonly string[], input?: string) => Promise<string>
  apply: (objects: ReadonlyArray<Record<string, unknown>>, extra?: readonly string[]) => Promise<string>
}

/** A node fault as a caller gives it (`mode` defaults to crashloop). */
export interface FaultSpec { reason: InstallerReason, message: string, mode?: FaultMode }

/**
 * Records a fault on a simulated node (`fault` undefined heals it) and rewrites our pod Stages
 * from every node's record: the node's label and annotations are the record, so the Stages
 * follow from the cluster alone. Fault stages of healed nodes are deleted. kwok acts on the new
 * Stages once its cache has them and the pods change: see LocalCluster.setNodeFault.
 */
export async function writeNodeFault (cluster: StageWriter, node: string, fault?: FaultSpec): Promise<void> {
  if (fault === undefined) {
    await cluster.kubectl(['label', 'node', node, `${FAULT_LABEL}-`])
    await cluster.kubectl(['annotate', 'node', node, `${FAULT_MESSAGE_ANNOTATION}-`, `${FAULT_MODE_ANNOTATION}-`])
  } else {
    await cluster.kubectl(['annotate', '--overwrite', 'node', node, `${FAULT_MESSAGE_ANNOTATION}=${fault.message}`, `${FAULT_MODE_ANNOTATION}=${fault.mode ?? 'crashloop'}`])
    await cluster.kubectl(['label', '--overwrite', 'node', node, `${FAULT_LABEL}=${fault.reason}`])
  }
  const listed = JSON.parse(await cluster.kubectl(['get', 'nodes', '-l', FAULT_LABEL, '-o', 'json'])) as { items: Array<{ metadata: { name: string, labels: Record<string, string>, annotations?: Record<string, string> } }> }
  const faults: NodeFault[] = listed.items.map(n => ({
    node: n.metadata.name,
    reason: n.metadata.labels[FAULT_LABEL] as InstallerReason,
    message: n.metadata.annotations?.[FAULT_MESSAGE_ANNOTATION] ?? '',
    mode: n.metadata.annotations?.[FAULT_MODE_ANNOTATION] === 'terminated' ? 'terminated' : 'crashloop'
  }))
  await cluster.apply(podStages(faults), ['--server-side', '--force-conflicts'])
  const stale = JSON.parse(await cluster.kubectl(['get', 'stages.kwok.x-k8s.io', '-o', 'json'])) as { items: Array<{ metadata: { name: string } }> }
  const wanted = new Set(faults.map(f => `gtp5g-e2e-fault-${f.node}`))
  const gone = stale.items.map(i => i.metadata.name).filter(n => n.startsWith('gtp5g-e2e-fault-') && !wanted.has(n))
  if (gone.length > 0) await cluster.kubectl(['delete', 'stages.kwok.x-k8s.io', ...gone])
}

/**
 * kwok weighs stages when a pod changes, not when a stage does: touch the node's pods, as its
 * kubelet would act on them at once.
 */
export async function pokeNodePods (cluster: StageWriter, node: string): Promise<void> {
  await cluster.kubectl(['annotate', 'pods', '--all-namespaces', '--overwrite', `--field-selector=spec.nodeName=${node}`, `${POKE_ANNOTATION}=${Date.now()}`])
}
