import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { download } from '../../installer/download.js'
import { tempDir } from './helpers.js'
import { loopback } from '../support/loopbackhttp.js'

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

// Issue 16 (with issue 14's finding 1): ALLOWED_SOURCE_PREFIXES held the first URL only and the
// download followed redirects to any host. Every hop is now judged, and a refused one is
// SourceNotAllowed, never requested.
t.test('under a source policy every redirect must stay inside it', async t => {
  const dir = await tempDir(t)
  const dest = path.join(dir, 'out')
  const other = await loopback({ '/evil/v1.tar.gz': body, '/mirror/v1.tar.gz': body })
  t.teardown(other.close)
  const server = await loopback({
    '/gtp5g/to-other-host': { redirect: `${other.base}/evil/v1.tar.gz` },
    '/gtp5g/to-outside-path': { redirect: '/evil/v1.tar.gz' },
    '/gtp5g/to-encoded-climb': { redirect: '/gtp5g/..%2fevil/v1.tar.gz' },
    '/gtp5g/to-mirror': { redirect: `${other.base}/mirror/v1.tar.gz` },
    '/gtp5g/v1.tar.gz': body,
    '/evil/v1.tar.gz': body
  })
  t.teardown(server.close)
  const allowedPrefixes = [`${server.base}/gtp5g/`, `${other.base}/mirror/`]
  const rows: Array<[string, string, RegExp]> = [
    ['a redirect to another host', '/gtp5g/to-other-host', new RegExp(`redirects to "${other.base}/evil/v1.tar.gz" is not under an allowed prefix \\(GTP5G_ALLOWED_SOURCE_PREFIXES: .*refusing to follow it`)],
    ['a redirect out of the allowed path', '/gtp5g/to-outside-path', /redirects to ".*\/evil\/v1\.tar\.gz" is not under an allowed prefix/],
    ['a redirect that climbs out with an encoded slash', '/gtp5g/to-encoded-climb', /redirects to "\/gtp5g\/\.\.%2fevil\/v1\.tar\.gz", which has the encoded character %2f in its path/]
  ]
  for (const [name, route, message] of rows) {
    await t.rejects(download(`${server.base}${route}`, dest, { allowedPrefixes }), { reason: 'SourceNotAllowed', message }, name)
  }
  t.notOk(server.hits.includes('/evil/v1.tar.gz') || other.hits.includes('/evil/v1.tar.gz'), 'a refused target is never requested')
  await t.rejects(download(`${other.base}/evil/v1.tar.gz`, dest, { allowedPrefixes }), { reason: 'SourceNotAllowed', message: /^refusing to fetch ".*" is not under an allowed prefix/ }, 'the first URL too')
  t.equal((await download(`${server.base}/gtp5g/to-mirror`, dest, { allowedPrefixes, sha256: sha })).sha256, sha, 'a redirect to another allowed prefix is followed')
  t.equal((await download(`${server.base}/gtp5g/v1.tar.gz`, dest, { allowedPrefixes })).bytes, body.length, 'no redirect at all')
  t.equal((await download(`${server.base}/gtp5g/to-other-host`, dest, {})).bytes, body.length, 'without a policy redirects go anywhere, as before')
})
