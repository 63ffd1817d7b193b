// Small helpers for the processes the local cluster and its companions run on loopback.
import { execFile } from 'node:child_process'
import { createServer } from 'node:net'
import path from 'node:path'

/** A TCP port free on 127.0.0.1 at the time of asking. */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => { resolve(typeof address === 'object' && address !== null ? address.port : 0) })
    })
  })
}

export const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

export interface RunOptions {
  /** The whole environment of the command (default: this process's). */
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Written to its stdin. */
  input?: string
  /** The arguments as an error names them (default: all; kubectl leaves out its connection flags). */
  shown?: readonly string[]
}

/** Runs a tool to completion: its stdout, or an error naming the command and carrying its stderr. */
export async function runTool (bin: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  return await new Promise((resolve, reject) => {
    const child = execFile(bin, args, { env: options.env ?? process.env, cwd: options.cwd, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`${path.basename(bin)} ${(options.shown ?? args).join(' ')}: ${stderr.trim() || error.message}`))
      else resolve(stdout)
    })
    if (options.input !== undefined) child.stdin?.end(options.input)
  })
}
