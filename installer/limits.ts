// Bounds on everything the network, the tarball and the build control. Each one fails with its
// own reason code and a message naming the limit, so a node never stays `Installing` forever and
// a hostile or broken source cannot fill the node's disk or the pod's memory.
export interface Limits {
  /** Bytes of the source tarball as downloaded (SourceTooLarge). gtp5g's is ~150 KiB. */
  downloadBytes: number
  /** Bytes of the unpacked tar stream, headers included (SourceTooLarge). gtp5g unpacks to ~1.5 MiB. */
  extractBytes: number
  /** Entries (files, directories, links) in the tarball (SourceTooLarge). gtp5g has ~150. */
  extractEntries: number
  /** Wall time of `make`; the whole process group is killed after it (BuildTimeout). */
  buildTimeoutMs: number
  /** Bytes of compiler output kept in build.log; more kills the build (BuildLogTooLarge). */
  buildLogBytes: number
  /**
   * How long to wait for another installer on the node that holds the cache entry's lock
   * (CacheLocked). Longer than any holder can keep it: download (10 min) + build + load.
   */
  lockWaitMs: number
}

const MiB = 1024 * 1024
const MINUTE = 60_000

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  downloadBytes: 64 * MiB,
  extractBytes: 256 * MiB,
  extractEntries: 10_000,
  buildTimeoutMs: 30 * MINUTE,
  buildLogBytes: 8 * MiB,
  lockWaitMs: 45 * MINUTE
})

/** "64 MiB", "1.5 KiB", "12 bytes": limits and sizes in messages an operator reads. */
export function formatBytes (n: number): string {
  if (n < 1024) return `${n} bytes`
  const units = ['KiB', 'MiB', 'GiB'] as const
  let value = n / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++ }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit] as string}`
}

export function formatDuration (ms: number): string {
  if (ms < 1000) return `${ms} ms`
  if (ms < MINUTE) return `${Math.round(ms / 100) / 10} s`
  return `${Math.round(ms / 6000) / 10} min`
}
