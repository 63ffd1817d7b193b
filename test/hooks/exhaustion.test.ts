// Issue 14's ways to exhaust the hook server, reproduced on loopback with bounded loops: each
// test failed on the code before the fix (noted per test).
import { readFile } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { buildApp } from '../../hooks/server/app.js'
import type { ServerLimits } from '../../hooks/server/config.js'
import { CONFIG, NOW, syncRequest } from '../support/hookfixtures.js'
import { setTimeout as sleep } from 'node:timers/promises'

const MiB = 1024 * 1024

async function serve (t: Test, options: { bodyLimit?: number, limits?: Partial<ServerLimits>, holdMs?: number } = {}): Promise<{ url: string, port: number, jobs: () => Promise<number> }> {
  let workerUrl: URL | undefined
  const log = path.join(tmpdir(), `gtp5g-jobs-${process.pid}-${Math.random().toString(36).slice(2)}`)
  if (options.holdMs !== undefined) {
    process.env.GTP5G_TEST_HOLD_MS = String(options.holdMs)
    process.env.GTP5G_TEST_JOB_LOG = log
    workerUrl = new URL('./holdworker.ts', import.meta.url)
  }
  const { app } = buildApp({ hooks: CONFIG, bodyLimit: options.bodyLimit ?? MiB, limits: options.limits, logLevel: 'silent', now: () => NOW, workerUrl })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => await app.close())
  const port = (app.server.address() as { port: number }).port
  const jobs = async (): Promise<number> => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(l => l !== '').length
  return { url: `http://127.0.0.1:${port}`, port, jobs }
}

async function open (port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1')
  await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  return socket
}

/** What the server sends on `socket` until it closes it, or until `ms` passed. */
async function responseOn (socket: Socket, ms: number): Promise<{ text: string, closed: boolean }> {
  let text = ''
  socket.on('data', d => { text += d.toString() })
  const closed = await new Promise<boolean>(resolve => {
    socket.once('close', () => { resolve(true) })
    setTimeout(() => { resolve(false) }, ms)
  })
  return { text, closed }
}

const syncBody = JSON.stringify(syncRequest())
const postSync = `POST /sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${syncBody.length}\r\n\r\n${syncBody}`

// Finding 3. Before: the slot was freed when the client's socket closed while its job and body
// stayed queued, so 8 clients that each hung up 50 ms after their body got all 8 jobs run,
// one after the other (about 4 s of a worker held for nobody, and 8 bodies held meanwhile).
t.test('finding 3: work whose client hung up is dropped from the queue, and a running job keeps its slot until it settles', async t => {
  const server = await serve(t, { holdMs: 500, limits: { maxHooksInFlight: 2, hookWorkers: 1 } })
  // Warm-up: the worker is loaded (a cold start takes a second or two under the TS loader).
  t.equal((await fetch(`${server.url}/sync`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: syncBody })).status, 200, 'warm-up')
  const before = await server.jobs()
  for (let i = 0; i < 8; i++) {
    const socket = await open(server.port)
    socket.write(postSync)
    await sleep(50)
    socket.destroy()
  }
  await sleep(1500)
  const jobs = await server.jobs() - before
  t.ok(jobs <= 2, `only the jobs that reached a worker before their client left ran: ${jobs} of 8`)

  // A client that hangs up while its job runs: the slot stays taken until the job settles.
  const a = await open(server.port)
  a.write(postSync)
  await sleep(100)
  a.destroy()
  const b = await open(server.port)
  b.write(postSync)
  const c = await open(server.port)
  c.write(postSync)
  const [rb, rc] = await Promise.all([responseOn(b, 3000), responseOn(c, 3000)])
  const codes = [rb.text, rc.text].map(text => /^HTTP\/1\.1 (\d+)/.exec(text)?.[1]).sort()
  t.same(codes, ['200', '503'], 'with A\'s job still running, one of B and C waits its turn and the other is told to retry (cap 2)')
})

// Finding 4. Before: fastify read (and held) the body of a request to a path that has no
// route, up to BODY_LIMIT_BYTES, before it answered 404; a stalled upload held it until the
// request timeout.
t.test('finding 4: a body sent to a path that is not a hook is refused before it is read', async t => {
  const server = await serve(t, { bodyLimit: 32 * MiB })
  const rows: Array<[string, string, RegExp]> = [
    ['a path with no route', 'POST /not-a-hook', /^HTTP\/1\.1 404 /],
    ['a route that takes no body', 'POST /healthz', /^HTTP\/1\.1 404 /],
    ['a GET with a body', 'GET /metrics', /^HTTP\/1\.1 413 /]
  ]
  for (const [name, line, status] of rows) {
    const started = Date.now()
    const socket = await open(server.port)
    // 31 MiB announced, 16 bytes sent: the rest never comes.
    socket.write(`${line} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${31 * MiB}\r\n\r\n{"a":"bbbbbbbbbb`)
    const { text, closed } = await responseOn(socket, 2000)
    socket.destroy()
    t.match(text, status, `${name}: answered at once`)
    t.match(text, /connection: close/i, `${name}: and the connection closed rather than read`)
    t.ok(closed && Date.now() - started < 2000, `${name}: closed within ${Date.now() - started} ms`)
  }
  const chunked = await open(server.port)
  chunked.write('POST /not-a-hook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n')
  t.match((await responseOn(chunked, 2000)).text, /^HTTP\/1\.1 404 /, 'a chunked body too')
  chunked.destroy()
  t.equal((await fetch(`${server.url}/healthz`)).status, 200, 'routes without a body still answer')
})

// Finding 5. Before: node's server.maxConnections refused every new connection while the cap
// was held by idle keep-alive connections (each had sent one GET /healthz), for the whole
// keep-alive timeout: the next client got ECONNRESET.
t.test('finding 5: idle keep-alive connections at the cap make room for a new client', async t => {
  const server = await serve(t, { limits: { maxConnections: 4 } })
  const idle: Socket[] = []
  for (let i = 0; i < 4; i++) {
    const socket = await open(server.port)
    let text = ''
    socket.on('data', d => { text += d.toString() })
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
    while (!text.includes('"status":"ok"')) await sleep(10)
    idle.push(socket)
  }
  t.teardown(() => { for (const s of idle) s.destroy() })
  const res = await fetch(`${server.url}/healthz`)
  t.equal(res.status, 200, 'the next client is served')
  await sleep(100)
  t.ok(idle.every(s => s.destroyed || s.readableEnded), 'the idle ones were closed to make room')

  // Busy connections are not closed: four requests in progress hold the cap, the fifth is refused.
  const busy: Socket[] = []
  for (let i = 0; i < 4; i++) {
    const socket = await open(server.port)
    socket.write('POST /sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{')
    busy.push(socket)
  }
  t.teardown(() => { for (const s of busy) s.destroy() })
  await sleep(100)
  const extra = await open(server.port)
  t.ok((await responseOn(extra, 2000)).closed, 'a fifth connection is closed while four requests are in progress')
  t.notOk(busy.some(s => s.destroyed), 'the requests in progress keep their connections')
})
