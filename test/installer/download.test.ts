import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { download } from '../../installer/download.js'
import { loopback, tempDir } from './helpers.js'

const body = Buffer.from('tarball bytes '.repeat(1000))
const sha = createHash('sha256').update(body).digest('hex')

t.test('downloads over loopback HTTP, following redirects, and verifies sha256', async t => {
  const dir = await tempDir(t)
  const server = await loopback({
    '/archive/v1.tar.gz': { redirect: '/codeload/v1' }, // relative, like GitHub's
    '/codeload/v1': { redirect: '{base}/files/v1.tar.gz' }, // absolute
    '/files/v1.tar.gz': body
  })
  t.teardown(server.close)
  const dest = path.join(dir, 'out.tgz')
  const got = await download(`${server.base}/archive/v1.tar.gz`, dest, { sha256: sha })
  t.same(server.hits, ['/archive/v1.tar.gz', '/codeload/v1', '/files/v1.tar.gz'])
  t.equal(got.bytes, body.length)
  t.equal(got.sha256, sha)
  t.same(await readFile(dest), body)
})

t.test('failures map to SourceUnavailable or ChecksumMismatch', async t => {
  const dir = await tempDir(t)
  const loop: Record<string, { redirect: string }> = {}
  for (let i = 0; i < 8; i++) loop[`/loop${i}`] = { redirect: `/loop${i + 1}` }
  const server = await loopback({ '/ok': body, '/gone': { status: 410 }, '/stall': 'stall', '/to-file': { redirect: 'file:///etc/passwd' }, ...loop })
  t.teardown(server.close)
  const dest = path.join(dir, 'out')
  const rows: Array<[string, string, Parameters<typeof download>[2], string, RegExp]> = [
    ['404', '/missing', {}, 'SourceUnavailable', /HTTP 404/],
    ['410', '/gone', {}, 'SourceUnavailable', /HTTP 410/],
    ['wrong sha256', '/ok', { sha256: '0'.repeat(64) }, 'ChecksumMismatch', new RegExp(`sha256 is ${sha}, expected 0{64}`)],
    ['stalled body', '/stall', { idleTimeoutMs: 200 }, 'SourceUnavailable', /stalled|aborted|longer/],
    ['redirect loop', '/loop0', { maxRedirects: 5 }, 'SourceUnavailable', /more than 5 redirects/],
    ['redirect to a local file', '/to-file', {}, 'SourceUnavailable', /refusing redirect to a file URL/]
  ]
  for (const [name, route, opts, reason, message] of rows) {
    await t.rejects(download(`${server.base}${route}`, dest, opts), { reason, message }, name)
  }
  await t.rejects(download('http://127.0.0.1:1/x.tgz', dest), { reason: 'SourceUnavailable', message: /ECONNREFUSED/ }, 'connection refused')
  await t.rejects(download('not a url', dest), { reason: 'SourceUnavailable', message: /not a URL/ }, 'garbage URL')
})

t.test('file:// URLs (a tarball on the node or in the image)', async t => {
  const dir = await tempDir(t)
  const src = path.join(dir, 'src.tgz')
  await writeFile(src, body)
  const got = await download(pathToFileURL(src).href, path.join(dir, 'copy'), { sha256: sha })
  t.equal(got.sha256, sha)
  await t.rejects(download(pathToFileURL(path.join(dir, 'absent.tgz')).href, path.join(dir, 'x')), { reason: 'SourceUnavailable', message: /ENOENT/ })
})

t.test('download size cap: SourceTooLarge from Content-Length, from the byte count, and for file://', async t => {
  const dir = await tempDir(t)
  const http = await import('node:http')
  let served = 0
  // No Content-Length (chunked): only counting can stop it. It would send 64 MiB.
  const chunked = http.createServer((_req, res) => {
    res.writeHead(200)
    const chunk = Buffer.alloc(64 * 1024)
    const more = (): void => {
      while (served < 64 * 1024 * 1024) {
        served += chunk.length
        if (!res.write(chunk)) { res.once('drain', more); return }
      }
      res.end()
    }
    more()
  })
  await new Promise<void>(resolve => chunked.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { chunked.closeAllConnections(); chunked.close() })
  const server = await loopback({ '/big': Buffer.alloc(2 * 1024 * 1024) })
  t.teardown(server.close)
  const dest = path.join(dir, 'out')
  await t.rejects(download(`${server.base}/big`, dest, { maxBytes: 1024 * 1024 }),
    { reason: 'SourceTooLarge', message: /the server announces 2 MiB, more than the 1 MiB/ }, 'announced length over the cap')
  const port = (chunked.address() as { port: number }).port
  await t.rejects(download(`http://127.0.0.1:${port}/x`, dest, { maxBytes: 1024 * 1024 }),
    { reason: 'SourceTooLarge', message: /more than 1 MiB received/ }, 'counted bytes over the cap')
  t.ok(served < 16 * 1024 * 1024, `stopped reading early (server wrote ${served} bytes)`)
  await t.rejects(download('file:///dev/zero', dest, { maxBytes: 1024 * 1024, totalTimeoutMs: 5000 }),
    { reason: 'SourceTooLarge', message: /more than 1 MiB received/ }, 'an endless file:// source')
  const ok = await download(`${server.base}/big`, dest, { maxBytes: 2 * 1024 * 1024 })
  t.equal(ok.bytes, 2 * 1024 * 1024, 'exactly at the cap is fine')
})

t.test('a shutdown stops the download with its own reason, not SourceUnavailable', async t => {
  const dir = await tempDir(t)
  const server = await loopback({ '/stall': 'stall' })
  t.teardown(server.close)
  const stop = new AbortController()
  setTimeout(() => stop.abort(new DOMException('stopping on SIGTERM', 'AbortError')), 100)
  await t.rejects(download(`${server.base}/stall`, path.join(dir, 'out'), { signal: stop.signal }), { name: 'AbortError', message: 'stopping on SIGTERM' })
})
