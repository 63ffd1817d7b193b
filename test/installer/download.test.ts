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
