// Kernel release strings, normalised in ONE place. They are not semver: `5.15.0-91-generic`,
// `4.18.0-513.el8.x86_64`, `6.1.0-28-amd64`. Only the leading major.minor[.patch] is compared.
import { MIN_KERNEL } from '../contract/index.js'

export interface KernelRelease {
  /** The string as given; also the directory name under /lib/modules and the cache. */
  raw: string
  major: number
  minor: number
  patch: number
}

// Distribution suffixes (`-91-generic`, `.el8.x86_64`, `+`) follow the numbers in any form.
const RELEASE = /^(\d+)\.(\d+)(?:\.(\d+))?(?:[-.+_~].*)?$/

export function parseKernelRelease (raw: string): KernelRelease | undefined {
  const m = RELEASE.exec(raw.trim())
  if (m === null || raw.trim() !== raw || raw.includes('/')) return undefined
  return { raw, major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) }
}

/** Orders two releases by their numeric prefix only; suffixes never decide. */
export function compareKernel (a: Pick<KernelRelease, 'major' | 'minor' | 'patch'>, b: Pick<KernelRelease, 'major' | 'minor' | 'patch'>): number {
  return (a.major - b.major) || (a.minor - b.minor) || (a.patch - b.patch)
}

export function isSupportedKernel (k: KernelRelease): boolean {
  return compareKernel(k, { major: MIN_KERNEL[0], minor: MIN_KERNEL[1], patch: 0 }) >= 0
}
