// The benchmark report as data and as markdown: every figure beside the floor it was measured
// against in the same run, their ratio, and whether its target is met. Pure: no clock, no I/O.

/**
 * A target on one figure: on its ratio to the floor (`ratio<=`, `ratio>=`), or on the value
 * itself (`value<`, `value<=`) where the target is absolute.
 */
export interface Target {
  kind: 'ratio<=' | 'ratio>=' | 'value<' | 'value<='
  limit: number
}

export interface Row {
  /** What was measured, e.g. "/sync p99". */
  figure: string
  /** Cluster size (nodes, each with its pod), where the figure depends on it. */
  nodes?: number
  value: number
  unit: string
  /** The floor measured side by side in the same run. */
  floor?: { name: string, value: number }
  target?: Target
}

export interface Machine {
  cpu: string
  cores: number
  memoryBytes: number
  node: string
  os: string
  /** 1-minute load average when the run started: other work on a shared machine. */
  loadAverage: number
}

export interface Plot {
  /** File name next to the report, e.g. "benchmarks/hook-latency.svg". */
  file: string
  caption: string
}

export interface Section {
  title: string
  /** Markdown paragraphs before the table. */
  intro: string[]
  rows: Row[]
  plots: Plot[]
  /** Markdown paragraphs after the table: what was changed, where a target is missed and why. */
  notes: string[]
}

export interface Report {
  command: string
  mode: 'quick' | 'full'
  machine: Machine
  /** ISO date of the run. */
  date: string
  /** Markdown paragraphs at the top. */
  summary: string[]
  sections: Section[]
}

/** value / floor; NaN when there is no usable floor. */
export function ratio (value: number, floor: number | undefined): number {
  if (floor === undefined || !Number.isFinite(floor) || floor <= 0 || !Number.isFinite(value)) return Number.NaN
  return value / floor
}

/** Whether a row meets its target; undefined when it has none, false when it cannot be judged. */
export function met (row: Row): boolean | undefined {
  const t = row.target
  if (t === undefined) return undefined
  switch (t.kind) {
    case 'ratio<=': { const r = ratio(row.value, row.floor?.value); return Number.isFinite(r) && r <= t.limit }
    case 'ratio>=': { const r = ratio(row.value, row.floor?.value); return Number.isFinite(r) && r >= t.limit }
    case 'value<': return Number.isFinite(row.value) && row.value < t.limit
    case 'value<=': return Number.isFinite(row.value) && row.value <= t.limit
  }
}

/** A figure for a table: three significant digits, thousands grouped, "n/a" for nothing. */
export function formatNumber (n: number): string {
  if (!Number.isFinite(n)) return 'n/a'
  // A count of nothing (unloads, kernel events) reads as 0, not 0.000.
  if (n === 0) return '0'
  const abs = Math.abs(n)
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

export function describeTarget (row: Row): string {
  const t = row.target
  if (t === undefined) return ''
  switch (t.kind) {
    case 'ratio<=': return `≤ ${t.limit}× floor`
    case 'ratio>=': return `≥ ${t.limit}× floor`
    case 'value<': return `< ${t.limit.toLocaleString('en-US')} ${row.unit}`
    case 'value<=': return `≤ ${t.limit.toLocaleString('en-US')} ${row.unit}`
  }
}

const cell = (s: string): string => s.replaceAll('|', '\\|')

/** A ratio to two decimals, or three where two would round onto its target's limit and hide the verdict. */
export function formatRatio (r: number, target?: Target): string {
  if (!Number.isFinite(r)) return ''
  const two = r.toFixed(2)
  return `${target?.kind.startsWith('ratio') === true && Number(two) === target.limit && r !== target.limit ? r.toFixed(3) : two}×`
}

export function renderTable (rows: readonly Row[]): string {
  const lines = [
    '| Figure | Nodes | Value | Floor | Floor value | Ratio | Target | Met |',
    '|---|---:|---:|---|---:|---:|---|---|'
  ]
  for (const row of rows) {
    const r = ratio(row.value, row.floor?.value)
    const verdict = met(row)
    lines.push(`| ${[
      cell(row.figure),
      row.nodes === undefined ? '' : row.nodes.toLocaleString('en-US'),
      `${formatNumber(row.value)} ${row.unit}`,
      cell(row.floor?.name ?? ''),
      row.floor === undefined ? '' : `${formatNumber(row.floor.value)} ${row.unit}`,
      formatRatio(r, row.target),
      describeTarget(row),
      verdict === undefined ? '' : verdict ? 'met' : '**missed**'
    ].join(' | ')} |`)
  }
  return lines.join('\n')
}

/** Every row with a target, for the summary at the top. */
export function targets (report: Report): Array<{ section: string, row: Row, met: boolean }> {
  return report.sections.flatMap(s => s.rows.filter(r => r.target !== undefined).map(row => ({ section: s.title, row, met: met(row) === true })))
}

export function renderReport (report: Report): string {
  const m = report.machine
  const out: string[] = [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench`; edit bench/, not this file. -->',
    '',
    ...report.summary.flatMap(p => [p, '']),
    `Run on ${report.date} with \`${report.command}\` (${report.mode} mode).`,
    '',
    '| Machine | |',
    '|---|---|',
    `| CPU | ${cell(m.cpu)} |`,
    `| Cores | ${m.cores} |`,
    `| RAM | ${(m.memoryBytes / 1024 ** 3).toFixed(1)} GiB |`,
    `| Node.js | ${m.node} |`,
    `| OS | ${cell(m.os)} |`,
    `| Load average at start (1 min) | ${m.loadAverage.toFixed(2)} |`,
    '',
    '## Targets',
    '',
    '| Section | Figure | Nodes | Ratio or value | Target | Met |',
    '|---|---|---:|---:|---|---|'
  ]
  for (const t of targets(report)) {
    const r = ratio(t.row.value, t.row.floor?.value)
    const shown = t.row.target?.kind.startsWith('ratio') === true ? formatRatio(r, t.row.target) || 'n/a' : `${formatNumber(t.row.value)} ${t.row.unit}`
    out.push(`| ${cell(t.section)} | ${cell(t.row.figure)} | ${t.row.nodes?.toLocaleString('en-US') ?? ''} | ${shown} | ${describeTarget(t.row)} | ${t.met ? 'met' : '**missed**'} |`)
  }
  out.push('')
  for (const s of report.sections) {
    out.push(`## ${s.title}`, '', ...s.intro.flatMap(p => [p, '']))
    if (s.rows.length > 0) out.push(renderTable(s.rows), '')
    for (const p of s.plots) out.push(`![${p.caption}](${p.file})`, '', `*${p.caption}*`, '')
    out.push(...s.notes.flatMap(p => [p, '']))
  }
  return `${out.join('\n').trimEnd()}\n`
}
