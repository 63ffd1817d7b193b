// Finds what the real-kernel tests need (Debian's headers, the qemu assets and the installer
// image prepared by scripts/installer-test-deps.sh). In CI a missing piece is a failure, not a
// skip (see skip.ts): a green run must mean the real kernel was exercised. No tap import here:
// the benchmark uses this file too.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import path from 'node:path'

export const CACHE_DIR = path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'gtp5g-operator')
export const ENV_FILE = path.join(CACHE_DIR, 'installer-test.env')

export interface RealEnv { KVER: string, VMLINUZ: string, INITRD: string, IMAGE_REF: string, IMAGE_ROOTFS: string }

function readEnvFile (): Partial<RealEnv> {
  if (!existsSync(ENV_FILE)) return {}
  const out: Record<string, string> = {}
  for (const line of readFileSync(ENV_FILE, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line)
    if (m !== null) out[m[1] as string] = m[2] as string
  }
  return out
}

/** A Debian `-amd64` kernel whose headers are installed here (the prepared one if known). */
export function debianKernelWithHeaders (): string | undefined {
  const prepared = readEnvFile().KVER
  if (prepared !== undefined && existsSync(`/lib/modules/${prepared}/build/Makefile`)) return prepared
  const dirs = existsSync('/lib/modules') ? readdirSync('/lib/modules') : []
  return dirs.filter(d => d.endsWith('-amd64') && existsSync(`/lib/modules/${d}/build/Makefile`)).sort().at(-1)
}

/** Everything the qemu suite needs, or a sentence saying what is missing. */
export function vmEnv (): RealEnv | string {
  const env = readEnvFile()
  const missing = (['KVER', 'VMLINUZ', 'INITRD', 'IMAGE_REF', 'IMAGE_ROOTFS'] as const).filter(k => env[k] === undefined || env[k] === '')
  if (missing.length > 0) return `${ENV_FILE} lacks ${missing.join(', ')}; run: bash scripts/installer-test-deps.sh`
  for (const k of ['VMLINUZ', 'INITRD', 'IMAGE_ROOTFS'] as const) {
    if (!existsSync(env[k] as string)) return `${k}=${env[k] as string} does not exist; run: bash scripts/installer-test-deps.sh`
  }
  if (!existsSync('/usr/bin/qemu-system-x86_64')) return 'qemu-system-x86_64 is not installed; run: bash scripts/installer-test-deps.sh'
  return env as RealEnv
}
