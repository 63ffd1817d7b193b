// The hook pool's routing: bodies up to inlineMaxBytes are answered on the calling thread (the
// round trip to a worker cost more than they do), larger ones by a worker; and the workers' heap
// limit follows the body limit. The worker here is the exhaustion tests' stand-in
// (holdworker.ts), which answers "{}" and logs each job, so a test sees where a job went.
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { defaultLimits } from '../../hooks/server/answer.js'
import { HookPool, INLINE_MAX_BYTES, workerHeapLimitMb } from '../../hooks/server/pool.js'
import { CONFIG, node, NOW, syncRequest } from '../support/hookfixtures.js'

const MiB = 1024 * 1024

t.test('a small body is answered here, a larger one by a worker', async t => {
  const log = path.join(tmpdir(), `gtp5g-pool-jobs-${process.pid}`)
  process.env.GTP5G_TEST_HOLD_MS = '100'
  process.env.GTP5G_TEST_JOB_LOG = log
  const small = Buffer.from(JSON.stringify(syncRequest({ nodes: [node('a')] })))
  const pool = new HookPool({ workers: 1, config: CONFIG, limits: defaultLimits(MiB), deadlineMs: 10_000, workerUrl: new URL('./holdworker.ts', import.meta.url), inlineMaxBytes: small.byteLength })
  t.teardown(async () => { await pool.close() })
  const jobs = async (): Promise<number> => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(l => l !== '').length

  const here = await pool.run({ hook: 'sync', body: new Uint8Array(small), nowMs: NOW.getTime() })
  t.equal(here.statusCode, 200)
  t.equal((JSON.parse(here.payload) as { children: unknown[] }).children.length, 1, 'the real hook answered it')
  t.equal(await jobs(), 0, 'no worker saw it')

  const larger = Buffer.concat([small, Buffer.from(' ')])
  const there = await pool.run({ hook: 'sync', body: new Uint8Array(larger), nowMs: NOW.getTime() })
  t.equal(there.payload, '{}', 'the worker answered it')
  t.equal(await jobs(), 1)
})

t.test('the default threshold admits a 10-node sync, not a 1,000-node one', async t => {
  const size = (n: number): number => Buffer.byteLength(JSON.stringify(syncRequest({ nodes: Array.from({ length: n }, (_, i) => node(`worker-${i}`)) })))
  t.ok(size(10) <= INLINE_MAX_BYTES)
  t.ok(size(1000) > INLINE_MAX_BYTES)
})

t.test('the workers\' heap limit follows the body limit', async t => {
  for (const [bodyLimit, mb] of [[MiB, 128], [32 * MiB, 128], [33 * MiB, 132], [64 * MiB, 256], [256 * MiB, 1024]] as const) {
    t.equal(workerHeapLimitMb(bodyLimit), mb, `${bodyLimit / MiB} MiB`)
  }
})
