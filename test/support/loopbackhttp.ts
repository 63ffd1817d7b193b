// A small HTTP server on 127.0.0.1 for tests that download: release archives, redirects,
// error statuses and a stalled body. Used by the installer tests and the real-node suite.
import http from 'node:http'
import { type AddressInfo } from 'node:net'

export interface Loopback { base: string, close: () => Promise<void>, hits: string[] }

/** An HTTP server on 127.0.0.1 only: `routes` maps a path to file contents or a redirect ({base} = its own URL). */
export async function loopback (routes: Record<string, Buffer | { redirect: string } | { status: number } | 'stall'>): Promise<Loopback> {
  const hits: string[] = []
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '')
    const route = routes[req.url ?? '']
    if (route === undefined) { res.writeHead(404).end('not found'); return }
    if (route === 'stall') { res.writeHead(200, { 'content-length': '100' }); res.write('x'); return }
    if (Buffer.isBuffer(route)) { res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': route.length }).end(route); return }
    if ('redirect' in route) { res.writeHead(302, { location: route.redirect.replace('{base}', base) }).end(); return }
    res.writeHead(route.status).end()
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    base,
    hits,
    close: () => new Promise(resolve => { server.closeAllConnections(); server.close(() => resolve()) })
  }
}
