// The rules a cache entry must pass before its module is loaded: the sha256 sidecar matches the
// file, the provenance describes that file, and it answers what the pod asks for now. Pure: the
// files are read (and a rejected entry evicted) by cache.ts; this file only judges their text.
import { MODULE_FILE } from '../../contract/index.js'

/** What the pod asks for; an entry is used only when its provenance answers all of it. */
export interface Wanted {
  version: string
  kernel: string
  installer: string
  /** Built with BTF (spec.btf); an entry built the other way is rebuilt. */
  btf: boolean
  sourceUrl: string
  /** When pinned, the entry's tarball must have had exactly this sha256. */
  sourceSha256: string | undefined
}

export interface Provenance {
  format: 1
  version: string
  kernel: string
  installer: string
  /** Absent in entries written before spec.btf existed: built without asking for BTF. */
  btf?: boolean
  source: { url: string, sha256: string, resolvedUrl: string, bytes: number }
  module: { sha256: string }
}

export type Lookup =
  | { hit: true, sha256: string, provenance: Provenance }
  | { hit: false, why: 'missing' | 'corrupt' | 'foreign' | 'stale', detail: string }

/** What an entry's directory holds, as cache.ts read it; undefined where a file is absent. */
export interface EntryFiles {
  dir: string
  /** The text of gtp5g.ko.sha256. */
  sidecar: string | undefined
  /** The sha256 of gtp5g.ko as it is now. */
  koSha256: string | undefined
  /** The text of provenance.json. */
  provenance: string | undefined
}

/** `sha256sum` format, so an operator can verify an entry by hand with `sha256sum -c`. */
export function sidecarLine (sha256: string): string {
  return `${sha256}  ${MODULE_FILE}\n`
}

export function parseSidecar (text: string): string | undefined {
  const m = /^([0-9a-f]{64}) [ *]?\S+\s*$/.exec(text)
  return m?.[1]
}

const SHA = /^[0-9a-f]{64}$/

export function parseProvenance (text: string | undefined): Provenance | undefined {
  if (text === undefined) return undefined
  let p: unknown
  try {
    p = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof p !== 'object' || p === null) return undefined
  const r = p as Record<string, unknown>
  const source = r.source as Record<string, unknown> | undefined
  const mod = r.module as Record<string, unknown> | undefined
  const str = (v: unknown): v is string => typeof v === 'string'
  if (r.format !== 1 || !str(r.version) || !str(r.kernel) || !str(r.installer)) return undefined
  if (typeof source !== 'object' || source === null || !str(source.url) || !str(source.sha256) || !SHA.test(source.sha256)) return undefined
  if (typeof mod !== 'object' || mod === null || !str(mod.sha256) || !SHA.test(mod.sha256)) return undefined
  return {
    format: 1,
    version: r.version,
    kernel: r.kernel,
    installer: r.installer,
    btf: r.btf === true,
    source: { url: source.url, sha256: source.sha256, resolvedUrl: str(source.resolvedUrl) ? source.resolvedUrl : source.url, bytes: Number(source.bytes) || 0 },
    module: { sha256: mod.sha256 }
  }
}

/** Why `p` does not answer `want`, or undefined when it does. */
export function provenanceMismatch (p: Provenance, want: Wanted): string | undefined {
  const diffs: string[] = []
  if (p.version !== want.version) diffs.push(`version ${p.version}, wanted ${want.version}`)
  if (p.kernel !== want.kernel) diffs.push(`kernel ${p.kernel}, wanted ${want.kernel}`)
  if (p.installer !== want.installer) diffs.push(`installer ${p.installer}, this is ${want.installer}`)
  if ((p.btf ?? false) !== want.btf) diffs.push(want.btf ? 'no BTF, wanted BTF' : 'BTF, wanted none')
  if (p.source.url !== want.sourceUrl) diffs.push(`source ${p.source.url}, wanted ${want.sourceUrl}`)
  if (want.sourceSha256 !== undefined && p.source.sha256 !== want.sourceSha256) {
    diffs.push(`tarball sha256 ${p.source.sha256}, pinned ${want.sourceSha256}`)
  }
  return diffs.length === 0 ? undefined : `built with ${diffs.join('; ')}`
}

/**
 * The verdict on an entry. The sidecar is the commit marker: a module without it is an
 * interrupted write (corrupt), its checksum must match the file, the provenance must describe
 * that very file (else foreign) and answer `want` (else stale). Anything but a hit or a clean
 * miss is evicted by the caller.
 */
export function judgeEntry (files: EntryFiles, want: Wanted): Lookup {
  if (files.sidecar === undefined) {
    if (files.koSha256 === undefined && files.provenance === undefined) return { hit: false, why: 'missing', detail: `no cache entry at ${files.dir}` }
    return { hit: false, why: 'corrupt', detail: `${MODULE_FILE} without its checksum sidecar (interrupted write)` }
  }
  const expected = parseSidecar(files.sidecar)
  const actual = files.koSha256
  if (expected === undefined || actual !== expected) {
    const detail = expected === undefined
      ? 'unreadable checksum sidecar'
      : actual === undefined ? `${MODULE_FILE} missing` : `checksum mismatch: sidecar ${expected}, file ${actual}`
    return { hit: false, why: 'corrupt', detail }
  }
  const provenance = parseProvenance(files.provenance)
  if (provenance === undefined || provenance.module.sha256 !== actual) {
    const detail = provenance === undefined
      ? `${MODULE_FILE} with no readable provenance (not built by this installer, or by one before provenance was recorded)`
      : `provenance describes another module (sha256 ${provenance.module.sha256}, file ${actual})`
    return { hit: false, why: 'foreign', detail }
  }
  const mismatch = provenanceMismatch(provenance, want)
  if (mismatch !== undefined) return { hit: false, why: 'stale', detail: mismatch }
  return { hit: true, sha256: actual, provenance }
}
