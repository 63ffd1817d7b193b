// Reads the hook server's Prometheus text (/metrics), for the e2e suites and the benchmarks.

/** The sum of a Prometheus counter's samples whose labels include `labels`. */
export function counter (metrics: string, name: string, labels: Record<string, string>): number {
  let sum = 0
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue
    const body = line.slice(name.length + 1, line.lastIndexOf('}'))
    if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return sum
}
