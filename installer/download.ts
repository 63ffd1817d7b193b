// Fetches the source tarball with Node's own clients (http, https, file) into a local file,
// hashing and counting while it streams. Redirects are followed (GitHub archive URLs always
// redirect). `file://` is a path in the installer's container (its image and the host paths the
// pod mounts), never the node's own filesystem. Size and time are bounded. Under the hook
// server's source policy every URL, the first and each redirect, must be inside it.
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import { type Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { ambiguousSourcePath, ENV, sourceOutsidePolicy } from '../contract/index.js'
import { InstallerError } from './errors.js'
import { formatBytes } from './limits.js'

export interface DownloadOptions {
  sha256?: string | undefined
  /** No bytes for this long → give up. */
  idleTimeoutMs?: number
  /** The whole download, redirects included. */
  totalTimeoutMs?: number
  maxRedirects?: number
  /** More bytes than this is SourceTooLarge (checked against Content-Length first, then counted). */
  maxBytes?: number
  /** The hook server's ALLOWED_SOURCE_PREFIXES: each hop must be under one (SourceNotAllowed otherwise). Empty: any. */
  allowedPrefixes?: readonly string[]
  /** Shutdown: the download stops and the signal's reason is thrown. */
  signal?: AbortSignal | undefined
}

export interface Downloaded { bytes: number, sha256: string, url: string }

const REDIRECTS = new Set([301, 302, 303, 307, 308])

function unavailable (url: string, why: string, cause?: unknown): InstallerError {
  return new InstallerError('SourceUnavailable', `cannot fetch ${url}: ${why}`, { cause })
}

function tooLarge (url: string, max: number, seen: string): InstallerError {
  return new InstallerError('SourceTooLarge',
    `${url}: ${seen}, more than the ${formatBytes(max)} a source tarball may have (gtp5g's is about 150 KiB); is the URL right?`)
}

function request (url: URL, signal: AbortSignal, idleTimeoutMs: number): Promise<http.IncomingMessage> {
  const client = url.protocol === 'https:' ? https : http
  return new Promise((resolve, reject) => {
    const req = client.get(url, { signal, headers: { 'user-agent': 'gtp5g-installer' } }, resolve)
    req.setTimeout(idleTimeoutMs, () => req.destroy(new Error(`no response for ${idleTimeoutMs} ms`)))
    req.on('error', reject)
  })
}

/** Opens the body of `url`, following redirects; the caller consumes the stream. */
type OpenOptions = Required<Omit<DownloadOptions, 'sha256' | 'signal'>>

/**
 * A hop outside the policy is refused before any byte is requested from it. `written` is the
 * URL as the server wrote it (a Location may be relative), `url` as it will be fetched.
 */
function checkPolicy (url: string, written: string, from: string | undefined, prefixes: readonly string[]): void {
  if (prefixes.length === 0) return
  const ambiguous = ambiguousSourcePath(written)
  const outside = ambiguous === undefined
    ? sourceOutsidePolicy(url, prefixes, ENV.allowedSourcePrefixes)
    : `"${written}", which has ${ambiguous} in its path (refused while ${ENV.allowedSourcePrefixes} is set)`
  if (outside === undefined) return
  throw new InstallerError('SourceNotAllowed', from === undefined
    ? `refusing to fetch ${outside}`
    : `${from} redirects to ${outside}; refusing to follow it (allow the redirect's target too if it is trusted)`)
}

async function open (start: string, signal: AbortSignal, opts: OpenOptions): Promise<{ body: Readable, url: string }> {
  checkPolicy(start, start, undefined, opts.allowedPrefixes)
  let url: URL
  try {
    url = new URL(start)
  } catch (err) {
    throw unavailable(start, 'not a URL', err)
  }
  for (let hop = 0; ; hop++) {
    if (url.protocol === 'file:') return { body: createReadStream(fileURLToPath(url)), url: url.href }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw unavailable(url.href, `unsupported scheme ${url.protocol}`)
    let res: http.IncomingMessage
    try {
      res = await request(url, signal, opts.idleTimeoutMs)
    } catch (err) {
      throw unavailable(url.href, (err as Error).message, err)
    }
    const status = res.statusCode ?? 0
    if (REDIRECTS.has(status) && res.headers.location !== undefined) {
      res.resume()
      if (hop >= opts.maxRedirects) throw unavailable(start, `more than ${opts.maxRedirects} redirects`)
      let next: URL
      try {
        next = new URL(res.headers.location, url)
      } catch (err) {
        throw unavailable(url.href, `redirect to an invalid URL ${JSON.stringify(res.headers.location)}`, err)
      }
      checkPolicy(next.href, res.headers.location, url.href, opts.allowedPrefixes)
      // A redirect must not turn an https download into plain http or a local file read.
      if (url.protocol === 'https:' && next.protocol !== 'https:') throw unavailable(url.href, `refusing redirect to ${next.href}`)
      if (next.protocol === 'file:') throw unavailable(url.href, 'refusing redirect to a file URL')
      url = next
      continue
    }
    if (status < 200 || status > 299) {
      res.resume()
      throw unavailable(url.href, `HTTP ${status}`)
    }
    const length = Number(res.headers['content-length'])
    if (Number.isFinite(length) && length > opts.maxBytes) {
      res.destroy()
      throw tooLarge(url.href, opts.maxBytes, `the server announces ${formatBytes(length)}`)
    }
    res.setTimeout(opts.idleTimeoutMs, () => res.destroy(new Error(`stalled for ${opts.idleTimeoutMs} ms`)))
    return { body: res, url: url.href }
  }
}

export async function download (url: string, dest: string, options: DownloadOptions = {}): Promise<Downloaded> {
  const opts: OpenOptions = {
    idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
    totalTimeoutMs: options.totalTimeoutMs ?? 600_000,
    maxRedirects: options.maxRedirects ?? 5,
    maxBytes: options.maxBytes ?? Number.POSITIVE_INFINITY,
    allowedPrefixes: options.allowedPrefixes ?? []
  }
  const timeout = AbortSignal.timeout(opts.totalTimeoutMs)
  const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal])
  const stopped = (): boolean => options.signal?.aborted === true
  let opened
  try {
    opened = await open(url, signal, opts)
  } catch (err) {
    if (stopped()) throw options.signal?.reason
    throw err
  }
  const { body, url: finalUrl } = opened
  const hash = createHash('sha256')
  let bytes = 0
  const tap = new Transform({
    transform (chunk: Buffer, _enc, done) {
      bytes += chunk.length
      if (bytes > opts.maxBytes) {
        done(tooLarge(finalUrl, opts.maxBytes, `more than ${formatBytes(opts.maxBytes)} received`))
        return
      }
      hash.update(chunk)
      done(null, chunk)
    }
  })
  try {
    await pipeline(body, tap, createWriteStream(dest), { signal })
  } catch (err) {
    if (stopped()) throw options.signal?.reason
    if (err instanceof InstallerError) throw err
    const why = timeout.aborted ? `took longer than ${opts.totalTimeoutMs} ms` : (err as Error).message
    throw unavailable(finalUrl, why, err)
  }
  const sha256 = hash.digest('hex')
  if (options.sha256 !== undefined && options.sha256 !== sha256) {
    throw new InstallerError('ChecksumMismatch', `${finalUrl}: sha256 is ${sha256}, expected ${options.sha256}`)
  }
  return { bytes, sha256, url: finalUrl }
}
