// Finds what the real-kernel tests need (Debian's headers, the qemu assets and the installer
// image prepared by scripts/installer-test-deps.sh). In CI a missing piece is a failure, not a
// skip (see prerequisite.ts): a green run must mean the real kernel was exercised. No tap import here:
// the benchmark uses this file too.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { CACHE_DIR } from '../../e2e/cluster/tools.js'

export const ENV_FILE = path.join(CACHE_DIR, 'installer-test.env')

/** A kernel the qemu suite boots: Debian's release, its vmlinuz and an initramfs made for it. */
export interface VmKernel { release: string, vmlinuz: string, initrd: string }
export interface RealEnv { kernels: VmKernel[], IMAGE_REF: string, IMAGE_ROOTFS: string }

export interface EnvFile { values: Record<string, string>, kernels: VmKernel[] }

/** KEY=value lines; `KERNEL=<release> <vmlinuz> <initrd>` may repeat, one per prepared kernel. */
export function readEnvFile (): EnvFile {
  const values: Record<string, string> = {}
  const kernels: VmKernel[] = []
  if (!existsSync(ENV_FILE)) return { values, kernels }
  for (const line of readFileSync(ENV_FILE, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line)
    if (m === null) continue
    const [, key, value] = m as unknown as [string, string, string]
    if (key === 'KERNEL') {
      const [release, vmlinuz, initrd] = value.split(' ')
      if (release !== undefined && vmlinuz !== undefined && initrd !== undefined) kernels.push({ release, vmlinuz, initrd })
    } else {
      values[key] = value
    }
  }
  return { values, kernels }
}

const hasHeaders = (release: string): boolean => existsSync(`/lib/modules/${release}/build/Makefile`)

/** Debian `-amd64` kernels whose headers are installed here: the prepared ones, else any found. */
export function debianKernelsWithHeaders (): string[] {
  const prepared = readEnvFile().kernels.map(k => k.release).filter(hasHeaders)
  if (prepared.length > 0) return prepared
  const dirs = existsSync('/lib/modules') ? readdirSync('/lib/modules') : []
  return dirs.filter(d => d.endsWith('-amd64') && hasHeaders(d)).sort()
}

/** Everything the qemu suite needs, or a sentence saying what is missing. */
export function vmEnv (): RealEnv | string {
  const { values, kernels } = readEnvFile()
  const fix = 'run: bash scripts/installer-test-deps.sh'
  if (kernels.length === 0) return `${ENV_FILE} lists no KERNEL; ${fix}`
  const missing = (['IMAGE_REF', 'IMAGE_ROOTFS'] as const).filter(k => values[k] === undefined || values[k] === '')
  if (missing.length > 0) return `${ENV_FILE} lacks ${missing.join(', ')}; ${fix}`
  for (const file of [values.IMAGE_ROOTFS as string, ...kernels.flatMap(k => [k.vmlinuz, k.initrd])]) {
    if (!existsSync(file)) return `${file} does not exist; ${fix}`
  }
  for (const k of kernels) if (!hasHeaders(k.release)) return `no headers for ${k.release} under /lib/modules; ${fix}`
  if (!existsSync('/usr/bin/qemu-system-x86_64')) return `qemu-system-x86_64 is not installed; ${fix}`
  return { kernels, IMAGE_REF: values.IMAGE_REF as string, IMAGE_ROOTFS: values.IMAGE_ROOTFS as string }
}
