// The hook server's configuration, read once from the environment and validated by a schema:
// a typo in a variable fails the start with a message naming it, not a surprise later.
import { type Static, Type } from '@sinclair/typebox'
import envSchema from 'env-schema'
import { ambiguousSourcePath, DEFAULT_TARGET_NAMESPACE, normalizedUrl, openGithubPrefix } from '../../contract/index.js'
import { Value } from '@sinclair/typebox/value'
import { DNS_SUBDOMAIN_PATTERN, StringEnum, Toleration } from '../core/api.js'
import { DEFAULT_INSTALLER_POD, type HookConfig, type InstallerPodSettings, type InstallerPolicy } from '../core/config.js'

export const DEFAULT_INSTALLER_IMAGE = 'ghcr.io/gthulhu/gtp5g-installer:0.1.0'
/** The hook server's own image: it also carries the scheduling agent (spec.scheduling). */
export const DEFAULT_AGENT_IMAGE = 'ghcr.io/gthulhu/gtp5g-operator:0.1.0'

/**
 * Room for a sync request of about 5,500 nodes, each with its installer pod (28.5 MiB at 5,000,
 * measured with node objects as the kubelet reports them; `npm run bench:hooks`). Raise it with
 * the memory limit for larger clusters (README: Hook server).
 */
export const DEFAULT_BODY_LIMIT_BYTES = 32 * 1024 * 1024

/** How the HTTP server protects itself; each is an env variable (EnvSchema). */
export interface ServerLimits {
  /**
   * The whole request must arrive within this, and a hook must answer within it. Shorter than
   * the 30 s Metacontroller waits for every hook (the chart's controllers), so a slow answer
   * reaches it as our 503, which it retries, rather than as its own timeout.
   */
  requestTimeoutMs: number
  /** Idle keep-alive connections are closed after this. */
  keepAliveTimeoutMs: number
  /** Open connections at most (node's server.maxConnections); more are closed at once. */
  maxConnections: number
  /** Hook calls being received, queued or answered at once; more are answered 503 with Retry-After. */
  maxHooksInFlight: number
  /** Worker threads answering hooks. */
  hookWorkers: number
}

export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  requestTimeoutMs: 25_000,
  keepAliveTimeoutMs: 95_000,
  maxConnections: 64,
  maxHooksInFlight: 8,
  hookWorkers: 1
})

export const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0' }),
  TARGET_NAMESPACE: Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63, default: DEFAULT_TARGET_NAMESPACE }),
  INSTALLER_IMAGE: Type.String({ minLength: 1, default: DEFAULT_INSTALLER_IMAGE }),
  AGENT_IMAGE: Type.String({ minLength: 1, default: DEFAULT_AGENT_IMAGE }),
  LOG_LEVEL: StringEnum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { description: 'pino log level', default: 'info' }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: DEFAULT_BODY_LIMIT_BYTES }),
  FINALIZE_TIMEOUT_SECONDS: Type.Integer({ minimum: 0, default: 600 }),
  REQUEST_TIMEOUT_SECONDS: Type.Integer({ minimum: 1, maximum: 600, default: DEFAULT_SERVER_LIMITS.requestTimeoutMs / 1000 }),
  MAX_CONNECTIONS: Type.Integer({ minimum: 4, default: DEFAULT_SERVER_LIMITS.maxConnections }),
  MAX_HOOKS_IN_FLIGHT: Type.Integer({ minimum: 1, default: DEFAULT_SERVER_LIMITS.maxHooksInFlight }),
  HOOK_WORKERS: Type.Integer({ minimum: 1, maximum: 16, default: DEFAULT_SERVER_LIMITS.hookWorkers }),
  // The installer policy (hooks/core/config.ts, InstallerPolicy): comma-separated prefixes.
  ALLOWED_IMAGE_PREFIXES: Type.String({ default: '' }),
  ALLOWED_SOURCE_PREFIXES: Type.String({ default: '' }),
  REQUIRE_SOURCE_SHA256: Type.Boolean({ default: false }),
  // Installer pod settings (hooks/core/config.ts, InstallerPodSettings).
  INSTALLER_PRIORITY_CLASS_NAME: Type.String({ default: DEFAULT_INSTALLER_POD.priorityClassName }),
  INSTALLER_RESOURCES: Type.String({ default: JSON.stringify(DEFAULT_INSTALLER_POD.resources) }),
  INSTALLER_IMAGE_PULL_SECRETS: Type.String({ default: '' }),
  INSTALLER_TOLERATIONS: Type.String({ default: '[]' }),
  // Whether the Node decorator runs (chart nodeLabels.enabled): modules then list their nodes for it.
  NODE_LABELS: Type.Boolean({ default: true })
})
type Env = Static<typeof EnvSchema>

interface ServerConfig {
  port: number
  host: string
  logLevel: Env['LOG_LEVEL']
  bodyLimit: number
  limits: ServerLimits
  hooks: HookConfig
}

const prefixes = (list: string): string[] => list.split(',').map(p => p.trim()).filter(p => p !== '')

/**
 * The policy from the environment. A prefix must end where a name part ends, or
 * `ghcr.io/acme` would also allow `ghcr.io/acme-evil/…`; a URL prefix must be written as the
 * installer will see URLs (normalized), or it would never match, and a GitHub prefix must stop
 * at the tags (openGithubPrefix).
 */
function policyFrom (env: Pick<Env, 'ALLOWED_IMAGE_PREFIXES' | 'ALLOWED_SOURCE_PREFIXES' | 'REQUIRE_SOURCE_SHA256'>): InstallerPolicy {
  const images = prefixes(env.ALLOWED_IMAGE_PREFIXES)
  for (const p of images) {
    if (!/^[!-~]+[/:@]$/.test(p)) throw new Error(`ALLOWED_IMAGE_PREFIXES: "${p}" must end with "/", ":" or "@" (e.g. "ghcr.io/acme/" or "ghcr.io/acme/installer@sha256:"), so that it cannot match a longer name`)
  }
  const sources = prefixes(env.ALLOWED_SOURCE_PREFIXES)
  for (const p of sources) {
    if (!/^(https?|file):\/\/[!-~]*\/$/i.test(p)) throw new Error(`ALLOWED_SOURCE_PREFIXES: "${p}" must be an http(s):// or file:// URL ending with "/", so that it cannot match a longer host or path`)
    if (normalizedUrl(p) !== p) throw new Error(`ALLOWED_SOURCE_PREFIXES: "${p}" is not normalized; write it as "${normalizedUrl(p)}"`)
    const ambiguous = ambiguousSourcePath(p)
    if (ambiguous !== undefined) throw new Error(`ALLOWED_SOURCE_PREFIXES: "${p}" has ${ambiguous} in its path; write the prefix without it`)
    const open = openGithubPrefix(p)
    if (open !== undefined) throw new Error(`ALLOWED_SOURCE_PREFIXES: ${open}`)
  }
  return { allowedImagePrefixes: images, allowedSourcePrefixes: sources, requireSourceSha256: env.REQUIRE_SOURCE_SHA256 }
}

const Quantities = Type.Record(Type.String({ minLength: 1 }), Type.String({ pattern: '^[0-9.]+[a-zA-Z]*$' }))
const Resources = Type.Object({ requests: Type.Optional(Quantities), limits: Type.Optional(Quantities) }, { additionalProperties: false })
const Tolerations = Type.Array(Toleration)

function jsonOf<T> (name: string, text: string, check: (v: unknown) => v is T, what: string): T {
  let value: unknown
  try { value = JSON.parse(text) } catch { throw new Error(`${name}: not JSON; expected ${what}`) }
  if (!check(value)) throw new Error(`${name}: expected ${what}, got ${text}`)
  return value
}

/** Installer pod settings from the environment, each checked so that a bad value fails the start, not every sync. */
function installerPodFrom (env: Pick<Env, 'INSTALLER_PRIORITY_CLASS_NAME' | 'INSTALLER_RESOURCES' | 'INSTALLER_IMAGE_PULL_SECRETS' | 'INSTALLER_TOLERATIONS'>): InstallerPodSettings {
  const priorityClassName = env.INSTALLER_PRIORITY_CLASS_NAME.trim()
  if (priorityClassName !== '' && !new RegExp(DNS_SUBDOMAIN_PATTERN).test(priorityClassName)) {
    throw new Error(`INSTALLER_PRIORITY_CLASS_NAME: "${priorityClassName}" is not a PriorityClass name (a DNS subdomain)`)
  }
  const imagePullSecrets = prefixes(env.INSTALLER_IMAGE_PULL_SECRETS)
  for (const name of imagePullSecrets) {
    if (!new RegExp(DNS_SUBDOMAIN_PATTERN).test(name)) throw new Error(`INSTALLER_IMAGE_PULL_SECRETS: "${name}" is not a Secret name (a DNS subdomain)`)
  }
  return {
    priorityClassName,
    resources: jsonOf('INSTALLER_RESOURCES', env.INSTALLER_RESOURCES, (v): v is InstallerPodSettings['resources'] => Value.Check(Resources, v),
      'a JSON object {"requests": {...}, "limits": {...}} of quantities such as "64Mi"'),
    imagePullSecrets,
    tolerations: jsonOf('INSTALLER_TOLERATIONS', env.INSTALLER_TOLERATIONS, (v): v is InstallerPodSettings['tolerations'] => Value.Check(Tolerations, v),
      'a JSON array of Kubernetes tolerations')
  }
}

export function loadConfig (env: Record<string, string | undefined> = process.env): ServerConfig {
  const parsed = envSchema<Env>({ schema: EnvSchema, data: env, env: false, dotenv: false })
  return {
    port: parsed.PORT,
    host: parsed.HOST,
    logLevel: parsed.LOG_LEVEL,
    bodyLimit: parsed.BODY_LIMIT_BYTES,
    limits: {
      ...DEFAULT_SERVER_LIMITS,
      requestTimeoutMs: parsed.REQUEST_TIMEOUT_SECONDS * 1000,
      maxConnections: parsed.MAX_CONNECTIONS,
      maxHooksInFlight: parsed.MAX_HOOKS_IN_FLIGHT,
      hookWorkers: parsed.HOOK_WORKERS
    },
    hooks: {
      targetNamespace: parsed.TARGET_NAMESPACE,
      installerImage: parsed.INSTALLER_IMAGE,
      agentImage: parsed.AGENT_IMAGE,
      finalizeTimeoutSeconds: parsed.FINALIZE_TIMEOUT_SECONDS,
      policy: policyFrom(parsed),
      installerPod: installerPodFrom(parsed),
      nodeLabels: parsed.NODE_LABELS
    }
  }
}
