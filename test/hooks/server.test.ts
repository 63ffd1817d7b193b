// The real server process: starts from env config, logs JSON, and stops cleanly on SIGTERM.
import { spawn } from 'node:child_process'
import t from 'tap'
import { CONFIG, node, syncRequest } from '../support/hookfixtures.js'
import { listening, postSync } from '../support/serverprocess.js'

t.test('serves hooks, one JSON log line per call, exits 0 on SIGTERM', async t => {
  const child = spawn(process.execPath, ['--import', '@tapjs/typescript/import', 'hooks/server/main.ts'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', TS_NODE_TRANSPILE_ONLY: '1', TARGET_NAMESPACE: CONFIG.targetNamespace },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  t.teardown(() => { child.kill('SIGKILL') })
  const server = await listening(child)
  t.same(await postSync(server.url, syncRequest({ nodes: [node('node-a')] })), { status: 200, children: 1 })
  t.equal(await server.stop(), 0, 'graceful stop')
  const hookLines = server.lines.filter(l => l.hook === 'sync')
  t.equal(hookLines.length, 1, 'exactly one log line for the call')
  t.match(hookLines[0], { parent: 'sample', decision: 'phase=Pending children=1', statusCode: 200, durationMs: Number })
  t.ok(server.lines.some(l => l.msg === 'stopping' && l.signal === 'SIGTERM'))
})
