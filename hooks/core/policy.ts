// The hook server's installer policy (config.ts, InstallerPolicy) applied to a valid spec. A
// refused spec is treated like an invalid one: nothing it asks for is applied, the running
// DaemonSet stays as it is, and Degraded=True/PolicyDenied names the rule.
import { sourceOutsidePolicy, sourceUrlFor } from '../../contract/index.js'
import type { GTP5GModuleSpec } from './api.js'
import type { HookConfig } from './config.js'

interface PolicyDenial {
  /** The setting that refuses it, as the hook server's environment spells it. */
  rule: 'ALLOWED_IMAGE_PREFIXES' | 'ALLOWED_SOURCE_PREFIXES' | 'REQUIRE_SOURCE_SHA256'
  message: string
}

const listed = (prefixes: readonly string[]): string => prefixes.join(', ')

export function policyDenial (spec: GTP5GModuleSpec, config: HookConfig): PolicyDenial | undefined {
  const { policy } = config
  const image = spec.image
  if (image !== undefined && image !== config.installerImage && policy.allowedImagePrefixes.length > 0 &&
      !policy.allowedImagePrefixes.some(p => image.startsWith(p))) {
    return { rule: 'ALLOWED_IMAGE_PREFIXES', message: `spec.image "${image}" is not under an allowed prefix (hook server setting ALLOWED_IMAGE_PREFIXES: ${listed(policy.allowedImagePrefixes)})` }
  }
  const outside = sourceOutsidePolicy(sourceUrlFor(spec.source.url, spec.version), policy.allowedSourcePrefixes, 'hook server setting ALLOWED_SOURCE_PREFIXES')
  if (outside !== undefined) {
    return { rule: 'ALLOWED_SOURCE_PREFIXES', message: `spec.source.url ${outside}` }
  }
  if (policy.requireSourceSha256 && spec.source.sha256 === '') {
    return { rule: 'REQUIRE_SOURCE_SHA256', message: 'spec.source.sha256 is empty, and the hook server requires one (hook server setting REQUIRE_SOURCE_SHA256)' }
  }
  return undefined
}
