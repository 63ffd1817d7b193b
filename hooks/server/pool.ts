// The hook worker threads and the queue in front of them. A job that outlives its deadline (a
// body that takes longer to parse than Metacontroller waits) gets its worker terminated and
// replaced: the time any request can hold a worker is bounded.
import { Worker } from 'node:worker_threads'
import type { HookConfig } from '../core/config.js'
import { answerHook, type AnswerLimits, type HookAnswer, type HookJob } from './answer.js'

const MiB = 1024 * 1024

/**
 * Bodies up to this size are answered on the calling thread. Parsing 128 KiB (about 20 nodes)
 * takes about a millisecond, less than the round trip to a worker and back, which halved the
 * req/s of a 10-node cluster's syncs on a busy machine (`npm run bench`, docs/benchmarks.md);
 * the event loop is held no longer than parsing this many bytes takes.
 */
export const INLINE_MAX_BYTES = 128 * 1024

/**
 * A worker's V8 old-generation limit for a body limit. A parsed request holds about 2.7 times
 * its size (the text and the objects); left to its defaults V8 let garbage of three 5,000-node
 * requests pile up (a 530 MB peak RSS) before collecting. Four times the body limit collects
 * sooner and still leaves room for the largest body the server accepts.
 */
export function workerHeapLimitMb (bodyLimitBytes: number): number {
  return Math.max(128, Math.ceil(4 * bodyLimitBytes / MiB))
}

/**
 * A worker's V8 young generation, MB. Nearly everything a worker allocates is the parsed
 * request, which outlives a scavenge anyway; V8's default (two 16 MiB semi-spaces) only held
 * that much more memory. At 5,000 nodes this cut the peak RSS by about 10 MB and changed
 * neither p50 nor p99 (npm run bench, an A/B on one machine).
 */
export const WORKER_YOUNG_GENERATION_MB = 16

interface PoolOptions {
  workers: number
  config: HookConfig
  limits: AnswerLimits
  /** How long one job may run before its worker is replaced and the job answered 503. */
  deadlineMs: number
  /** The worker module; tests pass one that holds each job for a while. Default: worker.ts. */
  workerUrl?: URL
  /** Bodies up to this many bytes are answered here, not by a worker. Default 0: every job goes to a worker. */
  inlineMaxBytes?: number
  /** Each worker's heap limit (V8 old generation), MB; workerHeapLimitMb. Default: V8's. */
  heapLimitMb?: number
}

interface Pending {
  job: HookJob & { id: number }
  transfer: ArrayBuffer[]
  resolve: (answer: HookAnswer) => void
}

interface Slot {
  worker: Worker
  /** Loaded and listening: the deadline of a job counts from here, not from a cold start. */
  ready: boolean
  busy?: { pending: Pending, timer: NodeJS.Timeout }
}

// Sources run under a TypeScript loader (tests, npm run dev) load worker.ts; the build runs worker.js.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url)

const unavailable = (message: string): HookAnswer => ({
  statusCode: 503,
  payload: JSON.stringify({ statusCode: 503, error: 'Service Unavailable', message }),
  error: message
})

export class HookPool {
  private readonly slots: Slot[] = []
  private readonly queue: Pending[] = []
  private nextId = 0
  private closed = false

  constructor (private readonly options: PoolOptions) {}

  /** Whether run() answers this body on the calling thread. */
  answersInline (body: Uint8Array): boolean {
    return body.byteLength <= (this.options.inlineMaxBytes ?? 0)
  }

  /**
   * Answers a job; never rejects (a worker that dies answers 503, Metacontroller retries). A job
   * still queued when `signal` aborts (its client hung up) is dropped with its body: nobody
   * would read the answer, and a queue of abandoned bodies is memory anyone could fill.
   */
  async run (job: HookJob, signal?: AbortSignal): Promise<HookAnswer> {
    if (this.closed) return unavailable('the hook server is stopping')
    if (signal?.aborted === true) return unavailable('the client went away')
    if (this.answersInline(job.body)) return answerHook(job, this.options.config, this.options.limits)
    // The workers start with the first body too big to answer here: a small cluster never pays
    // their memory, and none is stopped while it is still starting.
    if (this.slots.length === 0) for (let i = 0; i < this.options.workers; i++) this.slots.push(this.spawn())
    // The body moves to the worker without a copy when it owns its whole buffer.
    const body = job.body.byteOffset === 0 && job.body.byteLength === job.body.buffer.byteLength && job.body.buffer instanceof ArrayBuffer
      ? job.body
      : new Uint8Array(job.body)
    return await new Promise(resolve => {
      const pending: Pending = { job: { ...job, body, id: this.nextId++ }, transfer: [body.buffer as ArrayBuffer], resolve }
      this.queue.push(pending)
      signal?.addEventListener('abort', () => {
        const at = this.queue.indexOf(pending)
        if (at === -1) return // already with a worker: it finishes within the deadline
        this.queue.splice(at, 1)
        resolve(unavailable('the client went away'))
      }, { once: true })
      this.dispatch()
    })
  }

  async close (): Promise<void> {
    this.closed = true
    for (const pending of this.queue.splice(0)) pending.resolve(unavailable('the hook server is stopping'))
    await Promise.all(this.slots.map(async slot => await slot.worker.terminate()))
  }

  private spawn (): Slot {
    const worker = new Worker(this.options.workerUrl ?? WORKER_URL, {
      workerData: { config: this.options.config, limits: this.options.limits },
      ...(this.options.heapLimitMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: this.options.heapLimitMb, maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } })
    })
    // An idle worker does not keep the process alive (the listening socket does); a busy one does.
    worker.unref()
    const slot: Slot = { worker, ready: false }
    worker.on('message', (answer: HookAnswer & { id: number } | { ready: true }) => {
      if ('ready' in answer) {
        slot.ready = true
        this.dispatch()
        return
      }
      const busy = slot.busy
      if (busy === undefined || busy.pending.job.id !== answer.id) return
      clearTimeout(busy.timer)
      slot.busy = undefined
      worker.unref()
      const { id, ...rest } = answer
      busy.pending.resolve(rest)
      this.dispatch()
    })
    // A worker that crashes or exits is replaced; the job it held is answered 503.
    const replace = (why: string): void => {
      if (this.closed) return
      const index = this.slots.indexOf(slot)
      if (index === -1) return
      if (slot.busy !== undefined) {
        clearTimeout(slot.busy.timer)
        slot.busy.pending.resolve(unavailable(why))
        slot.busy = undefined
      }
      this.slots[index] = this.spawn()
      worker.terminate().catch(() => {})
      this.dispatch()
    }
    worker.on('error', error => { replace(`the hook worker failed: ${error.message}`) })
    worker.on('exit', code => { replace(`the hook worker exited with code ${code}`) })
    return slot
  }

  private dispatch (): void {
    for (const slot of this.slots) {
      if (!slot.ready || slot.busy !== undefined) continue
      const pending = this.queue.shift()
      if (pending === undefined) return
      const timer = setTimeout(() => {
        const seconds = this.options.deadlineMs / 1000
        const index = this.slots.indexOf(slot)
        if (index === -1 || slot.busy?.pending !== pending) return
        slot.busy = undefined
        pending.resolve(unavailable(`the hook did not answer within ${seconds} s; Metacontroller will retry`))
        this.slots[index] = this.spawn()
        slot.worker.terminate().catch(() => {})
        this.dispatch()
      }, this.options.deadlineMs)
      slot.busy = { pending, timer }
      slot.worker.ref()
      slot.worker.postMessage(pending.job, pending.transfer)
    }
  }
}
