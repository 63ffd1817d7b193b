// The one place that starts processes. Output is interleaved (stdout + stderr) because a
// compiler's context and its error belong together; only a bounded tail is kept in memory.
import { spawn } from 'node:child_process'

export interface RunResult { code: number | null, signal: string | null, output: string }
export type Runner = (cmd: string, args: readonly string[], opts?: { cwd?: string, env?: NodeJS.ProcessEnv, onOutput?: (chunk: Buffer) => void }) => Promise<RunResult>

const KEEP_BYTES = 256 * 1024

export const run: Runner = (cmd, args, opts = {}) => new Promise((resolve, reject) => {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
  let kept = Buffer.alloc(0)
  const collect = (chunk: Buffer): void => {
    opts.onOutput?.(chunk)
    kept = Buffer.concat([kept, chunk])
    if (kept.length > KEEP_BYTES) kept = kept.subarray(kept.length - KEEP_BYTES)
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  child.on('error', reject)
  child.on('close', (code, signal) => resolve({ code, signal, output: kept.toString('utf8') }))
})
