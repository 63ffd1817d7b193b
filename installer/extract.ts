// Unpacks the source tarball with the `tar` package: pure JS (no host tar needed), and it
// refuses absolute paths and `..` entries by default, which matters for a URL the user chose.
// Streaming with backpressure: Node's gunzip feeds tar's Unpack, so memory stays flat however
// large an entry is (`tar.x({file})` inflates each 16 MiB read at once: a 2 GiB entry of zeros
// cost 2.2 GiB of RSS), and the unpacked bytes and the entry count are capped.
import { createReadStream } from 'node:fs'
import { mkdir, open, readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import { Unpack } from 'tar'
import { InstallerError } from './errors.js'
import { formatBytes, type Limits } from './limits.js'

export type ExtractLimits = Pick<Limits, 'extractBytes' | 'extractEntries'>

function tooLarge (what: string): InstallerError {
  return new InstallerError('SourceTooLarge', `source tarball ${what} (gtp5g unpacks to about 1.5 MiB in ~150 entries); is the URL right?`)
}

async function isGzip (file: string): Promise<boolean> {
  const fh = await open(file, 'r')
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(2), 0, 2, 0)
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b
  } finally {
    await fh.close()
  }
}

/**
 * Returns the source directory: release archives (GitHub's included) wrap everything in one
 * top-level folder such as `gtp5g-0.9.12/`; a flat tarball is used as it is.
 */
export async function extractSource (tarball: string, destDir: string, limits: ExtractLimits, signal?: AbortSignal): Promise<string> {
  await mkdir(destDir, { recursive: true })
  const warnings: string[] = []
  let bytes = 0
  let entries = 0
  // The unpacked tar stream, headers and padding included: an upper bound on what reaches disk.
  const counter = new Transform({
    transform (chunk: Buffer, _enc, done) {
      bytes += chunk.length
      if (bytes > limits.extractBytes) done(tooLarge(`unpacks to more than ${formatBytes(limits.extractBytes)}`))
      else done(null, chunk)
    }
  })
  const unpack = new Unpack({
    cwd: destDir,
    strict: true,
    // preserveOwner defaults to true for root, and chown needs CAP_CHOWN, which the installer
    // pod drops (it keeps CAP_SYS_MODULE only): files belong to whoever extracts them.
    preserveOwner: false,
    onwarn: (_code, message) => { warnings.push(String(message)) },
    // Refuses before anything is written: a declared size over the cap, or one entry too many.
    filter: (_path, entry) => {
      entries++
      if (entries > limits.extractEntries) {
        counter.destroy(tooLarge(`has more than ${limits.extractEntries} entries`))
        return false
      }
      if ('size' in entry && typeof entry.size === 'number' && entry.size > limits.extractBytes) {
        counter.destroy(tooLarge(`holds a ${formatBytes(entry.size)} entry, more than ${formatBytes(limits.extractBytes)}`))
        return false
      }
      return true
    }
  })
  try {
    const gzip = await isGzip(tarball)
    const source = createReadStream(tarball, { highWaterMark: 64 * 1024 })
    // tar's Unpack is a minipass stream; Node's pipeline drives it like any Writable.
    const sink = unpack as unknown as NodeJS.WritableStream
    const opts = signal === undefined ? {} : { signal }
    if (gzip) await pipeline(source, createGunzip(), counter, sink, opts)
    else await pipeline(source, counter, sink, opts)
  } catch (err) {
    if (signal?.aborted === true) throw signal.reason
    if (err instanceof InstallerError) throw err
    throw new InstallerError('SourceUnavailable', `source is not a readable tarball: ${(err as Error).message}`, { cause: err })
  }
  const found = await readdir(destDir)
  if (found.length === 0) throw new InstallerError('SourceUnavailable', `source tarball is empty${warnings.length > 0 ? ': ' + warnings.join('; ') : ''}`)
  const only = found.length === 1 ? path.join(destDir, found[0] as string) : undefined
  if (only !== undefined && (await stat(only)).isDirectory()) return only
  return destDir
}
