// Realistic Metacontroller v2 requests, shaped after what Metacontroller posts (controller,
// parent, children keyed "DaemonSet.apps/v1" → "<ns>/<name>", related keyed "Pod.v1",
// "Node.v1", "GTP5GModule.operator.gthulhu.io/v1alpha1") and after `kubectl get -o json`
// output of real nodes and DaemonSet pods. Fixtures: no cluster runs in these unit tests.
import { LABEL_TEMPLATE_HASH, childLabels, daemonSetName, formatTerminationMessage, type InstallerReason } from '../../contract/index.js'
import type { HookConfig } from '../../hooks/core/config.js'
import type { KubeObject, Node, Pod } from '../../hooks/core/k8s.js'
import { DAEMONSET_KEY, MODULE_KEY, NODE_KEY, POD_KEY, type SyncRequest } from '../../hooks/core/metacontroller.js'
import { sync } from '../../hooks/core/hooks.js'

export const CONFIG: HookConfig = {
  targetNamespace: 'gtp5g-system',
  installerImage: 'ghcr.io/gthulhu/gtp5g-installer:0.1.0',
  agentImage: 'ghcr.io/gthulhu/gtp5g-operator:0.1.0',
  finalizeTimeoutSeconds: 600,
  policy: { allowedImagePrefixes: [], allowedSourcePrefixes: [], requireSourceSha256: false }
}

export const NOW = new Date('2026-11-20T10:00:00.000Z')
export const LATER = new Date('2026-11-20T10:05:00.000Z')

export const controller: KubeObject = {
  apiVersion: 'metacontroller.k8s.io/v1alpha1',
  kind: 'CompositeController',
  metadata: { name: 'gtp5g-operator', uid: '6b1c3f0e-8a5e-4f7a-9d53-1f0c2c7f9a11', resourceVersion: '1021', generation: 1, creationTimestamp: '2026-11-01T08:00:00Z' },
  spec: {
    generateSelector: true,
    resyncPeriodSeconds: 60,
    parentResource: { apiVersion: 'operator.gthulhu.io/v1alpha1', resource: 'gtp5gmodules' },
    childResources: [{ apiVersion: 'apps/v1', resource: 'daemonsets', updateStrategy: { method: 'InPlace' } }],
    hooks: {
      customize: { version: 'v2', webhook: { url: 'http://gtp5g-operator.gtp5g-system:8080/customize', timeout: '10s' } },
      sync: { version: 'v2', webhook: { url: 'http://gtp5g-operator.gtp5g-system:8080/sync', timeout: '30s' } },
      finalize: { version: 'v2', webhook: { url: 'http://gtp5g-operator.gtp5g-system:8080/finalize', timeout: '30s' } }
    }
  },
  status: {}
}

export interface ModuleOptions {
  name?: string
  spec?: Record<string, unknown>
  status?: Record<string, unknown>
  generation?: number
  created?: string
  deletionTimestamp?: string
}

/** The sample's spec as Metacontroller reads it: the API server has applied the CRD defaults. */
export const DEFAULT_SPEC = {
  version: 'v0.9.14',
  kernelVersion: '',
  nodeSelector: { 'gtp5g.gthulhu.io/enabled': 'true' },
  tolerations: [],
  source: { url: 'https://github.com/free5gc/gtp5g/archive/refs/tags/{version}.tar.gz', sha256: '' },
  maxUnavailable: 1,
  unloadOnDelete: true,
  btf: false
}

export function gtp5gModule (o: ModuleOptions = {}): KubeObject & { metadata: { name: string } } {
  const name = o.name ?? 'sample'
  return {
    apiVersion: 'operator.gthulhu.io/v1alpha1',
    kind: 'GTP5GModule',
    metadata: {
      name,
      uid: `uid-${name}`,
      resourceVersion: '4711',
      generation: o.generation ?? 1,
      creationTimestamp: o.created ?? '2026-11-20T09:00:00Z',
      ...(o.deletionTimestamp === undefined ? {} : { deletionTimestamp: o.deletionTimestamp, finalizers: ['metacontroller.io/compositecontroller-gtp5g-operator'] }),
      labels: { 'controller-uid': `uid-${name}` },
      managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'operator.gthulhu.io/v1alpha1', time: '2026-11-20T09:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { '.': {}, 'f:version': {} } } }]
    },
    // The API server has applied the CRD defaults by the time Metacontroller reads the object.
    spec: o.spec ?? structuredClone(DEFAULT_SPEC),
    ...(o.status === undefined ? {} : { status: o.status })
  }
}

export function node (name: string, labels: Record<string, string> = { 'gtp5g.gthulhu.io/enabled': 'true' }, taints: Array<{ key: string, value?: string, effect: string }> = []): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      uid: `node-uid-${name}`,
      resourceVersion: '90210',
      creationTimestamp: '2026-10-01T00:00:00Z',
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        ...labels
      },
      annotations: {
        'kubeadm.alpha.kubernetes.io/cri-socket': 'unix:///run/containerd/containerd.sock',
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true'
      }
    },
    spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'], ...(taints.length > 0 ? { taints } : {}) },
    status: {
      addresses: [{ type: 'InternalIP', address: '172.18.0.3' }, { type: 'Hostname', address: name }],
      allocatable: { cpu: '8', 'ephemeral-storage': '102625208Ki', memory: '32780516Ki', pods: '110' },
      capacity: { cpu: '8', 'ephemeral-storage': '102625208Ki', memory: '32882916Ki', pods: '110' },
      conditions: ['MemoryPressure', 'DiskPressure', 'PIDPressure'].map(type => ({
        type, status: 'False', lastHeartbeatTime: '2026-11-20T09:58:00Z', lastTransitionTime: '2026-10-01T00:00:10Z', reason: `KubeletHasNo${type}`, message: `kubelet has no ${type}`
      })).concat([{ type: 'Ready', status: 'True', lastHeartbeatTime: '2026-11-20T09:58:00Z', lastTransitionTime: '2026-10-01T00:00:30Z', reason: 'KubeletReady', message: 'kubelet is posting ready status' }]),
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      images: Array.from({ length: 12 }, (_, i) => ({ names: [`registry.k8s.io/image-${i}@sha256:${'ab'.repeat(32)}`, `registry.k8s.io/image-${i}:v1.${i}.0`], sizeBytes: 10_000_000 + i })),
      nodeInfo: {
        architecture: 'amd64',
        bootID: 'e3b0c442-98fc-1c14-9afb-f4c8996fb924',
        containerRuntimeVersion: 'containerd://1.7.22',
        kernelVersion: '5.15.0-91-generic',
        kubeProxyVersion: 'v1.31.2',
        kubeletVersion: 'v1.31.2',
        machineID: 'c1a5b6f0a7b14d1e9bbf',
        operatingSystem: 'linux',
        osImage: 'Ubuntu 22.04.4 LTS',
        systemUUID: '4c4c4544-0042-3510-8052-b4c04f4e4d32'
      }
    }
  }
}

export type PodState =
  | 'ready'
  | 'running'
  | 'creating'
  | { waiting: string, message?: string }
  | { crashed: InstallerReason, message: string }
  | { terminated: InstallerReason, message: string }
  | { exited: number }

export function pod (nodeName: string, templateHash: string, state: PodState, moduleName = 'sample', suffix = 'x7k2p'): Pod {
  const ds = daemonSetName(moduleName)
  const ready = state === 'ready'
  const containerState = (): Record<string, unknown> => {
    if (state === 'ready' || state === 'running') return { state: { running: { startedAt: '2026-11-20T09:01:00Z' } } }
    if (state === 'creating') return { state: { waiting: { reason: 'ContainerCreating' } } }
    if ('waiting' in state) return { state: { waiting: { reason: state.waiting, message: state.message ?? `Back-off pulling image "${CONFIG.installerImage}"` } } }
    if ('crashed' in state) {
      return {
        state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 40s restarting failed container=installer pod=${ds}-${suffix}` } },
        lastState: { terminated: { exitCode: 1, reason: 'Error', message: formatTerminationMessage(state.crashed, state.message), startedAt: '2026-11-20T09:02:00Z', finishedAt: '2026-11-20T09:02:30Z' } }
      }
    }
    if ('terminated' in state) {
      return { state: { terminated: { exitCode: 1, reason: 'Error', message: formatTerminationMessage(state.terminated, state.message), finishedAt: '2026-11-20T09:02:30Z' } } }
    }
    return { state: { terminated: { exitCode: state.exited, reason: 'Error', finishedAt: '2026-11-20T09:02:30Z' } } }
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${ds}-${nodeName}-${suffix}`,
      generateName: `${ds}-`,
      namespace: CONFIG.targetNamespace,
      uid: `pod-uid-${nodeName}-${suffix}`,
      resourceVersion: '5150',
      creationTimestamp: '2026-11-20T09:00:30Z',
      labels: { ...childLabels(moduleName), [LABEL_TEMPLATE_HASH]: templateHash, 'controller-revision-hash': '6d4f8b9c7d', 'pod-template-generation': '1' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds, uid: `ds-uid-${moduleName}`, controller: true, blockOwnerDeletion: true }]
    },
    spec: {
      nodeName,
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }] } } },
      containers: [{ name: 'installer', image: CONFIG.installerImage }],
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler'
    },
    status: {
      phase: 'Running',
      hostIP: '172.18.0.3',
      podIP: '172.18.0.3',
      startTime: '2026-11-20T09:00:31Z',
      conditions: [
        { type: 'Initialized', status: 'True' },
        { type: 'Ready', status: ready ? 'True' : 'False' },
        { type: 'ContainersReady', status: ready ? 'True' : 'False' },
        { type: 'PodScheduled', status: 'True' }
      ],
      containerStatuses: [{
        name: 'installer',
        image: CONFIG.installerImage,
        imageID: `${CONFIG.installerImage}@sha256:${'cd'.repeat(32)}`,
        containerID: 'containerd://0f1e2d3c',
        ready,
        restartCount: typeof state === 'object' && 'crashed' in state ? 3 : 0,
        started: state === 'ready' || state === 'running',
        ...containerState()
      }]
    }
  }
}

/** A v2 object map: type key → "<ns>/<name>" (or "<name>" when cluster-scoped) → object. */
export function objectMap (objects: readonly KubeObject[]): Record<string, KubeObject> {
  const map: Record<string, KubeObject> = {}
  for (const o of objects) {
    const ns = o.metadata?.namespace
    map[ns === undefined ? o.metadata?.name ?? '' : `${ns}/${o.metadata?.name ?? ''}`] = o
  }
  return map
}

export interface RequestParts {
  parent?: ReturnType<typeof gtp5gModule>
  nodes?: Node[]
  pods?: Pod[]
  modules?: KubeObject[]
  children?: KubeObject[]
  finalizing?: boolean
}

export function syncRequest (parts: RequestParts = {}): SyncRequest {
  const parent = parts.parent ?? gtp5gModule()
  return {
    controller,
    parent,
    children: { [DAEMONSET_KEY]: objectMap(parts.children ?? []) },
    related: {
      [POD_KEY]: objectMap(parts.pods ?? []),
      [NODE_KEY]: objectMap(parts.nodes ?? []),
      [MODULE_KEY]: objectMap(parts.modules ?? [parent])
    },
    finalizing: parts.finalizing ?? false
  }
}

/** The template hash the hooks currently want for a module, read off their own answer. */
export function currentTemplateHash (parts: RequestParts = {}): string {
  const ds = sync(syncRequest(parts), CONFIG, NOW).children[0] as { spec: { template: { metadata: { labels: Record<string, string> } } } }
  return ds.spec.template.metadata.labels[LABEL_TEMPLATE_HASH] ?? ''
}

/** The DaemonSet as the API server returns it after Metacontroller applied it. */
export function observedDaemonSet (desired: KubeObject, extra: Record<string, unknown> = {}): KubeObject {
  const d = structuredClone(desired) as KubeObject & { spec: Record<string, unknown>, metadata: Record<string, unknown> }
  return {
    ...d,
    metadata: {
      ...d.metadata,
      uid: 'ds-uid-sample',
      resourceVersion: '6001',
      generation: 2,
      creationTimestamp: '2026-11-20T09:00:05Z',
      ownerReferences: [{ apiVersion: 'operator.gthulhu.io/v1alpha1', kind: 'GTP5GModule', name: 'sample', uid: 'uid-sample', controller: true, blockOwnerDeletion: true }],
      managedFields: [{ manager: 'metacontroller', operation: 'Update', apiVersion: 'apps/v1', time: '2026-11-20T09:00:05Z' }]
    },
    spec: { ...d.spec, revisionHistoryLimit: 10, ...extra },
    status: { currentNumberScheduled: 3, desiredNumberScheduled: 3, numberAvailable: 2, numberMisscheduled: 0, numberReady: 2, observedGeneration: 2, updatedNumberScheduled: 3 }
  }
}
