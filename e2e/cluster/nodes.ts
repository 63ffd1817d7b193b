// Simulated nodes for the local cluster: Node objects that kwok keeps alive (heartbeats, Ready),
// shaped like Debian 12 machines a UPF would run on. Nothing runs on them: kwok Stages play the
// kubelet's part for the installer pods (e2e/cluster/stages.ts).
import { LABEL_ENABLED } from '../../contract/index.js'

/** kwok manages the nodes carrying this annotation (its --manage-nodes-with-annotation-selector). */
export const KWOK_ANNOTATION = 'kwok.x-k8s.io/node'
export const KWOK_ANNOTATION_VALUE = 'fake'

/** Debian 12's two kernel lines, as `uname -r` prints them on its amd64 images. */
export const KERNELS = ['6.1.0-28-amd64', '6.12.12+bpo-amd64'] as const

export const nodeName = (i: number): string => `upf-${String(i + 1).padStart(3, '0')}`

export interface NodeOptions {
  /** Extra labels, e.g. to leave the default selector out. */
  labels?: Record<string, string>
}

export function simulatedNode (name: string, index: number, options: NodeOptions = {}): Record<string, unknown> {
  const kernel = KERNELS[index % KERNELS.length] as string
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [KWOK_ANNOTATION]: KWOK_ANNOTATION_VALUE, 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'node-role.kubernetes.io/upf': '',
        type: 'kwok',
        [LABEL_ENABLED]: 'true',
        ...options.labels
      }
    },
    spec: {},
    status: {
      allocatable: { cpu: '16', memory: '64Gi', pods: '110', 'ephemeral-storage': '200Gi' },
      capacity: { cpu: '16', memory: '64Gi', pods: '110', 'ephemeral-storage': '200Gi' },
      nodeInfo: {
        architecture: 'amd64',
        bootID: '',
        containerRuntimeVersion: 'containerd://1.7.24',
        kernelVersion: kernel,
        kubeProxyVersion: '',
        kubeletVersion: 'v1.37.1',
        machineID: '',
        operatingSystem: 'linux',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        systemUUID: ''
      }
    }
  }
}

/**
 * The canary node: kwok-managed and tainted, selected by no module (it lacks the default
 * selector's label), so only the canary pod lives on it. `up` recreates it each time to prove
 * that the kwok it just started initialises nodes.
 */
export const CANARY_NODE = 'kwok-canary'
export const CANARY_TAINT = { key: 'e2e.gtp5g.gthulhu.io/canary', effect: 'NoSchedule' } as const

export function canaryNode (): Record<string, unknown> {
  const node = simulatedNode(CANARY_NODE, 0, { labels: { type: 'kwok-canary' } }) as { metadata: { labels: Record<string, string> }, spec: unknown }
  delete node.metadata.labels[LABEL_ENABLED]
  delete node.metadata.labels['node-role.kubernetes.io/upf']
  node.spec = { taints: [CANARY_TAINT] }
  return node
}

export function simulatedNodes (count: number, options: NodeOptions = {}): Array<Record<string, unknown>> {
  return Array.from({ length: count }, (_, i) => simulatedNode(nodeName(i), i, options))
}
