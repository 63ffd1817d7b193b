// The GTP5GModule API as TypeBox schemas: the single source of the hook's validation, its
// TypeScript types and the generated CRD (crds/). Edit here, then `npm run gen`.
import { type Static, type TLiteral, type TString, type TUnion, Type } from '@sinclair/typebox'
import { DEFAULT_NODE_SELECTOR, DEFAULT_SOURCE_URL, KERNEL_RELEASE_MAX, KERNEL_RELEASE_PATTERN, kernelReleaseRegExp, VERSION_PATTERN } from '../../contract/index.js'

/** Marks a union of integer and percent string; the CRD generator emits `x-kubernetes-int-or-string`. */
export const INT_OR_STRING = 'x-kubernetes-int-or-string'
export const VALIDATIONS = 'x-kubernetes-validations'

/** A CEL rule of the CRD, carrying its twin in TypeScript for the hook, which cannot run CEL. */
export interface CelRule {
  rule: string
  message: string
  /** Not serialized: the generated CRD carries only rule and message. */
  readonly check?: (value: unknown) => boolean
}

/** One rule, one message, checked by the API server (CEL) and by the hook (`check`) alike. */
function celRule (rule: string, message: string, check: (value: unknown) => boolean): CelRule {
  return Object.defineProperty({ rule, message }, 'check', { value: check, enumerable: false })
}

/**
 * Printable ASCII without spaces: image references and URLs are ASCII (anything else is
 * percent-encoded), and this class means the same in RE2 (the API server) and in JavaScript,
 * which `\S` does not (they disagree on Unicode spaces).
 */
const NO_SPACE = '[!-~]+'

/** Label keys and values as Kubernetes validates them (IsQualifiedName, IsValidLabelValue). */
const LABEL_NAME = '[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?'
const DNS_SUBDOMAIN = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*'
const LABEL_KEY_PATTERN = `^(${DNS_SUBDOMAIN}/)?${LABEL_NAME}$`
const LABEL_VALUE_PATTERN = `^(${LABEL_NAME})?$`
/** An object name such as a Secret's (IsDNS1123Subdomain). */
export const DNS_SUBDOMAIN_PATTERN = `^${DNS_SUBDOMAIN}$`
/** The name of a Secret (or any object named as a DNS subdomain). */
const secretName = (description: string): TString => Type.String({ description, minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN_PATTERN })
const labelKeyRegExp = new RegExp(LABEL_KEY_PATTERN)
const isLabelKey = (k: string): boolean => labelKeyRegExp.test(k) && (!k.includes('/') || k.indexOf('/') <= 253)

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

const Source = Type.Object({
  url: Type.String({
    description: 'Tarball of the gtp5g source; every `{version}` is replaced by spec.version. http(s):// or file:// (a path inside the installer container, not on the node).',
    default: DEFAULT_SOURCE_URL,
    pattern: `^(https?|file)://${NO_SPACE}$`,
    maxLength: 2048
  }),
  sha256: Type.String({
    description: 'Expected sha256 of the tarball, lower-case hex. When set, a mismatch fails the node with ChecksumMismatch.',
    default: '',
    pattern: '^([a-f0-9]{64})?$'
  })
}, { description: 'Where the installer downloads the gtp5g source from.', default: {} })

const PERCENT = '^(100|[1-9][0-9]?)%$'

// 0 and "0%" would stall every rollout: the API server refuses a DaemonSet with maxUnavailable
// 0 unless maxSurge is set, and the installer DaemonSet sets no maxSurge.
const MaxUnavailable = Type.Union([
  Type.Integer({ minimum: 1 }),
  Type.String({ pattern: PERCENT })
], {
  description: 'Nodes that may be without a ready installer during a rolling update: a count or a percentage such as "25%"; at least 1 (or 1%).',
  default: 1,
  [INT_OR_STRING]: true,
  // A pattern cannot sit on an untyped node, so both branches are one CEL rule.
  [VALIDATIONS]: [celRule(
    `type(self) == int ? self >= 1 : self.matches('${PERCENT}')`,
    'must be a positive integer or a percentage from 1% to 100% such as "25%"',
    v => (Number.isSafeInteger(v) && (v as number) >= 1) || (typeof v === 'string' && new RegExp(PERCENT).test(v))
  )]
})

/** Bounds of a scheduling rule; the Manager checks none of them, so the CRD and the hook do. */
const SCHEDULING_LIMITS = Object.freeze({
  /** The scheduler keeps the priority in an unsigned BPF map: a negative one would wrap. */
  priority: { minimum: 0, maximum: 20, default: 10 },
  /** 100 µs to 1 s of time slice; 20 ms is the original companion's value. */
  executionTimeNs: { minimum: 100_000, maximum: 1_000_000_000, default: 20_000_000 },
  commandRegexMaxLength: 256,
  maxRules: 16
} as const)

const DEFAULT_COMMAND_REGEX = '^nr-gnb'

/**
 * Constructs of JavaScript/PCRE regular expressions that Go's RE2 (the Gthulhu side) refuses:
 * lookaround and backreferences. A regex that passes this and compiles in JavaScript is taken.
 */
const NOT_RE2 = String.raw`\(\?<?[=!]|\\[1-9]|\\k<`
const notRe2RegExp = new RegExp(NOT_RE2)
function isRe2Regex (v: unknown): boolean {
  if (typeof v !== 'string' || v === '' || notRe2RegExp.test(v)) return false
  try {
    // RE2 spells named groups (?P<name>…) as well; JavaScript only (?<name>…).
    return new RegExp(v.replaceAll('(?P<', '(?<')) instanceof RegExp
  } catch {
    return false
  }
}

const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'

export const SchedulingRule = Type.Object({
  name: Type.String({
    description: 'Names the rule; unique within the module. The agent tags its strategy with it, so renaming a rule replaces its strategy.',
    default: 'gnb',
    minLength: 1,
    maxLength: 63,
    pattern: DNS_LABEL_PATTERN
  }),
  commandRegex: Type.String({
    description: 'Processes of the selected pods whose command matches this regular expression (Go RE2 syntax) get the priority; the default matches UERANSIM\'s gNB.',
    default: DEFAULT_COMMAND_REGEX,
    minLength: 1,
    maxLength: SCHEDULING_LIMITS.commandRegexMaxLength,
    [VALIDATIONS]: [celRule(
      // The API server cannot compile the regex in CEL without failing on a bad one; it refuses
      // what RE2 never accepts, and the hook also compiles it.
      `!self.matches(r'${NOT_RE2}')`,
      'must be a regular expression in Go RE2 syntax: no lookahead, lookbehind or backreferences',
      isRe2Regex
    )]
  }),
  podSelector: Type.Record(Type.String(), Type.String({ maxLength: 63, pattern: LABEL_VALUE_PATTERN }), {
    description: 'Labels the pods must carry (all of them); at least one, because the Manager reads an empty selector as every pod.',
    minProperties: 1,
    maxProperties: 16,
    [VALIDATIONS]: [celRule(
      `self.all(k, k.matches(r'${LABEL_KEY_PATTERN}') && (!k.contains('/') || k.matches('^[^/]{1,253}/')))`,
      'keys must be label keys: an optional DNS subdomain prefix and "/", then a name of at most 63 letters, digits, "-", "_" or "." starting and ending with a letter or digit',
      v => typeof v === 'object' && v !== null && Object.keys(v).every(isLabelKey)
    )]
  }),
  namespaces: Type.Array(Type.String({ minLength: 1, maxLength: 63, pattern: DNS_LABEL_PATTERN }), {
    description: 'Namespaces of the pods; empty means every namespace.',
    default: [],
    maxItems: 64
  }),
  priority: Type.Integer({
    description: `Priority boost Gthulhu gives the matching processes, ${SCHEDULING_LIMITS.priority.minimum} to ${SCHEDULING_LIMITS.priority.maximum}.`,
    ...SCHEDULING_LIMITS.priority
  }),
  executionTimeNs: Type.Integer({
    description: 'Time slice of the matching processes in nanoseconds, 100000 (0.1 ms) to 1000000000 (1 s); 20000000 is 20 ms.',
    ...SCHEDULING_LIMITS.executionTimeNs
  })
}, { description: 'One Gthulhu scheduling strategy: which processes of which pods, and how they are scheduled.' })

export const Scheduling = Type.Object({
  managerUrl: Type.String({
    description: 'Base URL of the Gthulhu Manager API as the agent pod reaches it, e.g. http://gthulhu-manager.gthulhu-system:8080.',
    minLength: 1,
    maxLength: 2048,
    pattern: `^https?://${NO_SPACE}$`
  }),
  credentialsSecret: Type.Object({
    name: secretName('Name of the Secret in the operator\'s installer namespace with the keys `username` and `password` of a Manager account.')
  }, { description: 'The Manager account the agent logs in with.' }),
  rules: Type.Array(SchedulingRule, {
    description: 'One strategy per rule, kept in the Manager by the agent.',
    minItems: 1,
    maxItems: SCHEDULING_LIMITS.maxRules,
    [VALIDATIONS]: [celRule(
      'self.all(r, self.exists_one(s, s.name == r.name))',
      'rule names must be unique',
      v => Array.isArray(v) && new Set(v.map(r => (r as { name?: unknown }).name)).size === v.length
    )]
  })
}, { description: 'Scheduling priority for the radio side (gNB) through Gthulhu: an agent keeps one Gthulhu strategy per rule. Needs the Gthulhu scheduler on the nodes and its Manager.' })

export const GTP5GModuleSpec = Type.Object({
  version: Type.String({
    description: 'The gtp5g release tag to load, e.g. v0.9.14 or v0.9.12a.',
    pattern: VERSION_PATTERN,
    maxLength: 63
  }),
  kernelVersion: Type.String({
    description: 'Kernel release to build for instead of each node\'s own `uname -r`, as `uname -r` prints it (e.g. 5.15.0-91-generic); empty uses the running kernel.',
    default: '',
    maxLength: KERNEL_RELEASE_MAX,
    // It reaches paths and make's command line on the node: nothing but a kernel release passes.
    [VALIDATIONS]: [celRule(
      `self == '' || self.matches(r'${KERNEL_RELEASE_PATTERN}')`,
      'must be empty or a kernel release as uname -r prints it, such as 5.15.0-91-generic',
      v => v === '' || (typeof v === 'string' && kernelReleaseRegExp.test(v))
    )]
  }),
  nodeSelector: Type.Record(Type.String(), Type.String({ maxLength: 63, pattern: LABEL_VALUE_PATTERN }), {
    description: 'Labels a node must carry to get gtp5g; replaces the default selector. A node is owned by one GTP5GModule only: the oldest one that selects it.',
    default: { ...DEFAULT_NODE_SELECTOR },
    maxProperties: 64,
    [VALIDATIONS]: [celRule(
      `self.all(k, k.matches(r'${LABEL_KEY_PATTERN}') && (!k.contains('/') || k.matches('^[^/]{1,253}/')))`,
      'keys must be label keys: an optional DNS subdomain prefix and "/", then a name of at most 63 letters, digits, "-", "_" or "." starting and ending with a letter or digit',
      v => typeof v === 'object' && v !== null && Object.keys(v).every(isLabelKey)
    )]
  }),
  tolerations: Type.Array(Toleration, {
    description: 'Tolerations of the installer pods, e.g. for tainted user-plane nodes.',
    // Each one is checked against every taint of every node: bounded, like everything else
    // the hooks take from a request.
    maxItems: 64,
    default: []
  }),
  imagePullSecrets: Type.Optional(Type.Array(Type.Object({
    name: secretName('Name of a Secret of type kubernetes.io/dockerconfigjson in the installer namespace (the chart\'s installer.namespace, gtp5g-installers by default).')
  }, { description: 'A pull secret of the installer pods.' }), {
    description: 'Pull secrets of the installer image, e.g. a private registry holding an image with a baked-in source tarball. Replaces the hook server\'s default (chart installer.imagePullSecrets) when not empty.',
    maxItems: 16
  })),
  image: Type.Optional(Type.String({
    description: 'Installer image override; unset uses the image the hook server is configured with.',
    minLength: 1,
    maxLength: 1024,
    pattern: `^${NO_SPACE}$`
  })),
  source: Source,
  maxUnavailable: MaxUnavailable,
  unloadOnDelete: Type.Boolean({
    description: 'On delete, unload gtp5g from the nodes (never forced: a module in use stays loaded and the node reports ModuleInUse).',
    default: true
  }),
  btf: Type.Boolean({
    description: 'Build gtp5g with BTF type information (what eBPF tracers of gtp5g need) when the node\'s kernel offers /sys/kernel/btf/vmlinux; a node that cannot fails with BTFUnavailable.',
    default: false
  }),
  scheduling: Type.Optional(Scheduling)
}, { description: 'The desired gtp5g module and the nodes it belongs on.' })

export const PHASES = ['Pending', 'Installing', 'Installed', 'Failed', 'Unloading'] as const
export type Phase = typeof PHASES[number]
export const CONDITION_TYPES = ['Ready', 'Progressing', 'Degraded', 'Scheduling'] as const
export type ConditionType = typeof CONDITION_TYPES[number]

export const Condition = Type.Object({
  type: StringEnum(CONDITION_TYPES, { description: 'Ready, Progressing, Degraded, or Scheduling (only with spec.scheduling; never affects Ready).' }),
  status: StringEnum(['True', 'False', 'Unknown'], { description: 'True, False or Unknown.' }),
  reason: Type.String({ description: 'CamelCase reason for the last transition.', maxLength: 1024 }),
  message: Type.String({ description: 'Human readable detail.', maxLength: 32768 }),
  lastTransitionTime: Type.String({ description: 'When status last changed.', format: 'date-time' }),
  observedGeneration: Type.Optional(Type.Integer({ description: 'metadata.generation this condition was computed from.', minimum: 0 }))
}, { description: 'A standard Kubernetes condition.' })

export const MAX_LISTED_NODES = 256
/**
 * installedNodes is complete up to this many nodes: the Node decorator labels a node from it, so
 * a capped list would leave nodes unlabelled. 10,000 names of 63 characters are 650 KiB, inside
 * etcd's 1.5 MiB object limit; the hook server's default body limit serves about 5,500 nodes.
 */
export const MAX_INSTALLED_NODES = 10_000

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
  version: Type.Optional(Type.String({ description: 'The spec.version this status describes: installed and installedNodes count the nodes where it is loaded. The Node decorator labels those nodes with it.', maxLength: 63 })),
  installedNodes: Type.Optional(Type.Array(Type.String(), { description: `Sorted names of every installed node (complete up to ${MAX_INSTALLED_NODES}: each of them is labelled gtp5g.gthulhu.io/version from this list).`, maxItems: MAX_INSTALLED_NODES })),
  failedNodes: Type.Optional(Type.Array(FailedNode, { description: `Sorted failed nodes with reasons, at most ${MAX_LISTED_NODES} (the count stays exact).`, maxItems: MAX_LISTED_NODES })),
  conditions: Type.Optional(Type.Array(Condition, { description: 'Ready, Progressing and Degraded; Scheduling with spec.scheduling.' })),
  message: Type.Optional(Type.String({ description: 'One sentence on the state of the module.' })),
  lastUpdateTime: Type.Optional(Type.String({ description: 'When anything else in status last changed.', format: 'date-time' }))
}, { description: 'Observed state, recomputed by the sync hook on every sync.' })

export type GTP5GModuleSpec = Static<typeof GTP5GModuleSpec>
export type GTP5GModuleStatus = Static<typeof GTP5GModuleStatus>
export type Condition = Static<typeof Condition>
export type FailedNode = Static<typeof FailedNode>
export type Toleration = Static<typeof Toleration>
export type Scheduling = Static<typeof Scheduling>
export type SchedulingRule = Static<typeof SchedulingRule>

/** The printer columns of `kubectl get gtp5gmodules`. */
export const PRINTER_COLUMNS = [
  { name: 'Version', type: 'string', jsonPath: '.spec.version' },
  { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  { name: 'Installed', type: 'integer', jsonPath: '.status.installed' },
  { name: 'Desired', type: 'integer', jsonPath: '.status.desired' },
  { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }
] as const
