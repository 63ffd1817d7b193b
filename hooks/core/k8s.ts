// The slices of Kubernetes objects the hooks read and write. Observed objects arrive as JSON we
// do not control, so every field we read is optional and read defensively.

export interface ObjectMeta {
  name?: string
  namespace?: string
  uid?: string
  generation?: number
  creationTimestamp?: string
  deletionTimestamp?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  [key: string]: unknown
}

export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata?: ObjectMeta
  [key: string]: unknown
}

export interface Taint {
  key?: string
  value?: string
  effect?: string
}

export interface Node extends KubeObject {
  spec?: { taints?: Taint[], unschedulable?: boolean, [key: string]: unknown }
  status?: Record<string, unknown>
}

export interface ContainerStateWaiting { reason?: string, message?: string }
export interface ContainerStateTerminated { exitCode?: number, reason?: string, message?: string, finishedAt?: string }
export interface ContainerState {
  waiting?: ContainerStateWaiting
  running?: { startedAt?: string }
  terminated?: ContainerStateTerminated
}

export interface ContainerStatus {
  name?: string
  ready?: boolean
  restartCount?: number
  state?: ContainerState
  lastState?: ContainerState
  [key: string]: unknown
}

export interface Pod extends KubeObject {
  spec?: { nodeName?: string, [key: string]: unknown }
  status?: {
    phase?: string
    conditions?: Array<{ type?: string, status?: string }>
    containerStatuses?: ContainerStatus[]
    [key: string]: unknown
  }
}
