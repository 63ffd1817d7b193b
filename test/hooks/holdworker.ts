// A stand-in for the hook worker (hooks/server/worker.ts) in the server's exhaustion tests: it
// holds each job for GTP5G_TEST_HOLD_MS, like a big sync does, and appends the job's id to the
// file GTP5G_TEST_JOB_LOG, so a test sees exactly which jobs reached a worker. A fixture because
// a real sync that takes a known time cannot be built on a shared machine.
import { appendFileSync } from 'node:fs'
import { parentPort } from 'node:worker_threads'

const hold = Number(process.env.GTP5G_TEST_HOLD_MS ?? '0')
const log = process.env.GTP5G_TEST_JOB_LOG ?? ''
const cell = new Int32Array(new SharedArrayBuffer(4))

parentPort?.on('message', (job: { id: number }) => {
  if (log !== '') appendFileSync(log, `${job.id}\n`)
  Atomics.wait(cell, 0, 0, hold)
  parentPort?.postMessage({ id: job.id, statusCode: 200, payload: '{}' })
})
parentPort?.postMessage({ ready: true })
