// The real server process: starts from env config, logs JSON, and stops cleanly on SIGTERM.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import t from 'tap'
import { CONFIG, node, syncRequest } from './fixtures.js'

t.test('serves hooks, one JSON log line per call, exits 0 on SIGTERM', async t => {
  const child = spawn(process.execPath, ['--import', '@tapjs/typescript/import', 'hooks/server/main.ts'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', TS_NODE_TRANSPILE_ONLY: '1', TARGET_NAMESPACE: CONFIG.targetNamespace },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  t.teardown(() => { child.kill('SIGKILL') })
  const lines: Array<Record<string, unknown>> = []
  let resolveUrl: (url: string) => void = () => {}
  const url = new Promise<string>(resolve => { resolveUrl = resolve })
  createInterface({ input: child.stdout }).on('line', line => {
    const entry = JSON.parse(line) as Record<string, unknown>
    lines.push(entry)
    const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(String(entry.msg))
    if (m?.[1] !== undefined) resolveUrl(m[1])
  })
  const base = await url
  const res = await fetch(`${base}/sync`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(syncRequest({ nodes: [node('node-a')] })) })
  t.equal(res.status, 200)
  t.equal(((await res.json()) as { children: unknown[] }).children.length, 1)
  child.kill('SIGTERM')
  const [code] = await once(child, 'exit')
  t.equal(code, 0, 'graceful stop')
  const hookLines = lines.filter(l => l.hook === 'sync')
  t.equal(hookLines.length, 1, 'exactly one log line for the call')
  t.match(hookLines[0], { parent: 'sample', decision: 'phase=Pending children=1', statusCode: 200, durationMs: Number })
  t.ok(lines.some(l => l.msg === 'stopping' && l.signal === 'SIGTERM'))
})
