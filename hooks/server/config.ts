// The hook server's configuration, read once from the environment and validated by a schema:
// a typo in a variable fails the start with a message naming it, not a surprise later.
import { type Static, Type } from '@sinclair/typebox'
import envSchema from 'env-schema'
import { DEFAULT_TARGET_NAMESPACE } from '../../contract/index.js'
import { StringEnum } from '../core/api.js'
import type { HookConfig } from '../core/config.js'

export const DEFAULT_INSTALLER_IMAGE = 'ghcr.io/gthulhu/gtp5g-installer:0.1.0'

/** Room for a sync request carrying thousands of related pods and nodes (fastify's 1 MiB is far too small). */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024 * 1024

export const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0' }),
  TARGET_NAMESPACE: Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63, default: DEFAULT_TARGET_NAMESPACE }),
  INSTALLER_IMAGE: Type.String({ minLength: 1, default: DEFAULT_INSTALLER_IMAGE }),
  LOG_LEVEL: StringEnum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { description: 'pino log level', default: 'info' }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: DEFAULT_BODY_LIMIT_BYTES }),
  FINALIZE_TIMEOUT_SECONDS: Type.Integer({ minimum: 0, default: 600 })
})
export type Env = Static<typeof EnvSchema>

export interface ServerConfig {
  port: number
  host: string
  logLevel: Env['LOG_LEVEL']
  bodyLimit: number
  hooks: HookConfig
}

export function loadConfig (env: Record<string, string | undefined> = process.env): ServerConfig {
  const parsed = envSchema<Env>({ schema: EnvSchema, data: env, env: false, dotenv: false })
  return {
    port: parsed.PORT,
    host: parsed.HOST,
    logLevel: parsed.LOG_LEVEL,
    bodyLimit: parsed.BODY_LIMIT_BYTES,
    hooks: {
      targetNamespace: parsed.TARGET_NAMESPACE,
      installerImage: parsed.INSTALLER_IMAGE,
      finalizeTimeoutSeconds: parsed.FINALIZE_TIMEOUT_SECONDS
    }
  }
}
