// Section 3 of `npm run bench`: the installer on a node, in one qemu (TCG) boot of Debian's kernel
// on the installer image (test/support/vm.ts, as the qemu suite), driven by bench/guest/node.sh:
//   raw      gtp5g's tarball unpacked, `make` against the node's headers and `insmod` by hand,
//            before and after the installer's cold run (after one warm-up build, not counted)
//   cold     the installer with an empty cache: download (file://), sha256, extract, kbuild, load
//   warm     nothing loaded, the cache holds the module (a node reboot); floor: insmod by hand
//   restart  the module loaded at the desired version (a pod restart); floor: reading its version
// each timed from the process start to the readiness the pod's probe reads. The installer run
// is this working tree's, bundled as the image bundles it (installer/bundle.mjs) and put beside
// the image's own, started through its launcher as the image's entrypoint starts it (variant
// "tree": from the V8 start-up snapshot, which the guest builds first with the image's node);
// with `compareImage` the same bundle's ES module entry runs too (variant "esm", no snapshot),
// in turns with it in the same boot, for before/after figures.
// TCG is several times slower than hardware: the ratios travel, the seconds do not.
import { execFileSync } from 'node:child_process'
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Bar } from './lib/plot.js'
import { met, type Row, type Section } from './lib/report.js'
import { type RealEnv, type VmKernel } from '../test/support/realenv.js'
import { bootScenario, type GuestRecord } from '../test/support/vm.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const TREE_DIR = '/opt/gtp5g-installer-tree'

/** One installer run: ms to ready, and its phases (ms) from its own log. */
export interface InstallerRun {
  ms: number
  /** How readiness was seen: the readiness file, or (an installer without one) "done" + one `check`. */
  probe: string
  phases: Record<string, number | undefined>
  outcome?: string
  /** Which entry the launcher started: "snapshot" or "plain" (main.mjs); absent for main.mjs run directly. */
  entry?: string
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
  /** The start-up snapshot the cold run built after ready (installer/snapshotcache.ts): its build time and size. */
  snapshot?: { buildMs: number, bytes: number }
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
  for (const k of ['first', 'kernel', 'inspect', 'lock', 'cache-lookup', 'headers', 'download', 'extract', 'build', 'cache-store', 'load-dependency', 'load', 'verify', 'startup', 'bootstrap', 'done']) phases[k] = num(r?.[k])
  const ms = Number(r?.ms ?? -1)
  return {
    ms: ms < 0 ? Number.NaN : ms,
    probe: r?.probe ?? '?',
    phases,
    ...(r?.outcome === undefined ? {} : { outcome: r.outcome }),
    ...(r?.entry === undefined || r.entry === '-' ? {} : { entry: r.entry }),
    ...(r?.uevents === undefined ? {} : { uevents: Number(r.uevents), unloads: Number(r.unloads) })
  }
}

/** This tree's installer, bundled as the image bundles it (no node_modules needed beside it). */
async function bundleTree (): Promise<string> {
  const out = await mkdtemp(path.join(tmpdir(), 'gtp5g-bench-bundle-'))
  execFileSync(process.execPath, [path.join(ROOT, 'installer/bundle.mjs'), '--dir', TREE_DIR, path.join(out, 'bundle')], { stdio: ['ignore', 'ignore', 'inherit'] })
  return out
}

/** The figures from the guest's records (bench/guest/node.sh's "@@GTP5G" lines). */
export function fromRecords (records: Map<string, GuestRecord>, o: { rounds: number, variants: string[], kernel: string, guestMs: number, console: string }): NodeRun {
  const rec = (step: string): GuestRecord | undefined => records.get(step)
  const rounds = o.rounds
  const series = (prefix: string): InstallerRun[] => Array.from({ length: rounds }, (_, i) => installerRun(rec(`${prefix}-${i + 1}`)))
  const boot = rec('boot')
  return {
    kernel: boot?.kernel ?? o.kernel,
    cpus: Number(boot?.cpus ?? Number.NaN),
    rawBefore: Number(rec('raw-before')?.ms ?? Number.NaN),
    rawAfter: Number(rec('raw-after')?.ms ?? Number.NaN),
    cold: installerRun(rec('cold')),
    ...(num(rec('snapshot')?.build) === undefined ? {} : { snapshot: { buildMs: Number(rec('snapshot')?.build), bytes: Number(rec('snapshot')?.bytes) } }),
    floorWarm: Array.from({ length: rounds }, (_, i) => Number(rec(`floor-warm-${i + 1}`)?.ms ?? Number.NaN)),
    floorRestart: Array.from({ length: rounds }, (_, i) => Number(rec(`floor-restart-${i + 1}`)?.ms ?? Number.NaN)),
    warm: Object.fromEntries(o.variants.map(n => [n, series(`warm-${n}`)])),
    restart: Object.fromEntries(o.variants.map(n => [n, series(`restart-${n}`)])),
    guestMs: o.guestMs,
    ...(records.has('end') ? {} : { failure: o.console.slice(-4000) })
  }
}

export async function nodeRun (env: RealEnv, kernel: VmKernel, opts: { rounds?: number, compareImage?: boolean, log?: (line: string) => void } = {}): Promise<NodeRun> {
  const rounds = opts.rounds ?? 3
  const bundled = await bundleTree()
  const variants = [`tree=${TREE_DIR}/gtp5g-installer`, ...(opts.compareImage === true ? [`esm=${TREE_DIR}/main.mjs`] : [])]
  try {
    const run = await bootScenario(env, kernel, {
      init: path.join(ROOT, 'bench/guest/node.sh'),
      timeoutMs: 1_800_000,
      stage: async root => {
        // New files only: the staged image is made of hard links to the shared one.
        await mkdir(path.join(root, 'opt'), { recursive: true })
        await cp(path.join(bundled, 'bundle'), path.join(root, TREE_DIR.slice(1)), { recursive: true })
        await writeFile(path.join(root, 'gtp5g-test/bench.env'), `VARIANTS='${variants.join(' ')}'\nROUNDS=${rounds}\n`)
      },
      ...(opts.log === undefined ? {} : { log: opts.log })
    })
    return fromRecords(run.records, { rounds, variants: variants.map(v => v.split('=')[0] as string), kernel: kernel.release, guestMs: run.bootMs, console: run.console })
  } finally {
    await rm(bundled, { recursive: true, force: true })
  }
}

/** The parts of one run, in order, adding up to its time to ready (ms). */
export function runParts (r: InstallerRun): Array<{ part: string, value: number }> {
  const p = r.phases
  const v = (k: string): number => p[k] ?? 0
  // Before its first log line: the process start (setpriv, exec), Node.js's own bootstrap, then
  // loading the installer's modules (its log says where one ends; an older installer's does not).
  const first = p.first ?? 0
  const loaded = p.startup === undefined || p.bootstrap === undefined ? undefined : p.startup - p.bootstrap
  const named = [
    { part: loaded === undefined ? 'Node.js start-up and module loading' : 'process and Node.js start-up', value: loaded === undefined ? first : first - loaded },
    ...(loaded === undefined ? [] : [{ part: 'loading the installer\'s modules', value: loaded }]),
    { part: 'kernel release, /sys/module read', value: v('kernel') + v('inspect') },
    { part: 'cache entry lock (flock)', value: v('lock') },
    { part: 'cache lookup (sha256, provenance)', value: v('cache-lookup') },
    { part: 'modprobe udp_tunnel', value: v('load-dependency') },
    { part: 'insmod', value: v('load') },
    { part: 'verify', value: v('verify') }
  ]
  const done = p.done ?? r.ms
  const counted = named.reduce((a, b) => a + b.value, 0)
  return [
    ...named,
    { part: 'other (logging, scheduling)', value: Math.max(0, done - counted) },
    { part: r.probe === 'file' ? 'readiness file written and seen' : 'one `check` (a Node.js start)', value: Math.max(0, r.ms - done) }
  ]
}

/** The run whose time is the median of `runs` (the lower middle one for an even count). */
export function medianRun (runs: readonly InstallerRun[]): InstallerRun | undefined {
  const ok = runs.filter(r => Number.isFinite(r.ms)).sort((a, b) => a.ms - b.ms)
  return ok[Math.floor((ok.length - 1) / 2)]
}

/** Which entries the launcher's warm and restart runs started from, as the guest logged them. */
function snapshotEntries (run: NodeRun): string {
  const entries = [...(run.warm.tree ?? []), ...(run.restart.tree ?? [])].map(r => r.entry ?? '?')
  const counts = [...new Set(entries)].map(e => `${entries.filter(x => x === e).length} from ${e === 'snapshot' ? 'the snapshot' : e === 'plain' ? 'main.mjs' : e}`)
  return entries.length === 0 ? '' : ` (${counts.join(', ')})`
}

const VARIANT_LABEL: Record<string, string> = { tree: 'installer', esm: 'installer without its start-up snapshot' }

/** Section 3 of the report, its bars (figures beside floors) and the warm and restart runs split into parts. */
export function nodeSection (run: NodeRun, imageRef: string): { section: Section, bars: Bar[], parts: Array<{ run: string, part: string, order: number, value: number }> } {
  const s = (ms: number): number => ms / 1000
  const raw = (run.rawBefore + run.rawAfter) / 2
  const names = Object.keys(run.warm)
  const rows: Row[] = [
    { figure: 'cold install → ready (download, sha256, extract, kbuild, store, load)', value: s(run.cold.ms), unit: 's', floor: { name: '`make` + `insmod` by hand (mean of before and after)', value: s(raw) }, target: { kind: 'ratio<=', limit: 1.15 } }
  ]
  const bars: Bar[] = [
    { group: 'cold install', series: 'floor: by hand', value: s(raw) },
    { group: 'cold install', series: VARIANT_LABEL.tree as string, value: s(run.cold.ms) }
  ]
  const parts: Array<{ run: string, part: string, order: number, value: number }> = []
  bars.push({ group: 'warm install', series: 'floor: by hand', value: s(median(run.floorWarm)) })
  bars.push({ group: 'restart', series: 'floor: by hand', value: s(median(run.floorRestart)) })
  for (const name of names) {
    const label = VARIANT_LABEL[name] ?? name
    const warm = run.warm[name] ?? []
    const restart = run.restart[name] ?? []
    const suffix = name === 'tree' ? '' : ` [${label}]`
    rows.push(
      { figure: `warm install (cache hit) → ready, median of ${warm.length}${suffix}`, value: s(median(warm.map(r => r.ms))), unit: 's', floor: { name: '`modprobe udp_tunnel` + `insmod` of the cached module by hand', value: s(median(run.floorWarm)) }, target: { kind: 'value<=', limit: 2 } },
      { figure: `restart (module loaded) → ready, median of ${restart.length}${suffix}`, value: s(median(restart.map(r => r.ms))), unit: 's', floor: { name: 'reading /sys/module/gtp5g/version by hand', value: s(median(run.floorRestart)) }, target: { kind: 'value<=', limit: 1 } },
      { figure: `gtp5g unloads during the restarts (the module's exit message in the kernel log)${suffix}`, value: restart.reduce((a, r) => a + (r.unloads ?? Number.NaN), 0), unit: 'unloads', target: { kind: 'value<=', limit: 0 } },
      { figure: `kernel uevents during the restarts (a module load or unload makes at least one)${suffix}`, value: restart.reduce((a, r) => a + (r.uevents ?? Number.NaN), 0), unit: 'events', target: { kind: 'value<=', limit: 0 } }
    )
    bars.push({ group: 'warm install', series: label, value: s(median(warm.map(r => r.ms))) })
    bars.push({ group: 'restart', series: label, value: s(median(restart.map(r => r.ms))) })
    for (const [what, runs] of [['warm', warm], ['restart', restart]] as const) {
      const m = medianRun(runs)
      if (m === undefined) continue
      runParts(m).forEach((p, order) => parts.push({ run: `${what} install, ${label}`.replace('restart install', 'restart'), part: p.part, order, value: s(p.value) }))
    }
  }
  const sec = (ms: number | undefined): string => `${((ms ?? Number.NaN) / 1000).toFixed(2)} s`
  const notes: string[] = [
    '**What changed for this section.** The readiness probe reads a file the running installer keeps in step with /sys/module (`cat /tmp/gtp5g-ready`, every 2 s) instead of starting Node.js for `gtp5g-installer check` every 10 s: a warm install or a restart no longer waits for a second Node.js start, nor for a 10 s period. `check` loads only the configuration and the sysfs reader; the build pipeline (tar, the HTTP client, kbuild, the ELF reader) is imported on first use, and type-only imports are `import type` (with `verbatimModuleSyntax`, `import { type X }` still loaded the module at run time), so a warm install or a restart loads none of it. `modprobe udp_tunnel` is not started when /sys/module says it is live. The image runs the installer bundled by esbuild (`installer/bundle.mjs`): an entry script and a few chunks, split where the installer loads lazily, instead of every module file of the installer, pino and pino\'s dependencies, each resolved and read on its own; and `install` and `unload` start from a V8 start-up snapshot of it (`--snapshot-blob`): the installer\'s code is not read, compiled and run again at each start, and the code a restart runs was compiled when the snapshot was made. The image ships no blob (Node.js refuses one made on a CPU with other features): the installer builds it on the node, in the host cache, in the background after its first start reported ready, and the launcher starts from it from then on, or from main.mjs if node refuses it. Here the cold run builds it (not counted in its time: the run waits for it after ready' + (run.snapshot === undefined ? '' : `, ${sec(run.snapshot.buildMs)} for ${(run.snapshot.bytes / 1048576).toFixed(1)} MiB`) + '), so the warm and restart runs start as a node\'s do after its first start' + snapshotEntries(run) + '. With `--node-compare` the same bundle also runs as the ES module, without the snapshot (variant esm), in turns with it in the same boot. The first log line carries Node.js\'s bootstrap time and the time to the installer\'s first line, which split the start-up in the parts below; from the snapshot, restoring it counts in the bootstrap.'
  ]
  const c = run.cold.phases
  if (Number.isFinite(run.cold.ms) && c.build !== undefined) {
    const others = run.cold.ms - c.build
    notes.push(`**Cold.** The installer's \`make\` (the same command line) took ${sec(c.build)}, by hand ${sec(run.rawBefore)} before and ${sec(run.rawAfter)} after: on a shared machine the compiler's time swings by more than the target's 15 %, so read the ratio over several runs. Everything else in the cold run took ${sec(others)}: start-up ${sec(c.first)}, the lock ${sec(c.lock)}, download and sha256 ${sec(c.download)}, extraction ${sec(c.extract)}, the cache lookup and store ${sec((c['cache-lookup'] ?? 0) + (c['cache-store'] ?? 0))}, loading ${sec((c['load-dependency'] ?? 0) + (c.load ?? 0) + (c.verify ?? 0))}.`)
  }
  const warmTree = medianRun(run.warm.tree ?? [])
  if (warmTree !== undefined) {
    const ps = runParts(warmTree).filter(p => p.value > 0).sort((a, b) => b.value - a.value)
    notes.push(`**Where the warm install's ${(warmTree.ms / 1000).toFixed(2)} s go** (its median run, from the installer's own log): ${ps.map(p => `${p.part} ${(p.value / 1000).toFixed(2)} s`).join(', ')}. By hand the same load takes ${(median(run.floorWarm) / 1000).toFixed(2)} s: the rest is the price of a Node.js program, its checks (the lock, the cache entry's checksum and provenance) and the readiness signal.`)
  }
  const restartTree = medianRun(run.restart.tree ?? [])
  if (restartTree !== undefined) {
    const ps = runParts(restartTree).filter(p => p.value > 0).sort((a, b) => b.value - a.value)
    notes.push(`**Restart** (its median run): ${ps.map(p => `${p.part} ${(p.value / 1000).toFixed(2)} s`).join(', ')}. Nothing is unloaded or loaded (the kernel logged no unload and no module event), so the data plane never stops; the time is the program's start before it can say so.`)
  }
  if (rows.some(r => r.unit === 's' && r.target?.kind === 'value<=' && met(r) === false)) {
    notes.push('**Why the warm and restart targets are missed here:** in this TCG guest the start of the installer\'s process alone, before its first log line, takes longer than the targets allow, and what is left of it after bundling is Node.js\'s own start: the process, the node binary and its bootstrap, which restoring the snapshot makes longer while it removes the loading of the installer\'s modules. On a machine shared with other guests the TCG guest\'s times swing by several times between runs: compare the variants of one boot, not the seconds of two.')
  }
  return {
    section: {
      title: '3. Node',
      intro: [
        `The installer on a node: one qemu boot of Debian's ${run.kernel} on the installer image (${run.cpus} vCPUs, **TCG emulation without KVM**, several times slower than hardware: the ratios travel, the seconds do not), the same guest as the qemu suite (\`test/support/vm.ts\`), driven by \`bench/guest/node.sh\`. The installer is this tree's, bundled as the image bundles it (\`installer/bundle.mjs\`) and run on the image \`${imageRef}\`, with the pod's capabilities (CAP_SYS_MODULE only). Each time runs from the process start to the readiness the pod's probe reads (the installer's readiness file appearing; a kubelet adds at most one probe period, 2 s). The source is the tests' gtp5g stand-in (\`test/installer/fixtures/gtp5g-fixture\`, same Makefile interface), served as \`file://\` with its sha256 pinned.`,
        `**Floors**, by hand in the same boot: for cold, the same tarball unpacked with \`tar\`, \`make -jN KVER= KDIR=\` (the installer's command line) against the same headers, \`modprobe udp_tunnel\` and \`insmod\`, measured before and after the installer's cold run (${(run.rawBefore / 1000).toFixed(1)} s and ${(run.rawAfter / 1000).toFixed(1)} s), after one warm-up build that is not counted, so that gcc, the headers and Node.js are in the page cache for every measured run; gtp5g and udp_tunnel are unloaded before each. For warm, \`modprobe udp_tunnel\` + \`insmod\` of the cached module; for restart, one read of /sys/module/gtp5g/version. Unloads during a restart are counted by the kernel: the module's exit message in the kernel log, and every kernel uevent (a module load or unload makes at least one).`
      ],
      rows,
      plots: [],
      notes
    },
    bars,
    parts
  }
}
