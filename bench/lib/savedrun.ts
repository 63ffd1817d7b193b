// A section 2 run kept in a file. One cluster size takes up to an hour on a small machine (5,000
// kwok nodes: their leases, the controller-manager's client rate limits), so the largest sizes are
// measured on their own (`npm run bench:cluster -- 5000 --save=FILE`) and the report takes them in
// (`npm run bench -- --cluster-runs=FILE`), stating where each came from: its command, date,
// commit and the machine's load, beside the sizes measured in the report's own run.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import type { ClusterRun } from '../clustersuite.js'
import { machine } from './machine.js'

const KIND = 'gtp5g-operator/bench-cluster-run'
const VERSION = 1

/** Where a saved run came from, as the report states it. */
export interface RunSource {
  command: string
  /** UTC day, YYYY-MM-DD. */
  date: string
  /** The commit the run measured, `+dirty` if the tree had changes; `unknown` outside git. */
  commit: string
  cores: number
  /** 1-minute load average when the run started. */
  loadAverage: number
  /** The chart's Node decorator was installed (the default; the report measures the default chart). */
  nodeLabels: boolean
}

export interface SavedRun {
  kind: typeof KIND
  version: typeof VERSION
  source: RunSource
  run: ClusterRun
}

function commitOf (): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== ''
    return dirty ? `${sha}+dirty` : sha
  } catch {
    return 'unknown'
  }
}

/** The source of a run starting now; call it before the run, so the load average is the start's. */
export function runSource (command: string, nodeLabels: boolean): RunSource {
  const m = machine()
  return { command, date: new Date().toISOString().slice(0, 10), commit: commitOf(), cores: m.cores, loadAverage: m.loadAverage, nodeLabels }
}

export function saveRun (file: string, source: RunSource, run: ClusterRun): void {
  const saved: SavedRun = { kind: KIND, version: VERSION, source, run }
  writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`)
}

/** Reads a file saveRun wrote; anything else is refused with what is wrong, not half read. */
export function loadRun (file: string): SavedRun {
  let value: unknown
  try {
    value = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new Error(`--cluster-runs: cannot read ${file}: ${(err as Error).message}`)
  }
  const saved = value as Partial<SavedRun> | null
  if (saved?.kind !== KIND || saved.version !== VERSION) {
    throw new Error(`--cluster-runs: ${file} is not a run saved by \`npm run bench:cluster -- <nodes> --save=FILE\` (kind ${KIND}, version ${VERSION})`)
  }
  const run = saved.run
  if (run === undefined || !Number.isInteger(run.nodes) || run.nodes < 1 || typeof run.operatorMs !== 'number' || typeof run.baselineMs !== 'number') {
    throw new Error(`--cluster-runs: ${file} holds no complete run (nodes, operatorMs, baselineMs)`)
  }
  if (saved.source === undefined || typeof saved.source.command !== 'string' || typeof saved.source.date !== 'string') {
    throw new Error(`--cluster-runs: ${file} does not say where its run came from (source.command, source.date)`)
  }
  if (saved.source.nodeLabels !== true) {
    throw new Error(`--cluster-runs: ${file} was run without the Node decorator (--no-node-labels); the report measures the chart's defaults`)
  }
  return saved as SavedRun
}
