// Reads the installer's configuration from argv and the contract's env names. Pure: the caller
// passes argv and env in, so every rule here is a table test.
import {
  type Action, ACTIONS, type Command, COMMANDS, DEFAULT_SOURCE_URL, ENV, ENV_TERMINATION_LOG,
  ENV_READY_FILE, KERNEL_RELEASE_MAX, KERNEL_RELEASE_PATTERN, READY_FILE, sourceUrlFor, TERMINATION_LOG, versionRegExp
} from '../contract/index.js'
import { InstallerError } from './errors.js'
import { isKernelRelease } from './kernel.js'
import { DEFAULT_LIMITS, type Limits } from './limits.js'

export interface Config {
  command: Command
  action: Action
  /** Desired gtp5g release tag; "" only for `unload`, which removes whatever version is loaded. */
  version: string
  /** KERNEL_VERSION override; undefined means the running kernel. */
  kernel: string | undefined
  sourceUrl: string
  sourceSha256: string | undefined
  /** The hook server's ALLOWED_SOURCE_PREFIXES: every URL fetched, redirects included, must be under one. Empty: any. */
  allowedSourcePrefixes: string[]
  /** spec.btf: build with BTF and require /sys/kernel/btf/gtp5g once loaded. */
  btf: boolean
  hostRoot: string
  watchIntervalMs: number
  logLevel: string
  terminationLog: string
  /** Present while the node is in the state the action wants; the readiness probe reads it. */
  readyFile: string
  /** Not configurable from the pod: the defaults are the contract; tests pass smaller ones. */
  limits: Limits
}

export const DEFAULT_WATCH_INTERVAL_SECONDS = 10

type Env = Readonly<Record<string, string | undefined>>

function oneOf<T extends string> (value: string, allowed: readonly T[], what: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T
  throw new InstallerError('InvalidConfig', `${what} must be one of ${allowed.join(', ')}; got "${value}"`)
}

export function parseConfig (argv: readonly string[], env: Env): Config {
  if (argv.length > 1) throw new InstallerError('InvalidConfig', `expected at most one command, got: ${argv.join(' ')}`)
  // Without a command the pod's GTP5G_ACTION decides (install by default). A command wins over
  // it, so an operator can run `unload` by hand in any pod; `check` judges against the action
  // the pod was started for.
  const podAction = (): Action => oneOf(env[ENV.action] || 'install', ACTIONS, ENV.action)
  const command = argv[0] === undefined ? undefined : oneOf(argv[0], COMMANDS, 'command')
  const action = command === undefined || command === 'check' ? podAction() : command

  const version = env[ENV.version] ?? ''
  if (action === 'install' && !versionRegExp.test(version)) {
    throw new InstallerError('InvalidConfig', `${ENV.version} must be a gtp5g release tag like v0.9.12; got "${version}"`)
  }

  const sha = (env[ENV.sourceSha256] ?? '').trim().toLowerCase()
  if (sha !== '' && !/^[0-9a-f]{64}$/.test(sha)) {
    throw new InstallerError('InvalidConfig', `${ENV.sourceSha256} must be 64 hex digits; got "${sha}"`)
  }

  const sourceUrl = sourceUrlFor(env[ENV.sourceUrl] || DEFAULT_SOURCE_URL, version)
  if (action === 'install' && !/^(https?|file):/.test(sourceUrl)) {
    throw new InstallerError('InvalidConfig', `${ENV.sourceUrl} must be an http, https or file URL; got "${sourceUrl}"`)
  }

  const allowedSourcePrefixes = (env[ENV.allowedSourcePrefixes] ?? '').split(',').map(p => p.trim()).filter(p => p !== '')

  const intervalText = env[ENV.watchIntervalSeconds] || String(DEFAULT_WATCH_INTERVAL_SECONDS)
  const interval = Number(intervalText)
  if (!Number.isFinite(interval) || interval <= 0) {
    throw new InstallerError('InvalidConfig', `${ENV.watchIntervalSeconds} must be a positive number of seconds; got "${intervalText}"`)
  }

  const btfText = (env[ENV.btf] ?? '').trim()
  if (!['', 'true', 'false'].includes(btfText)) {
    throw new InstallerError('InvalidConfig', `${ENV.btf} must be "true" or "false"; got ${JSON.stringify(btfText)}`)
  }

  const kernel = env[ENV.kernelVersion]?.trim()
  // It becomes a path and a make argument: anything but a plain release is refused here, before
  // any use (make expands `$(...)` in command-line variables; see build.ts).
  if (kernel !== undefined && kernel !== '' && !isKernelRelease(kernel)) {
    throw new InstallerError('InvalidConfig',
      `${ENV.kernelVersion} must be a kernel release like 6.1.0-28-amd64 (${KERNEL_RELEASE_PATTERN}, at most ${KERNEL_RELEASE_MAX} characters); got ${JSON.stringify(kernel)}`)
  }
  return {
    command: command ?? action,
    action,
    version,
    kernel: kernel === '' ? undefined : kernel,
    sourceUrl,
    sourceSha256: sha === '' ? undefined : sha,
    allowedSourcePrefixes,
    btf: btfText === 'true',
    hostRoot: (env[ENV.hostRoot] ?? '').replace(/\/+$/, ''),
    watchIntervalMs: Math.round(interval * 1000),
    logLevel: env[ENV.logLevel] || 'info',
    terminationLog: env[ENV_TERMINATION_LOG] || TERMINATION_LOG,
    readyFile: env[ENV_READY_FILE] || READY_FILE,
    limits: { ...DEFAULT_LIMITS }
  }
}
