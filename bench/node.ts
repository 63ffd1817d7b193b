// Section 3 of `npm run bench`: the installer on a node, in one qemu (TCG) boot of Debian's kernel
// on the installer image (test/support/vm.ts, as the qemu suite), driven by bench/guest/node.sh:
//   raw      gtp5g's tarball unpacked, `make` against the node's headers and `insmod` by hand,
//            before and after the installer's cold run (after one warm-up build, not counted)
//   cold     the installer with an empty cache: download (file://), sha256, extract, kbuild, load
//   warm     nothing loaded, the cache holds the module (a node reboot); floor: insmod by hand
//   restart  the module loaded at the desired version (a pod restart); floor: reading its version
// each timed from the process start to the readiness the pod's probe reads. The installer run
// is this working tree's, compiled and put beside the image's own (variant "tree"); with
// `compareImage` the image's as it was built runs too (variant "image"), for before/after figures.
// TCG is several times slower than hardware: the ratios travel, the seconds do not.
import { execFileSync } from 'node:child_process'
import { chmod, cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type RealEnv, type VmKernel } from '../test/support/realenv.js'
import { bootScenario, type GuestRecord } from '../test/support/vm.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const IMAGE_DIR = '/opt/gtp5g-installer'
const TREE_DIR = '/opt/gtp5g-installer-tree'

/** One installer run: ms to ready, and its phases (ms) from its own log. */
export interface InstallerRun {
  ms: number
  /** How readiness was seen: the readiness file, or (an installer without one) "done" + one `check`. */
  probe: string
  phases: Record<string, number | undefined>
  outcome?: string
  /** Kernel events during a restart (module load or unload each make at least one), and the fixture's own unload lines. */
  uevents?: number
  unloads?: number
}

export interface NodeRun {
  kernel: string
  cpus: number
  rawBefore: number
  rawAfter: number
  cold: InstallerRun
  floorWarm: number[]
  floorRestart: number[]
  warm: Record<string, InstallerRun[]>
  restart: Record<string, InstallerRun[]>
  guestMs: number
  /** The guest console's tail when the run did not reach its end. */
  failure?: string
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].filter(Number.isFinite).sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] as number : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

const num = (v: string | undefined): number | undefined => v === undefined || v === '-' || v === '' ? undefined : Number(v)

function installerRun (r: GuestRecord | undefined): InstallerRun {
  const phases: Record<string, number | undefined> = {}
  for (const k of ['first', 'kernel', 'inspect', 'lock', 'cache-lookup', 'load-dependency', 'load', 'verify', 'startup', 'done']) phases[k] = num(r?.[k])
  const ms = Number(r?.ms ?? -1)
  return {
    ms: ms < 0 ? Number.NaN : ms,
    probe: r?.probe ?? '?',
    phases,
    ...(r?.outcome === undefined ? {} : { outcome: r.outcome }),
    ...(r?.uevents === undefined ? {} : { uevents: Number(r.uevents), unloads: Number(r.unloads) })
  }
}

/** This tree's installer, compiled, for the guest: its dist beside the image's node_modules. */
async function compileTree (): Promise<string> {
  const out = await mkdtemp(path.join(tmpdir(), 'gtp5g-bench-dist-'))
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'installer/tsconfig.build.json'), '--outDir', path.join(out, 'dist')], { stdio: 'inherit' })
  return out
}

export async function nodeRun (env: RealEnv, kernel: VmKernel, opts: { rounds?: number, compareImage?: boolean, log?: (line: string) => void } = {}): Promise<NodeRun> {
  const rounds = opts.rounds ?? 3
  const compiled = await compileTree()
  const variants = [`tree=${TREE_DIR}/dist/installer`, ...(opts.compareImage === true ? [`image=${IMAGE_DIR}/dist/installer`] : [])]
  try {
    const run = await bootScenario(env, kernel, {
      init: path.join(ROOT, 'bench/guest/node.sh'),
      timeoutMs: 1_800_000,
      stage: async root => {
        // New files only: the staged image is made of hard links to the shared one.
        const tree = path.join(root, TREE_DIR.slice(1))
        await mkdir(tree, { recursive: true })
        await cp(path.join(compiled, 'dist'), path.join(tree, 'dist'), { recursive: true })
        await chmod(path.join(tree, 'dist/installer/main.js'), 0o755)
        await symlink(`${IMAGE_DIR}/node_modules`, path.join(tree, 'node_modules'))
        await cp(path.join(ROOT, 'package.json'), path.join(tree, 'package.json'))
        await writeFile(path.join(root, 'gtp5g-test/bench.env'), `VARIANTS='${variants.join(' ')}'\nROUNDS=${rounds}\n`)
      },
      ...(opts.log === undefined ? {} : { log: opts.log })
    })
    const rec = (step: string): GuestRecord | undefined => run.records.get(step)
    const series = (prefix: string): InstallerRun[] => Array.from({ length: rounds }, (_, i) => installerRun(rec(`${prefix}-${i + 1}`)))
    const names = variants.map(v => v.split('=')[0] as string)
    const boot = rec('boot')
    return {
      kernel: boot?.kernel ?? kernel.release,
      cpus: Number(boot?.cpus ?? Number.NaN),
      rawBefore: Number(rec('raw-before')?.ms ?? Number.NaN),
      rawAfter: Number(rec('raw-after')?.ms ?? Number.NaN),
      cold: installerRun(rec('cold')),
      floorWarm: Array.from({ length: rounds }, (_, i) => Number(rec(`floor-warm-${i + 1}`)?.ms ?? Number.NaN)),
      floorRestart: Array.from({ length: rounds }, (_, i) => Number(rec(`floor-restart-${i + 1}`)?.ms ?? Number.NaN)),
      warm: Object.fromEntries(names.map(n => [n, series(`warm-${n}`)])),
      restart: Object.fromEntries(names.map(n => [n, series(`restart-${n}`)])),
      guestMs: run.bootMs,
      ...(run.records.has('end') ? {} : { failure: run.console.slice(-4000) })
    }
  } finally {
    await rm(compiled, { recursive: true, force: true })
  }
}
