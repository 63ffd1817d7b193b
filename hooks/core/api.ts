// The GTP5GModule API as TypeBox schemas: the single source of the hook's validation, its
// TypeScript types and the generated CRD (crds/). Edit here, then `npm run gen`.
import { type Static, type TLiteral, type TUnion, Type } from '@sinclair/typebox'
import { DEFAULT_NODE_SELECTOR, DEFAULT_SOURCE_URL, VERSION_PATTERN } from '../../contract/index.js'

/** Marks a union of integer and percent string; the CRD generator emits `x-kubernetes-int-or-string`. */
export const INT_OR_STRING = 'x-kubernetes-int-or-string'

/** A closed set of strings. TypeBox validates the union; the CRD generator folds it into `enum`. */
export function StringEnum<const T extends readonly string[]> (values: T, options: { description: string, default?: T[number] }): TUnion<Array<TLiteral<T[number]>>> {
  return Type.Union(values.map(v => Type.Literal(v)), options)
}

export const Toleration = Type.Object({
  key: Type.Optional(Type.String({ description: 'Taint key the toleration applies to; empty with operator Exists matches every taint.' })),
  operator: Type.Optional(StringEnum(['Exists', 'Equal'], { description: 'Exists matches any value; Equal (the default) matches value.' })),
  value: Type.Optional(Type.String({ description: 'Taint value to match when operator is Equal.' })),
  effect: Type.Optional(StringEnum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'], { description: 'Taint effect to match; empty matches every effect.' })),
  tolerationSeconds: Type.Optional(Type.Integer({ description: 'How long a NoExecute taint is tolerated before eviction; unset tolerates it forever.' }))
}, { description: 'A Kubernetes toleration, passed unchanged to the installer pods.' })

export const Source = Type.Object({
  url: Type.String({
    description: 'Tarball of the gtp5g source; every `{version}` is replaced by spec.version. http(s):// or file:// (a path on the node).',
    default: DEFAULT_SOURCE_URL,
    pattern: '^(https?|file)://.+',
    maxLength: 2048
  }),
  sha256: Type.String({
    description: 'Expected sha256 of the tarball, lower-case hex. When set, a mismatch fails the node with ChecksumMismatch.',
    default: '',
    pattern: '^([a-f0-9]{64})?$'
  })
}, { description: 'Where the installer downloads the gtp5g source from.', default: {} })

export const MaxUnavailable = Type.Union([
  Type.Integer({ minimum: 0 }),
  Type.String({ pattern: '^(100|[1-9]?[0-9])%$' })
], {
  description: 'Nodes that may be without a ready installer during a rolling update: a count or a percentage such as "25%".',
  default: 1,
  [INT_OR_STRING]: true
})

export const GTP5GModuleSpec = Type.Object({
  version: Type.String({
    description: 'The gtp5g release tag to load, e.g. v0.9.14 or v0.9.12a.',
    pattern: VERSION_PATTERN,
    maxLength: 63
  }),
  kernelVersion: Type.String({
    description: 'Kernel release to build for instead of each node\'s own `uname -r`; empty uses the running kernel.',
    default: '',
    maxLength: 253
  }),
  nodeSelector: Type.Record(Type.String(), Type.String(), {
    description: 'Labels a node must carry to get gtp5g. A node is owned by one GTP5GModule only: the oldest one that selects it.',
    default: { ...DEFAULT_NODE_SELECTOR }
  }),
  tolerations: Type.Array(Toleration, {
    description: 'Tolerations of the installer pods, e.g. for tainted user-plane nodes.',
    default: []
  }),
  image: Type.Optional(Type.String({
    description: 'Installer image override; unset uses the image the hook server is configured with.',
    minLength: 1,
    maxLength: 1024
  })),
  source: Source,
  maxUnavailable: MaxUnavailable,
  unloadOnDelete: Type.Boolean({
    description: 'On delete, unload gtp5g from the nodes (never forced: a module in use stays loaded and the node reports ModuleInUse).',
    default: true
  })
}, { description: 'The desired gtp5g module and the nodes it belongs on.' })

export const PHASES = ['Pending', 'Installing', 'Installed', 'Failed', 'Unloading'] as const
export type Phase = typeof PHASES[number]
export const CONDITION_TYPES = ['Ready', 'Progressing', 'Degraded'] as const
export type ConditionType = typeof CONDITION_TYPES[number]

export const Condition = Type.Object({
  type: StringEnum(CONDITION_TYPES, { description: 'Ready, Progressing or Degraded.' }),
  status: StringEnum(['True', 'False', 'Unknown'], { description: 'True, False or Unknown.' }),
  reason: Type.String({ description: 'CamelCase reason for the last transition.', maxLength: 1024 }),
  message: Type.String({ description: 'Human readable detail.', maxLength: 32768 }),
  lastTransitionTime: Type.String({ description: 'When status last changed.', format: 'date-time' }),
  observedGeneration: Type.Optional(Type.Integer({ description: 'metadata.generation this condition was computed from.', minimum: 0 }))
}, { description: 'A standard Kubernetes condition.' })

export const MAX_LISTED_NODES = 256

export const FailedNode = Type.Object({
  nodeName: Type.String({ description: 'The node.' }),
  reason: Type.String({ description: 'CamelCase failure code, e.g. BuildFailed, ModuleInUse, ImagePullBackOff.' }),
  message: Type.String({ description: 'What went wrong on that node.' })
}, { description: 'A node where gtp5g is not loaded, and why.' })

export const GTP5GModuleStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ description: 'The metadata.generation Metacontroller last synced.' })),
  phase: Type.Optional(StringEnum(PHASES, { description: 'Pending, Installing, Installed, Failed or Unloading.' })),
  desired: Type.Optional(Type.Integer({ description: 'Nodes that should have gtp5g.', minimum: 0 })),
  installed: Type.Optional(Type.Integer({ description: 'Nodes where the desired version is loaded and the installer is ready.', minimum: 0 })),
  failed: Type.Optional(Type.Integer({ description: 'Nodes whose installer failed.', minimum: 0 })),
  installedNodes: Type.Optional(Type.Array(Type.String(), { description: `Sorted names of installed nodes, at most ${MAX_LISTED_NODES} (the count stays exact).`, maxItems: MAX_LISTED_NODES })),
  failedNodes: Type.Optional(Type.Array(FailedNode, { description: `Sorted failed nodes with reasons, at most ${MAX_LISTED_NODES} (the count stays exact).`, maxItems: MAX_LISTED_NODES })),
  conditions: Type.Optional(Type.Array(Condition, { description: 'Ready, Progressing and Degraded.' })),
  message: Type.Optional(Type.String({ description: 'One sentence on the state of the module.' })),
  lastUpdateTime: Type.Optional(Type.String({ description: 'When anything else in status last changed.', format: 'date-time' }))
}, { description: 'Observed state, recomputed by the sync hook on every sync.' })

export type GTP5GModuleSpec = Static<typeof GTP5GModuleSpec>
export type GTP5GModuleStatus = Static<typeof GTP5GModuleStatus>
export type Condition = Static<typeof Condition>
export type FailedNode = Static<typeof FailedNode>
export type Toleration = Static<typeof Toleration>

/** The printer columns of `kubectl get gtp5gmodules`. */
export const PRINTER_COLUMNS = [
  { name: 'Version', type: 'string', jsonPath: '.spec.version' },
  { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  { name: 'Installed', type: 'integer', jsonPath: '.status.installed' },
  { name: 'Desired', type: 'integer', jsonPath: '.status.desired' },
  { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }
] as const
