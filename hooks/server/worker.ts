// A hook worker thread: answers HookJobs with answerHook, one at a time. Everything expensive
// (JSON.parse of a body of tens of MiB, the hooks, JSON.stringify) happens here, off the event
// loop that answers /healthz and accepts connections.
import { parentPort, workerData } from 'node:worker_threads'
import { answerHook, type AnswerLimits, type HookJob } from './answer.js'
import type { HookConfig } from '../core/config.js'

const { config, limits } = workerData as { config: HookConfig, limits: AnswerLimits }

parentPort?.on('message', (job: HookJob & { id: number }) => {
  parentPort?.postMessage({ id: job.id, ...answerHook(job, config, limits) })
})
parentPort?.postMessage({ ready: true })
