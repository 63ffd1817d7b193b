// Kernel release strings, normalised in ONE place. They are not semver: `5.15.0-91-generic`,
// `4.18.0-513.el8.x86_64`, `6.1.0-28-amd64`. Only the leading major.minor[.patch] is compared.
// The string becomes a directory name and a make argument, so only the contract's
// KERNEL_RELEASE_PATTERN passes (the CRD and the hook check the same one): no `$`, `/`, spaces.
import { KERNEL_RELEASE_MAX, kernelReleaseRegExp, MIN_KERNEL } from '../contract/index.js'

export interface KernelRelease {
  /** The string as given; also the directory name under /lib/modules and the cache. */
  raw: string
  major: number
  minor: number
  patch: number
}

export function isKernelRelease (raw: string): boolean {
  return raw.length <= KERNEL_RELEASE_MAX && kernelReleaseRegExp.test(raw)
}

export function parseKernelRelease (raw: string): KernelRelease | undefined {
  if (!isKernelRelease(raw)) return undefined
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(raw)
  if (m === null) return undefined
  return { raw, major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) }
}

/** Orders two releases by their numeric prefix only; suffixes never decide. */
export function compareKernel (a: Pick<KernelRelease, 'major' | 'minor' | 'patch'>, b: Pick<KernelRelease, 'major' | 'minor' | 'patch'>): number {
  return (a.major - b.major) || (a.minor - b.minor) || (a.patch - b.patch)
}

export function isSupportedKernel (k: KernelRelease): boolean {
  return compareKernel(k, { major: MIN_KERNEL[0], minor: MIN_KERNEL[1], patch: 0 }) >= 0
}
