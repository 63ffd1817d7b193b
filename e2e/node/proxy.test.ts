// The API server's CONNECT proxy to the real node (proxy.ts): a routed target is tunnelled to its
// loopback port, anything else is refused without a connection being made.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect, createServer, type AddressInfo, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { parseConnect, serve } from './proxy.js'

const dir = await mkdtemp(path.join(tmpdir(), 'gtp5g-proxy-'))
const socket = path.join(dir, 'egress.sock')
const routes = path.join(dir, 'routes.json')
const echo: Server = createServer(c => { c.pipe(c) })
await new Promise<void>(resolve => echo.listen(0, '127.0.0.1', resolve))
const echoPort = (echo.address() as AddressInfo).port
await writeFile(routes, JSON.stringify({ '10.0.2.15:10250': echoPort }))
const refused: string[] = []
const proxy = serve(socket, routes, line => { refused.push(line) })
await new Promise(resolve => proxy.once('listening', resolve))
t.teardown(async () => {
  proxy.close()
  echo.close()
  await rm(dir, { recursive: true, force: true })
})

/** Sends `request` (and `payload` once the proxy answered), returns everything the proxy sent back. */
async function exchange (request: string, payload = ''): Promise<string> {
  return await new Promise((resolve, reject) => {
    const c = connect(socket)
    let got = ''
    c.on('data', d => {
      got += d.toString('latin1')
      if (payload !== '' && got.endsWith('\r\n\r\n')) c.write(payload)
      if (payload !== '' && got.endsWith(payload)) c.end()
    })
    c.on('end', () => { resolve(got) })
    c.on('error', reject)
    c.write(request)
  })
}

t.equal(parseConnect('CONNECT 10.0.2.15:10250 HTTP/1.1\r\n'), '10.0.2.15:10250')
t.equal(parseConnect('GET / HTTP/1.1\r\n'), undefined)

t.test('a routed CONNECT is tunnelled to its loopback port', async t => {
  const got = await exchange('CONNECT 10.0.2.15:10250 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'hello kubelet')
  t.equal(got, 'HTTP/1.1 200 Connection established\r\n\r\nhello kubelet')
})

t.test('any other target, or no CONNECT at all, gets 403', async t => {
  t.equal(await exchange('CONNECT 10.1.2.3:10250 HTTP/1.1\r\n\r\n'), 'HTTP/1.1 403 Forbidden\r\n\r\n')
  t.equal(await exchange('CONNECT 10.0.2.15:22 HTTP/1.1\r\n\r\n'), 'HTTP/1.1 403 Forbidden\r\n\r\n')
  t.equal(await exchange('GET / HTTP/1.1\r\n\r\n'), 'HTTP/1.1 403 Forbidden\r\n\r\n')
  t.match(refused, [/refused CONNECT 10\.1\.2\.3:10250/, /refused CONNECT 10\.0\.2\.15:22/, /not a CONNECT request/])
})

t.test('the routes file is read per request (the VM may come back on another port)', async t => {
  await writeFile(routes, JSON.stringify({}))
  t.equal(await exchange('CONNECT 10.0.2.15:10250 HTTP/1.1\r\n\r\n'), 'HTTP/1.1 403 Forbidden\r\n\r\n')
  await writeFile(routes, JSON.stringify({ '10.0.2.15:10250': echoPort }))
  t.match(await exchange('CONNECT 10.0.2.15:10250 HTTP/1.1\r\n\r\n', 'again'), /200 Connection established\r\n\r\nagain$/)
})
