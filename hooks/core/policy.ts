// The hook server's installer policy (config.ts, InstallerPolicy) applied to a valid spec. A
// refused spec is treated like an invalid one: nothing it asks for is applied, the running
// DaemonSet stays as it is, and Degraded=True/PolicyDenied names the rule.
import { sourceUrlFor } from '../../contract/index.js'
import type { GTP5GModuleSpec } from './api.js'
import type { HookConfig } from './config.js'

export interface PolicyDenial {
  /** The setting that refuses it, as the hook server's environment spells it. */
  rule: 'ALLOWED_IMAGE_PREFIXES' | 'ALLOWED_SOURCE_PREFIXES' | 'REQUIRE_SOURCE_SHA256'
  message: string
}

/**
 * A URL as the installer will fetch it: scheme and host lower-cased, `.` and `..` segments (also
 * percent-encoded ones) resolved. A prefix is compared with this, so
 * `https://mirror.example/gtp5g/../evil` does not pass for `https://mirror.example/gtp5g/`.
 */
export function normalizedUrl (url: string): string {
  try {
    return new URL(url).href
  } catch {
    return url
  }
}

const listed = (prefixes: readonly string[]): string => prefixes.join(', ')

export function policyDenial (spec: GTP5GModuleSpec, config: HookConfig): PolicyDenial | undefined {
  const { policy } = config
  const image = spec.image
  if (image !== undefined && image !== config.installerImage && policy.allowedImagePrefixes.length > 0 &&
      !policy.allowedImagePrefixes.some(p => image.startsWith(p))) {
    return { rule: 'ALLOWED_IMAGE_PREFIXES', message: `spec.image "${image}" is not under an allowed prefix (hook server setting ALLOWED_IMAGE_PREFIXES: ${listed(policy.allowedImagePrefixes)})` }
  }
  const url = normalizedUrl(sourceUrlFor(spec.source.url, spec.version))
  if (policy.allowedSourcePrefixes.length > 0 && !policy.allowedSourcePrefixes.some(p => url.startsWith(p))) {
    return { rule: 'ALLOWED_SOURCE_PREFIXES', message: `spec.source.url "${url}" is not under an allowed prefix (hook server setting ALLOWED_SOURCE_PREFIXES: ${listed(policy.allowedSourcePrefixes)})` }
  }
  if (policy.requireSourceSha256 && spec.source.sha256 === '') {
    return { rule: 'REQUIRE_SOURCE_SHA256', message: 'spec.source.sha256 is empty, and the hook server requires one (hook server setting REQUIRE_SOURCE_SHA256)' }
  }
  return undefined
}
