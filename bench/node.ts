// Section 3 of `npm run bench`: the installer on a node, in one qemu (TCG) boot of Debian's kernel
// on the installer image (test/support/vm.ts, as the qemu suite), driven by bench/guest/node.sh:
//   raw      gtp5g's tarball unpacked, `make` against the node's headers and `insmod` by hand,
//            before, between and after the installer's cold runs (after one warm-up build and
//            one Node.js start, not counted)
//   cold     the installer with an empty cache: download (file://), sha256, extract, kbuild, load;
//            several times, the node made fresh again before each (nothing loaded, an empty host
//            cache: no module entry, no start-up snapshot), each against the raw runs either side
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
  /** Files in the host cache when a cold run started: 0 on a fresh node. */
  hostCache?: number
}

/** One build and load by hand: in all (ms), and its `make` alone. */
export interface RawRun { ms: number, make: number }

export interface NodeRun {
  kernel: string
  cpus: number
  /** By hand, in boot order: raw[i] just before cold[i], raw[i + 1] just after it (the warm-up left out). */
  raw: RawRun[]
  /** The cold runs in boot order, each from a fresh node. */
  cold: InstallerRun[]
  /** The start-up snapshot the last cold run built after ready (installer/snapshotcache.ts), which the warm and restart runs start from: its build time and size. */
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
    ...(r?.uevents === undefined ? {} : { uevents: Number(r.uevents), unloads: Number(r.unloads) }),
    ...(num(r?.hostcache) === undefined ? {} : { hostCache: Number(r?.hostcache) })
  }
}

/** This tree's installer, bundled as the image bundles it (no node_modules needed beside it). */
async function bundleTree (): Promise<string> {
  const out = await mkdtemp(path.join(tmpdir(), 'gtp5g-bench-bundle-'))
  execFileSync(process.execPath, [path.join(ROOT, 'installer/bundle.mjs'), '--dir', TREE_DIR, path.join(out, 'bundle')], { stdio: ['ignore', 'ignore', 'inherit'] })
  return out
}

/** The figures from the guest's records (bench/guest/node.sh's "@@GTP5G" lines). */
export function fromRecords (records: Map<string, GuestRecord>, o: { rounds: number, coldRuns: number, variants: string[], kernel: string, guestMs: number, console: string }): NodeRun {
  const rec = (step: string): GuestRecord | undefined => records.get(step)
  const rounds = o.rounds
  const series = (prefix: string, n = rounds): InstallerRun[] => Array.from({ length: n }, (_, i) => installerRun(rec(`${prefix}-${i + 1}`)))
  const boot = rec('boot')
  const snapshot = rec(`snapshot-${o.coldRuns}`)
  return {
    kernel: boot?.kernel ?? o.kernel,
    cpus: Number(boot?.cpus ?? Number.NaN),
    raw: Array.from({ length: o.coldRuns + 1 }, (_, i) => {
      const r = rec(`raw-${i + 1}`)
      // A failed build is no floor: its time says nothing about a build's.
      return r === undefined || r.exit !== '0' ? { ms: Number.NaN, make: Number.NaN } : { ms: Number(r.ms), make: Number(r.make) }
    }),
    cold: series('cold', o.coldRuns),
    ...(num(snapshot?.build) === undefined ? {} : { snapshot: { buildMs: Number(snapshot?.build), bytes: Number(snapshot?.bytes) } }),
    floorWarm: Array.from({ length: rounds }, (_, i) => Number(rec(`floor-warm-${i + 1}`)?.ms ?? Number.NaN)),
    floorRestart: Array.from({ length: rounds }, (_, i) => Number(rec(`floor-restart-${i + 1}`)?.ms ?? Number.NaN)),
    warm: Object.fromEntries(o.variants.map(n => [n, series(`warm-${n}`)])),
    restart: Object.fromEntries(o.variants.map(n => [n, series(`restart-${n}`)])),
    guestMs: o.guestMs,
    ...(records.has('end') ? {} : { failure: o.console.slice(-4000) })
  }
}

export async function nodeRun (env: RealEnv, kernel: VmKernel, opts: { rounds?: number, coldRuns?: number, compareImage?: boolean, log?: (line: string) => void } = {}): Promise<NodeRun> {
  const rounds = opts.rounds ?? 3
  const coldRuns = opts.coldRuns ?? rounds
  const bundled = await bundleTree()
  const variants = [`tree=${TREE_DIR}/gtp5g-installer`, ...(opts.compareImage === true ? [`esm=${TREE_DIR}/main.mjs`] : [])]
  try {
    const run = await bootScenario(env, kernel, {
      init: path.join(ROOT, 'bench/guest/node.sh'),
      // Each build takes about a minute in TCG, up to four on a loaded machine.
      timeoutMs: 600_000 + (2 * coldRuns + 2) * 240_000,
      stage: async root => {
        // New files only: the staged image is made of hard links to the shared one.
        await mkdir(path.join(root, 'opt'), { recursive: true })
        await cp(path.join(bundled, 'bundle'), path.join(root, TREE_DIR.slice(1)), { recursive: true })
        await writeFile(path.join(root, 'gtp5g-test/bench.env'), `VARIANTS='${variants.join(' ')}'\nROUNDS=${rounds}\nCOLD=${coldRuns}\n`)
      },
      ...(opts.log === undefined ? {} : { log: opts.log })
    })
    return fromRecords(run.records, { rounds, coldRuns, variants: variants.map(v => v.split('=')[0] as string), kernel: kernel.release, guestMs: run.bootMs, console: run.console })
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

/** Which entries the launcher started `runs` from, as the guest logged them. */
function entryCounts (runs: readonly InstallerRun[]): string {
  const entries = runs.map(r => r.entry ?? '?')
  const counts = [...new Set(entries)].map(e => `${entries.filter(x => x === e).length} from ${e === 'snapshot' ? 'the snapshot' : e === 'plain' ? 'main.mjs' : e}`)
  return entries.length === 0 ? '' : ` (${counts.join(', ')})`
}

/** The cold runs against the builds by hand around them, in the same boot. */
export interface ColdComparison {
  /** Each cold run's time to ready over the mean of the two hand-run builds and loads just before and after it (NaN where one is missing). */
  pairs: number[]
  /** The median of `pairs`: the figure held to the target. */
  paired: number
  /** Medians (ms): the cold runs, the hand-run builds and loads, the installer's `make` step, `make` by hand. */
  cold: number
  raw: number
  build: number
  rawMake: number
  /** Each cold run's `make` step over the mean of `make` by hand just before and after it. */
  makePairs: number[]
}

export function coldComparison (run: NodeRun): ColdComparison {
  // raw[i] ran just before cold[i] and raw[i + 1] just after it.
  const around = (i: number, f: (r: RawRun) => number): number => {
    const a = run.raw[i]
    const b = run.raw[i + 1]
    return a === undefined || b === undefined ? Number.NaN : (f(a) + f(b)) / 2
  }
  const pairs = run.cold.map((c, i) => c.ms / around(i, r => r.ms))
  return {
    pairs,
    paired: median(pairs),
    cold: median(run.cold.map(c => c.ms)),
    raw: median(run.raw.map(r => r.ms)),
    build: median(run.cold.map(c => c.phases.build ?? Number.NaN)),
    rawMake: median(run.raw.map(r => r.make)),
    makePairs: run.cold.map((c, i) => (c.phases.build ?? Number.NaN) / around(i, r => r.make))
  }
}

const VARIANT_LABEL: Record<string, string> = { tree: 'installer', esm: 'installer without its start-up snapshot' }

/** Section 3 of the report, its bars (figures beside floors) and the warm and restart runs split into parts. */
export function nodeSection (run: NodeRun, imageRef: string): { section: Section, bars: Bar[], parts: Array<{ run: string, part: string, order: number, value: number }> } {
  const s = (ms: number): number => ms / 1000
  const cold = coldComparison(run)
  const n = run.cold.length
  const names = Object.keys(run.warm)
  // The target is judged on the paired ratio: each cold run against the hand-run builds just
  // before and after it, which ran under the same drift of the guest's compile times; the medians
  // beside it pool runs from the whole boot.
  const rows: Row[] = [
    { figure: `cold install → ready (download, sha256, extract, kbuild, store, load) over \`make\` + \`insmod\` by hand: each of ${n} cold runs over the mean of the hand-run builds just before and after it, median`, value: cold.paired, unit: '×', target: { kind: 'value<=', limit: 1.15 } },
    { figure: `cold install → ready, median of ${n}`, value: s(cold.cold), unit: 's', floor: { name: `\`make\` + \`insmod\` by hand, median of ${run.raw.length} (before, between and after the cold runs)`, value: s(cold.raw) } },
    { figure: `the installer's \`make\` step in the cold runs, median of ${n}`, value: s(cold.build), unit: 's', floor: { name: `\`make\` by hand (the same command line), median of ${run.raw.length}`, value: s(cold.rawMake) } }
  ]
  const bars: Bar[] = [
    { group: 'cold install', series: 'floor: by hand', value: s(cold.raw) },
    { group: 'cold install', series: VARIANT_LABEL.tree as string, value: s(cold.cold) }
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
    '**What changed for this section.** The readiness probe reads a file the running installer keeps in step with /sys/module (`cat /tmp/gtp5g-ready`, every 2 s) instead of starting Node.js for `gtp5g-installer check` every 10 s: a warm install or a restart no longer waits for a second Node.js start, nor for a 10 s period. `check` loads only the configuration and the sysfs reader; the build pipeline (tar, the HTTP client, kbuild, the ELF reader) is imported on first use, and type-only imports are `import type` (with `verbatimModuleSyntax`, `import { type X }` still loaded the module at run time), so a warm install or a restart loads none of it. `modprobe udp_tunnel` is not started when /sys/module says it is live. The image runs the installer bundled by esbuild (`installer/bundle.mjs`): an entry script and a few chunks, split where the installer loads lazily, instead of every module file of the installer, pino and pino\'s dependencies, each resolved and read on its own; and `install` and `unload` start from a V8 start-up snapshot of it (`--snapshot-blob`): the installer\'s code is not read, compiled and run again at each start, and the code a restart runs was compiled when the snapshot was made. The image ships no blob (Node.js refuses one made on a CPU with other features): the installer builds it on the node, in the host cache, in the background after its first start reported ready, and the launcher starts from it from then on, or from main.mjs if node refuses it. Here each cold run builds it (not counted in its time: the guest waits for it after ready' + (run.snapshot === undefined ? '' : `; the last one's, kept, took ${sec(run.snapshot.buildMs)} for ${(run.snapshot.bytes / 1048576).toFixed(1)} MiB`) + '), so the warm and restart runs start as a node\'s do after its first start' + entryCounts([...(run.warm.tree ?? []), ...(run.restart.tree ?? [])]) + '. With `--node-compare` the same bundle also runs as the ES module, without the snapshot (variant esm), in turns with it in the same boot. The first log line carries Node.js\'s bootstrap time and the time to the installer\'s first line, which split the start-up in the parts below; from the snapshot, restoring it counts in the bootstrap.'
  ]
  if (n > 0) {
    const x = (r: number): string => Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a'
    const order = run.raw.flatMap((r, i) => {
      const c = run.cold[i]
      return [`by hand ${sec(r.ms)} (\`make\` ${sec(r.make)})`, ...(c === undefined ? [] : [`**cold ${sec(c.ms)}** (\`make\` ${sec(c.phases.build)}; ${x(cold.pairs[i] ?? Number.NaN)})`])]
    })
    const files = run.cold.map(c => c.hostCache ?? Number.NaN)
    const fresh = files.every(f => f === 0) ? 'an empty host cache' : `host caches of ${files.join(', ')} files`
    notes.push(`**Cold**, in boot order: ${order.join(', ')}; each cold run started on ${fresh}, nothing loaded${entryCounts(run.cold)}. Its ratio to the mean of its two neighbours, median ${x(cold.paired)}; the medians alone: ${sec(cold.cold)} cold against ${sec(cold.raw)} by hand (${x(cold.cold / cold.raw)}). The installer's \`make\` step, the same command line in the same tmpfs against the same headers, took a median ${sec(cold.build)} against ${sec(cold.rawMake)} by hand (${x(cold.build / cold.rawMake)}; each against its neighbours: ${cold.makePairs.map(x).join(', ')}).`)
    const m = medianRun(run.cold)
    const c = m?.phases
    if (m !== undefined && c?.build !== undefined) {
      notes.push(`**The rest of the cold run**, beside \`make\`: in its median run (${sec(m.ms)}), ${sec(m.ms - c.build)}: start-up ${sec(c.first)}, the lock ${sec(c.lock)}, download and sha256 ${sec(c.download)}, extraction ${sec(c.extract)}, the cache lookup and store ${sec((c['cache-lookup'] ?? 0) + (c['cache-store'] ?? 0))}, loading ${sec((c['load-dependency'] ?? 0) + (c.load ?? 0) + (c.verify ?? 0))}.`)
    }
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
        `**Floors**, by hand in the same boot: for cold, the same tarball unpacked with \`tar\`, \`make -jN KVER= KDIR=\` (the installer's command line) against the same headers, \`modprobe udp_tunnel\` and \`insmod\`, run ${run.raw.length} times, in turns with the installer's ${run.cold.length} cold runs (by hand, cold, by hand, …, by hand; \`--quick\` runs 3 cold runs, \`--full\` 5), after one warm-up build and one Node.js start (\`gtp5g-installer check\`) that are not counted, so that gcc, the headers and Node.js are in the page cache for every measured run; gtp5g and udp_tunnel are unloaded before each. Before each cold run the node is made fresh again: nothing loaded, the host cache emptied (a fresh node has neither the module's entry nor a start-up snapshot, so every cold run starts main.mjs and builds the snapshot after ready, which the guest waits for, uncounted, before the next build), the kbuild links the installer made removed, the disk synced; the last cold run's module and snapshot stay for the warm and restart runs. In this guest the compiler's time drifts during a boot by more than the target's 15 % (qemu's translation cache, the page cache, the host's load), so a single cold run against one build before and one after it is not a fair measure. The target is held to a paired ratio instead: each cold run over the mean of the two hand-run builds just before and after it, which ran under the same conditions (a drift slow beside one build cancels in the pair), and the median of those ratios, which one run caught by a burst of host load does not move. The medians of the cold and the hand-run times are shown beside it.`,
        'For warm, `modprobe udp_tunnel` + `insmod` of the cached module; for restart, one read of /sys/module/gtp5g/version. Unloads during a restart are counted by the kernel: the module\'s exit message in the kernel log, and every kernel uevent (a module load or unload makes at least one).'
      ],
      rows,
      plots: [],
      notes
    },
    bars,
    parts
  }
}
