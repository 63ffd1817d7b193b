// The API server's way to the real node's kubelet (`kubectl logs`, `exec`, node proxy): its
// egress selector sends that traffic as HTTP CONNECT through a unix socket to this process,
// which admits only the targets in the routes file ("10.0.2.15:10250" → a port) and dials that
// port on 127.0.0.1, qemu's hostfwd to the guest's kubelet. Everything else gets 403, so the API
// server never reaches an address outside loopback through it. The routes file is read on every
// request: the VM may be restarted on another port.
// Run by e2e/node/realnode.ts through proxy-main.ts.
import { readFileSync, rmSync } from 'node:fs'
import { connect, createServer, type Socket } from 'node:net'

/** "host:port" as the API server asks for it → the loopback port that reaches it. */
export type Routes = Record<string, number>

const MAX_HEAD = 8192

export function parseConnect (head: string): string | undefined {
  return /^CONNECT (\S+) HTTP\/1\.[01]\r\n/.exec(head)?.[1]
}

function readRoutes (file: string): Routes {
  try { return JSON.parse(readFileSync(file, 'utf8')) as Routes } catch { return {} }
}

export function serve (socketPath: string, routesFile: string, log: (line: string) => void): ReturnType<typeof createServer> {
  const server = createServer((client: Socket) => {
    let head = Buffer.alloc(0)
    client.on('error', () => { client.destroy() })
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk])
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) {
        if (head.length > MAX_HEAD) client.destroy()
        return
      }
      client.off('data', onData)
      client.pause()
      const target = parseConnect(head.subarray(0, end + 2).toString('latin1'))
      const rest = head.subarray(end + 4)
      const port = target === undefined ? undefined : readRoutes(routesFile)[target]
      if (port === undefined) {
        log(`refused CONNECT ${target ?? '(not a CONNECT request)'}`)
        client.end('HTTP/1.1 403 Forbidden\r\n\r\n')
        return
      }
      const upstream = connect(port, '127.0.0.1', () => {
        client.write('HTTP/1.1 200 Connection established\r\n\r\n')
        if (rest.length > 0) upstream.write(rest)
        client.pipe(upstream)
        upstream.pipe(client)
        client.resume()
      })
      upstream.on('error', error => {
        log(`CONNECT ${String(target)} via 127.0.0.1:${port}: ${error.message}`)
        if (!client.writableEnded) client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n')
      })
      client.on('close', () => { upstream.destroy() })
      upstream.on('close', () => { client.destroy() })
    }
    client.on('data', onData)
  })
  rmSync(socketPath, { force: true })
  server.listen(socketPath)
  return server
}
