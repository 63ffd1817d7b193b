// The contract between the hook server, the node-side installer, the chart and the e2e suites.
// Every name that crosses a process boundary lives here, once. Pure: no I/O, no env, no clock.
import { createHash } from 'node:crypto'

export const API_GROUP = 'operator.gthulhu.io'
export const API_VERSION = 'v1alpha1'
export const KIND = 'GTP5GModule'
export const PLURAL = 'gtp5gmodules'
export const SINGULAR = 'gtp5gmodule'
export const SHORT_NAME = 'gtp5g'
export const CATEGORY = 'gthulhu'
export const GROUP_VERSION = `${API_GROUP}/${API_VERSION}`

/** A gtp5g release tag. Real tags include suffixes such as `v0.9.12a`. */
export const VERSION_PATTERN = '^v[0-9]+\\.[0-9]+\\.[0-9]+[a-z0-9]*$'
export const versionRegExp = new RegExp(VERSION_PATTERN)

export const DEFAULT_SOURCE_URL = 'https://github.com/free5gc/gtp5g/archive/refs/tags/{version}.tar.gz'
export const DEFAULT_TARGET_NAMESPACE = 'gtp5g-installers'

/** Substitutes every `{version}` in a source URL template. */
export function sourceUrlFor (template: string, version: string): string {
  return template.replaceAll('{version}', version)
}

// ---- source policy -------------------------------------------------------------------------
// ALLOWED_SOURCE_PREFIXES, judged the same way by the hooks (on spec.source.url) and by the
// installer (on every URL it is redirected to).

/**
 * A URL as the installer will fetch it: scheme and host lower-cased, `.` and `..` segments (also
 * `%2e%2e`) resolved, as node's WHATWG parser does before sending it. Unparsable: as given.
 */
export function normalizedUrl (url: string): string {
  try {
    return new URL(url).href
  } catch {
    return url
  }
}

/**
 * What in a URL's path a server may read differently from this prefix test, or undefined. Many
 * static servers and mirrors decode `%2f` and `%2e` before they resolve dot segments, and some
 * treat `\` as a separator or cut `;params` off a segment: `<prefix>..%2fevil/x.tgz` starts with
 * the prefix here and is served from outside it there. A source tarball's path needs none of
 * these, so under a policy they are refused rather than guessed at.
 */
export function ambiguousSourcePath (url: string): string | undefined {
  // The path as written: after "scheme://authority", before "?" or "#". WHATWG turns "\" into
  // "/" for http(s) and file URLs, so it must be looked for before parsing.
  const path = url.replace(/^[a-z][a-z0-9+.-]*:(\/\/[^/\\?#]*)?/i, '').replace(/[?#].*$/s, '')
  if (path.includes('\\')) return 'a backslash'
  if (path.includes(';')) return 'a ";" path parameter'
  for (const escape of path.match(/%[0-9a-f]{2}/gi) ?? []) {
    const code = Number.parseInt(escape.slice(1), 16)
    if (code < 0x20 || code === 0x7f || '/\\.;%'.includes(String.fromCharCode(code))) return `the encoded character ${escape}`
  }
  return undefined
}

/**
 * Why `url` is outside the allowed prefixes (a sentence naming the URL), or undefined when
 * it may be fetched. No prefixes: everything is allowed.
 */
export function sourceOutsidePolicy (url: string, prefixes: readonly string[], setting = 'ALLOWED_SOURCE_PREFIXES'): string | undefined {
  if (prefixes.length === 0) return undefined
  const ambiguous = ambiguousSourcePath(url)
  if (ambiguous !== undefined) return `"${url}" has ${ambiguous} in its path, which servers resolve differently; it is refused while ${setting} is set`
  const normalized = normalizedUrl(url)
  if (prefixes.some(p => normalized.startsWith(p))) return undefined
  return `"${normalized}" is not under an allowed prefix (${setting}: ${prefixes.join(', ')})`
}

/**
 * GitHub serves every fork's commits and every pull request's head under the upstream's own
 * path (`<repo>/archive/<any commit>.tar.gz`, `<repo>/archive/refs/pull/<n>/head.tar.gz`), so a
 * prefix on github.com admits only what its owner published when it stops at the tags. Returns
 * what is wrong with `prefix`, or undefined.
 */
export function openGithubPrefix (prefix: string): string | undefined {
  let url: URL
  try {
    url = new URL(prefix)
  } catch {
    return undefined
  }
  const [, owner, repo, ...rest] = url.pathname.split('/')
  const under = rest.join('/')
  const tagged: Record<string, (path: string) => boolean> = {
    'github.com': p => p.startsWith('archive/refs/tags/') || p.startsWith('releases/download/'),
    'codeload.github.com': p => /^(legacy\.)?(tar\.gz|zip)\/refs\/tags\//.test(p),
    'raw.githubusercontent.com': p => p.startsWith('refs/tags/')
  }
  const host = url.hostname.replace(/^www\./, '')
  const ok = tagged[host]
  if (ok === undefined || ok(under)) return undefined
  const example = host === 'codeload.github.com'
    ? `https://codeload.github.com/${owner ?? 'OWNER'}/${repo ?? 'REPO'}/tar.gz/refs/tags/`
    : `https://github.com/${owner ?? 'OWNER'}/${repo ?? 'REPO'}/archive/refs/tags/`
  return `"${prefix}" admits any commit GitHub serves under that repository, forks' and pull requests' included; allow only tags, e.g. "${example}"`
}

// ---- labels --------------------------------------------------------------------------------

export const LABEL_PREFIX = 'gtp5g.gthulhu.io'
export const LABEL_ENABLED = `${LABEL_PREFIX}/enabled`
export const LABEL_MODULE = `${LABEL_PREFIX}/module`
/** Hash of the pod template the hook built; a pod carrying the current value runs the current template. */
export const LABEL_TEMPLATE_HASH = `${LABEL_PREFIX}/template-hash`
/**
 * Set by the Node decorator on every node where a module's installer is ready: the gtp5g version
 * loaded there. UPF pods select on it. The only key the operator ever writes on a Node.
 */
export const LABEL_NODE_VERSION = `${LABEL_PREFIX}/version`
/**
 * On the ConfigMaps a module keeps in the installer namespace for the Node decorator: which
 * shard of node names the ConfigMap lists (nodeShard). Each node's decorator relates only the
 * ConfigMaps of its own shard, so a change there re-syncs the nodes of that shard, not all.
 */
export const LABEL_NODE_SHARD = `${LABEL_PREFIX}/node-shard`
export const LABEL_APP_NAME = 'app.kubernetes.io/name'
export const LABEL_APP_INSTANCE = 'app.kubernetes.io/instance'
export const LABEL_APP_MANAGED_BY = 'app.kubernetes.io/managed-by'
export const APP_NAME = 'gtp5g-installer'
export const MANAGED_BY = 'gtp5g-operator'

export const DEFAULT_NODE_SELECTOR: Readonly<Record<string, string>> = Object.freeze({ [LABEL_ENABLED]: 'true' })

/** The labels every child of a module carries. */
export function childLabels (moduleName: string): Record<string, string> {
  return {
    [LABEL_APP_NAME]: APP_NAME,
    [LABEL_APP_INSTANCE]: labelValue(moduleName),
    [LABEL_APP_MANAGED_BY]: MANAGED_BY,
    [LABEL_MODULE]: labelValue(moduleName)
  }
}

/** The immutable DaemonSet selector: minimal on purpose, it can never change once applied. */
export function selectorLabels (moduleName: string): Record<string, string> {
  return { [LABEL_MODULE]: labelValue(moduleName) }
}

// ---- names ---------------------------------------------------------------------------------

export const DNS_LABEL_MAX = 63
export const LABEL_VALUE_MAX = 63
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

export function isDnsLabel (s: string): boolean {
  return s.length <= DNS_LABEL_MAX && DNS_LABEL.test(s)
}

export function shortHash (s: string, length = 8): string {
  return createHash('sha256').update(s).digest('hex').slice(0, length)
}

/**
 * A DNS label (RFC 1123, ≤ 63) built from a prefix and a name. A name that does not fit is cut
 * and suffixed with a hash of the whole name, so two long names never collide on their prefix.
 * Module names are DNS subdomains (may hold dots, up to 253 chars): dots become dashes.
 */
export function dnsLabel (prefix: string, name: string): string {
  const whole = `${prefix}${name}`
  const cleaned = whole.toLowerCase().replace(/[^a-z0-9-]/g, '-')
  if (cleaned === whole && isDnsLabel(cleaned)) return cleaned
  const hash = shortHash(whole)
  const room = DNS_LABEL_MAX - hash.length - 1
  const head = cleaned.slice(0, room).replace(/^-+/, '').replace(/-+$/, '')
  return head === '' ? hash : `${head}-${hash}`
}

/** A label value (≤ 63, alphanumeric at both ends); long names are cut and hashed like dnsLabel. */
export function labelValue (name: string): string {
  if (name.length <= LABEL_VALUE_MAX) return name
  return dnsLabel('', name)
}

export const DAEMONSET_PREFIX = 'gtp5g-installer-'

/** The name of the installer DaemonSet of a module. */
export function daemonSetName (moduleName: string): string {
  return dnsLabel(DAEMONSET_PREFIX, moduleName)
}

/**
 * Hex digits of a node shard: 2 make 256 shards. A module lists its installed nodes in up to
 * that many ConfigMaps; a node sync reads about nodes/256 names, and a change to one shard
 * re-syncs about that many nodes.
 */
export const NODE_SHARD_DIGITS = 2

/** The shard of a node name: the first hex digits of its SHA-256, so names spread evenly. */
export function nodeShard (nodeName: string): string {
  return shortHash(nodeName, NODE_SHARD_DIGITS)
}

/** The ConfigMap in which a module lists its installed nodes of one shard. */
export function nodeListName (moduleName: string, shard: string): string {
  return `${daemonSetName(moduleName)}-nodes-${shard}`
}

export const INSTALLER_CONTAINER = 'installer'

// ---- installer environment and host paths --------------------------------------------------

export const ENV = Object.freeze({
  version: 'GTP5G_VERSION',
  kernelVersion: 'KERNEL_VERSION',
  sourceUrl: 'GTP5G_SOURCE_URL',
  sourceSha256: 'GTP5G_SOURCE_SHA256',
  action: 'GTP5G_ACTION',
  /** Where the node's root paths are mounted; "" in a pod (hostPath volumes at their real paths). Tests point it at a temp dir. */
  hostRoot: 'GTP5G_HOST_ROOT',
  /** Seconds between checks that the module is still loaded while the installer keeps running. */
  watchIntervalSeconds: 'GTP5G_WATCH_INTERVAL_SECONDS',
  logLevel: 'LOG_LEVEL',
  /** "true": build gtp5g with BTF type information (spec.btf); absent or "false": as kbuild decides. */
  btf: 'GTP5G_BTF',
  /** The hook server's ALLOWED_SOURCE_PREFIXES, comma-separated; set only under a policy. Every redirect must stay inside. */
  allowedSourcePrefixes: 'GTP5G_ALLOWED_SOURCE_PREFIXES'
} as const)

export const ACTIONS = ['install', 'unload'] as const
export type Action = typeof ACTIONS[number]
export const COMMANDS = ['install', 'unload', 'check'] as const
export type Command = typeof COMMANDS[number]

export const HOST_PATHS = Object.freeze({
  modules: '/lib/modules',
  src: '/usr/src',
  cache: '/var/lib/gtp5g'
} as const)

/**
 * The node's /usr/lib, read-only, at another path in the container (it cannot replace the image's
 * own /usr/lib). Debian's headers reach kbuild's tools through relative links to
 * /usr/lib/linux-kbuild-<version>, which the installer links to this mount before building.
 */
export const HOST_LIB = Object.freeze({ host: '/usr/lib', mount: '/host/usr/lib' } as const)

/** The installer's entrypoint inside its image (`<this> check` answers the probe's question by hand). */
export const INSTALLER_BINARY = '/usr/local/bin/gtp5g-installer'
/**
 * The installer's readiness file in its container: present exactly while the running installer
 * last found the node in the state its action wants (it re-reads /sys/module after every step
 * and every watch interval). The readiness probe only reads it: a `cat`, not a Node.js start.
 */
export const READY_FILE = '/tmp/gtp5g-ready'
/** Overrides READY_FILE; for tests and local runs only. */
export const ENV_READY_FILE = 'GTP5G_READY_FILE'
export const TERMINATION_LOG = '/dev/termination-log'
/** Overrides TERMINATION_LOG; for tests and local runs only (a pod always uses the kubelet's file). */
export const ENV_TERMINATION_LOG = 'GTP5G_TERMINATION_LOG'
/** The in-tree module gtp5g links against; loaded from the host's /lib/modules before gtp5g. */
export const MODULE_DEPENDENCY = 'udp_tunnel'
export const MODULE_NAME = 'gtp5g'
export const MODULE_FILE = 'gtp5g.ko'
/**
 * A kernel release as `uname -r` prints it (`6.1.0-28-amd64`, `5.15.0-91-generic`,
 * `4.18.0-513.el8.x86_64`, `6.12.12+bpo-amd64`, Container-Optimized OS's `6.1.100+`): digits, dots
 * and suffixes of letters, digits and `_` after `-`, `+`, `.` or `~`, and a final `+`. It reaches
 * paths and make's command line, so nothing else passes: no `$`, no `/`, no spaces. The CRD, the hook and the installer all check it.
 */
export const KERNEL_RELEASE_PATTERN = '^[0-9]+\\.[0-9]+(\\.[0-9]+)?([-+.~][A-Za-z0-9_]+)*\\+?$'
export const KERNEL_RELEASE_MAX = 64
export const kernelReleaseRegExp = new RegExp(KERNEL_RELEASE_PATTERN)

/** Oldest kernel gtp5g supports. */
export const MIN_KERNEL: readonly [number, number] = [5, 0]

/** `/var/lib/gtp5g/<version>/<kernel>/` — one cache entry per gtp5g version and kernel release. */
export function cacheDir (version: string, kernel: string, cacheRoot: string = HOST_PATHS.cache): string {
  return `${cacheRoot}/${version}/${kernel}`
}

// ---- reasons -------------------------------------------------------------------------------

/** Failure reasons the installer reports in its termination message. */
export const INSTALLER_REASONS = [
  'UnsupportedKernel',
  'ModuleInUse',
  'KernelHeadersMissing',
  'SourceUnavailable',
  'ChecksumMismatch',
  'BuildFailed',
  'LoadFailed',
  'VersionMismatch',
  'InvalidConfig',
  'InternalError',
  // Bounds on what the network, the tarball and the build control (installer/limits.ts).
  'SourceTooLarge',
  'BuildTimeout',
  'BuildLogTooLarge',
  /** Another installer on the node held the cache entry's lock for longer than any build may take. */
  'CacheLocked',
  /** spec.btf asked for BTF but the node's kernel, headers or the built module cannot provide it. */
  'BTFUnavailable',
  /** The source URL, or a URL it redirected to, is outside the hook server's ALLOWED_SOURCE_PREFIXES. */
  'SourceNotAllowed'
] as const
export type InstallerReason = typeof INSTALLER_REASONS[number]

/** Failure reasons the hook reads from a waiting container's state. */
export const POD_WAITING_FAILURES = ['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'CreateContainerConfigError', 'InvalidImageName'] as const

export function isInstallerReason (s: unknown): s is InstallerReason {
  return typeof s === 'string' && (INSTALLER_REASONS as readonly string[]).includes(s)
}

// ---- termination message -------------------------------------------------------------------

export interface TerminationMessage {
  reason: InstallerReason
  message: string
}

export const TERMINATION_MESSAGE_MAX_BYTES = 4096

/**
 * One line of JSON, at most 4 KiB (the kubelet keeps 4 KiB of /dev/termination-log). A long
 * message keeps its tail: compiler errors are at the end.
 */
export function formatTerminationMessage (reason: InstallerReason | AgentFailure, message: string): string {
  // JSON.stringify escapes newlines, so the result is always a single line.
  let line = JSON.stringify({ reason, message })
  let kept = message
  while (Buffer.byteLength(line) > TERMINATION_MESSAGE_MAX_BYTES && kept.length > 0) {
    const excess = Buffer.byteLength(line) - TERMINATION_MESSAGE_MAX_BYTES
    kept = kept.slice(Math.max(excess, 1) + 1)
    line = JSON.stringify({ reason, message: `…${kept}` })
  }
  return line
}

/**
 * Reads a termination message back. With `FallbackToLogsOnError` the kubelet may hand us the log
 * tail instead of the file, so the last line that parses as `{reason, message}` wins.
 */
export function parseTerminationMessage (text: string | undefined): TerminationMessage | undefined {
  if (text === undefined) return undefined
  const lines = text.split('\n')
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]?.trim() ?? ''
    if (!line.startsWith('{')) continue
    try {
      const parsed: unknown = JSON.parse(line)
      if (typeof parsed === 'object' && parsed !== null) {
        const { reason, message } = parsed as Record<string, unknown>
        if (isInstallerReason(reason)) {
          return { reason, message: typeof message === 'string' ? message : '' }
        }
      }
    } catch {
      // not JSON: keep looking further up
    }
  }
  return undefined
}

// ---- the scheduling agent (spec.scheduling) --------------------------------------------------
// A small Deployment per module that keeps Gthulhu scheduling strategies in the Gthulhu Manager.
// Like the installer it reports through its pod only: readiness = every rule's strategy is in
// place (or, in cleanup mode, every strategy it owned is gone); on a problem it exits with one
// line of JSON `{reason, message}` in its termination message.

export const AGENT_CONTAINER = 'scheduling-agent'
export const AGENT_APP_NAME = 'gtp5g-scheduling-agent'
/** Label on the agent's pods naming the module; deliberately not LABEL_MODULE, which the installer DaemonSet selects on. */
export const LABEL_AGENT = `${LABEL_PREFIX}/scheduling-agent`
export const AGENT_PREFIX = 'gtp5g-scheduling-'
/** The agent's entrypoint inside the operator image; the readiness probe runs `<this> check`. */
export const AGENT_BINARY = '/usr/local/bin/scheduling-agent'
/** Where the pod mounts the credentials Secret (keys `username` and `password`). */
export const AGENT_CREDENTIALS_DIR = '/etc/gthulhu-credentials'
/** The agent's own state (what `check` reads), an emptyDir: the root filesystem is read-only. */
export const AGENT_STATE_DIR = '/run/scheduling-agent'
export const AGENT_CREDENTIAL_KEYS = ['username', 'password'] as const

/** The name of the scheduling agent Deployment of a module. */
export function agentName (moduleName: string): string {
  return dnsLabel(AGENT_PREFIX, moduleName)
}

/** The labels of the agent Deployment and its pods (no LABEL_MODULE: see LABEL_AGENT). */
export function agentLabels (moduleName: string): Record<string, string> {
  return {
    [LABEL_APP_NAME]: AGENT_APP_NAME,
    [LABEL_APP_INSTANCE]: labelValue(moduleName),
    [LABEL_APP_MANAGED_BY]: MANAGED_BY,
    [LABEL_AGENT]: labelValue(moduleName)
  }
}

export const AGENT_ENV = Object.freeze({
  managerUrl: 'GTHULHU_MANAGER_URL',
  /** JSON array of the rules (AgentRule). */
  rules: 'GTHULHU_RULES',
  /** The module name: every strategy the agent owns carries `gtp5g-operator/<owner>/<rule>` as its strategyNamespace. */
  owner: 'GTHULHU_OWNER',
  /** `apply` (default) or `cleanup` (finalize: remove every strategy this owner has). */
  mode: 'GTHULHU_AGENT_MODE',
  credentialsDir: 'GTHULHU_CREDENTIALS_DIR',
  stateDir: 'GTHULHU_AGENT_STATE_DIR',
  /** Seconds between reconciliations while everything is in place. */
  resyncSeconds: 'GTHULHU_RESYNC_SECONDS',
  /** Seconds the Manager may stay unreachable before the agent exits to report ManagerUnreachable. */
  unreachableExitSeconds: 'GTHULHU_UNREACHABLE_EXIT_SECONDS'
} as const)

export const AGENT_MODES = ['apply', 'cleanup'] as const
export type AgentMode = typeof AGENT_MODES[number]

/** One process rule as the agent receives it: the Manager's strategy fields, named. */
export interface AgentRule {
  name: string
  commandRegex: string
  podSelector: Record<string, string>
  namespaces: string[]
  priority: number
  executionTimeNs: number
}

/** The strategyNamespace that marks a strategy as this module's rule: how the agent finds what it owns. */
export function strategyTag (owner: string, rule?: string): string {
  return `${MANAGED_BY}/${owner}/${rule ?? ''}`
}

/** Reasons of the `Scheduling` condition; the agent's termination message carries the failures among them. */
export const SCHEDULING_REASONS = ['Applied', 'WaitingForPods', 'ManagerUnreachable', 'AuthFailed', 'Rejected'] as const
export type SchedulingReason = typeof SCHEDULING_REASONS[number]
export const AGENT_FAILURES = ['ManagerUnreachable', 'AuthFailed', 'Rejected', 'InvalidConfig', 'InternalError'] as const
export type AgentFailure = typeof AGENT_FAILURES[number]

export function isAgentFailure (s: unknown): s is AgentFailure {
  return typeof s === 'string' && (AGENT_FAILURES as readonly string[]).includes(s)
}

/** Reads the agent's termination message back (the last line that parses with an agent reason). */
export function parseAgentTerminationMessage (text: string | undefined): { reason: AgentFailure, message: string } | undefined {
  if (text === undefined) return undefined
  const lines = text.split('\n')
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]?.trim() ?? ''
    if (!line.startsWith('{')) continue
    try {
      const parsed: unknown = JSON.parse(line)
      if (typeof parsed === 'object' && parsed !== null) {
        const { reason, message } = parsed as Record<string, unknown>
        if (isAgentFailure(reason)) return { reason, message: typeof message === 'string' ? message : '' }
      }
    } catch {
      // not JSON: keep looking further up
    }
  }
  return undefined
}
