// Reads Prometheus text (the hook server's and Metacontroller's /metrics), for the e2e suites
// and the benchmarks: one sample per line, `name{labels} value [timestamp]`.

export interface Sample { name: string, labels: Record<string, string>, value: number }

/** `a="x",b="y"` → { a: 'x', b: 'y' }. */
function labelsOf (body: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) out[m[1] as string] = m[2] as string
  return out
}

/** Every sample of the text; comments and blank lines skipped. */
export function samples (text: string): Sample[] {
  const out: Sample[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const brace = line.indexOf('{')
    const space = line.lastIndexOf(' ')
    if (space < 0) continue
    const labelled = brace >= 0 && brace < space
    const name = labelled ? line.slice(0, brace) : line.slice(0, line.indexOf(' '))
    const labels = labelled ? labelsOf(line.slice(brace + 1, line.lastIndexOf('}'))) : {}
    // A sample may carry a timestamp after its value: the value is the first field after the labels.
    const rest = (labelled ? line.slice(line.lastIndexOf('}') + 1) : line.slice(name.length)).trim().split(/\s+/)
    out.push({ name, labels, value: Number(rest[0]) })
  }
  return out
}

/** Whether a sample's labels include every one of `wanted`. */
export const hasLabels = (labels: Record<string, string>, wanted: Record<string, string>): boolean =>
  Object.entries(wanted).every(([k, v]) => labels[k] === v)

/** The sum of a Prometheus counter's samples whose labels include `labels`. */
export function counter (metrics: string, name: string, labels: Record<string, string>): number {
  return samples(metrics).filter(s => s.name === name && hasLabels(s.labels, labels)).reduce((sum, s) => sum + s.value, 0)
}
