import { execFile } from 'node:child_process'
import { createWriteStream, existsSync } from 'node:fs'
import { chown, mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { promisify } from 'node:util'
import { createGzip } from 'node:zlib'
import t from 'tap'
import * as tar from 'tar'
import { extractSource } from '../../installer/extract.js'
import { DEFAULT_LIMITS } from '../../installer/limits.js'
import { tempDir } from './helpers.js'
import { FIXTURES, packFixture } from '../support/fixturesource.js'
import { needs } from '../support/prerequisite.js'

const limits = { extractBytes: DEFAULT_LIMITS.extractBytes, extractEntries: DEFAULT_LIMITS.extractEntries }
const MiB = 1024 * 1024

/**
 * A gzipped tarball holding one `size`-byte file of zeros under `gtp5g-big/`, written as a stream
 * (a zip bomb: 512 MiB of zeros compress to about 0.5 MiB).
 */
async function zerosTarball (file: string, size: number): Promise<void> {
  const header = new tar.Header({ path: 'gtp5g-big/blob', type: 'File', size, mode: 0o644, mtime: new Date(0) })
  const block = Buffer.alloc(512)
  header.encode(block, 0)
  const zeros = Buffer.alloc(MiB)
  async function * body (): AsyncGenerator<Buffer> {
    yield block
    for (let left = size; left > 0; left -= zeros.length) yield left >= zeros.length ? zeros : zeros.subarray(0, left)
    yield Buffer.alloc((512 - (size % 512)) % 512 + 1024) // padding, then the two end blocks
  }
  await pipeline(Readable.from(body()), createGzip({ level: 1 }), createWriteStream(file))
}

t.test('a release archive unpacks to its single top-level folder', async t => {
  const dir = await tempDir(t)
  const src = await extractSource(await packFixture(dir, 'v0.9.12a'), path.join(dir, 'out'), limits)
  t.equal(path.basename(src), 'gtp5g-0.9.12a')
})

t.test('a flat tarball is used as it is', async t => {
  const dir = await tempDir(t)
  await mkdir(path.join(dir, 'flat'))
  await writeFile(path.join(dir, 'flat/Makefile'), 'all:\n')
  await writeFile(path.join(dir, 'flat/gtp5g.c'), '')
  await tar.c({ gzip: true, file: path.join(dir, 'flat.tgz'), cwd: path.join(dir, 'flat') }, ['Makefile', 'gtp5g.c'])
  t.equal(await extractSource(path.join(dir, 'flat.tgz'), path.join(dir, 'out'), limits), path.join(dir, 'out'))
})

t.test('unsafe or broken tarballs are SourceUnavailable', async t => {
  const dir = await tempDir(t)
  await mkdir(path.join(dir, 'a/b'), { recursive: true })
  await writeFile(path.join(dir, 'a/escape'), 'x')
  // An entry that climbs out of the extraction directory.
  await tar.c({ gzip: true, file: path.join(dir, 'evil.tgz'), cwd: path.join(dir, 'a/b'), preservePaths: true }, ['../escape'])
  await t.rejects(extractSource(path.join(dir, 'evil.tgz'), path.join(dir, 'out1'), limits), { reason: 'SourceUnavailable', message: /\S/ }, 'path traversal refused')
  t.notOk(existsSync(path.join(dir, 'escape')), 'nothing written outside the extraction directory')
  await writeFile(path.join(dir, 'html.tgz'), '<html>404 Not Found</html>')
  await t.rejects(extractSource(path.join(dir, 'html.tgz'), path.join(dir, 'out2'), limits), { reason: 'SourceUnavailable', message: /not a readable tarball|empty/ }, 'an error page is not a tarball')
})

t.test('archive owners are not restored: the pod has no CAP_CHOWN', needs(process.getuid?.() === 0 ? undefined : 'root, to make an archive owned by another uid'), async t => {
  const dir = await tempDir(t)
  await mkdir(path.join(dir, 'src'))
  await writeFile(path.join(dir, 'src/Makefile'), 'all:\n')
  // An archive made by uid 4242, as tarballs from other machines are.
  await chown(path.join(dir, 'src/Makefile'), 4242, 4242)
  await tar.c({ gzip: true, file: path.join(dir, 'foreign.tgz'), cwd: path.join(dir, 'src'), portable: false }, ['Makefile'])
  const out = await extractSource(path.join(dir, 'foreign.tgz'), path.join(dir, 'out'), limits)
  t.equal((await stat(path.join(out, 'Makefile'))).uid, process.getuid?.() ?? 0)
})

t.test('a plain (uncompressed) tar is read too', async t => {
  const dir = await tempDir(t)
  await mkdir(path.join(dir, 'src/gtp5g-1'), { recursive: true })
  await writeFile(path.join(dir, 'src/gtp5g-1/Makefile'), 'all:\n')
  await tar.c({ file: path.join(dir, 'plain.tar'), cwd: path.join(dir, 'src') }, ['gtp5g-1'])
  t.equal(path.basename(await extractSource(path.join(dir, 'plain.tar'), path.join(dir, 'out'), limits)), 'gtp5g-1')
})

t.test('caps: unpacked bytes and entry count are SourceTooLarge, refused before they reach the disk', async t => {
  const dir = await tempDir(t)
  await zerosTarball(path.join(dir, 'bomb.tgz'), 64 * MiB)
  await t.rejects(extractSource(path.join(dir, 'bomb.tgz'), path.join(dir, 'out1'), { ...limits, extractBytes: 16 * MiB }),
    { reason: 'SourceTooLarge', message: /holds a 64 MiB entry, more than 16 MiB/ }, 'one entry declared larger than the cap')
  t.same(await readdir(path.join(dir, 'out1')), [], 'nothing written')

  // Many entries each under the cap, together over it: the stream count stops them.
  await mkdir(path.join(dir, 'many/gtp5g-1'), { recursive: true })
  for (let i = 0; i < 40; i++) await writeFile(path.join(dir, `many/gtp5g-1/f${i}`), Buffer.alloc(64 * 1024, i))
  await tar.c({ gzip: true, file: path.join(dir, 'many.tgz'), cwd: path.join(dir, 'many') }, ['gtp5g-1'])
  await t.rejects(extractSource(path.join(dir, 'many.tgz'), path.join(dir, 'out2'), { ...limits, extractBytes: MiB }),
    { reason: 'SourceTooLarge', message: /unpacks to more than 1 MiB/ }, 'the sum of entries over the cap')
  await t.rejects(extractSource(path.join(dir, 'many.tgz'), path.join(dir, 'out3'), { ...limits, extractEntries: 10 }),
    { reason: 'SourceTooLarge', message: /more than 10 entries/ }, 'more entries than the cap')
  t.equal(path.basename(await extractSource(path.join(dir, 'many.tgz'), path.join(dir, 'out4'), { extractBytes: 4 * MiB, extractEntries: 41 })), 'gtp5g-1', 'exactly at the entry cap is fine')
})

t.test('memory stays flat: a 512 MiB entry costs far less than 512 MiB of RSS', async t => {
  const dir = await tempDir(t)
  const size = 512 * MiB
  await zerosTarball(path.join(dir, 'big.tgz'), size)
  const { stdout } = await promisify(execFile)(process.execPath, [
    ...process.execArgv, path.join(FIXTURES, 'extract-rss.ts'),
    path.join(dir, 'big.tgz'), path.join(dir, 'out'), JSON.stringify({ extractBytes: 2 * size, extractEntries: 10 })
  ])
  const { before, after, outcome } = JSON.parse(stdout.trim().split('\n').at(-1) as string) as { before: number, after: number, outcome: string }
  t.equal(outcome, 'ok')
  t.equal((await stat(path.join(dir, 'out/gtp5g-big/blob'))).size, size, 'the whole entry was written')
  const grewMiB = Math.round((after - before) / 1024)
  t.comment(`peak RSS ${Math.round(before / 1024)} MiB before, ${Math.round(after / 1024)} MiB after extracting a ${size / MiB} MiB entry`)
  t.ok(grewMiB < 64, `peak RSS grew by ${grewMiB} MiB (< 64 MiB)`)
})
