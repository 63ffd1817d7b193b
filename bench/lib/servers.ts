// The HTTP servers the hook benchmark loads, each a process of its own so that its RSS and CPU
// are its own and the load generator never shares its event loop:
//   hook    the real hook server (hooks/server/main.ts, default settings; a larger body limit
//           only where the request needs it, bodyLimitFor), with its worker pool;
//   inline  floor-side comparison: the same answerHook called on the event loop (no pool), what
//           the pool costs at small sizes and saves at large ones;
//   route   floor (b): a bare fastify route that parses the same body and answers a tiny object.
import { execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { DEFAULT_BODY_LIMIT_BYTES } from '../../hooks/server/config.js'
import { listening, type Running } from '../../test/support/serverprocess.js'

export type ServerKind = 'hook' | 'inline' | 'route'

export interface BenchServer extends Running {
  kind: ServerKind
  pid: number
  /** Resident memory now and at its peak (VmRSS, VmHWM), in bytes. */
  rss: () => { now: number, peak: number }
  /** CPU time the process has used so far (user + system, every thread), in milliseconds. */
  cpuMs: () => number
}

const MiB = 1024 * 1024

/**
 * The body limit a server is started with for a request of `bytes`: the hook server's default
 * (32 MiB) when it fits, as deployed; else the next power of two, as the README tells a user of
 * a larger cluster to raise it (the worker heap limit follows it).
 */
export function bodyLimitFor (bytes: number): number {
  return bytes <= DEFAULT_BODY_LIMIT_BYTES ? DEFAULT_BODY_LIMIT_BYTES : 2 ** Math.ceil(Math.log2(bytes / MiB)) * MiB
}

/** Where buildServers puts the compiled servers: they run as built JavaScript, as deployed. */
const OUT = 'dist/bench-build'
const ENTRY: Record<ServerKind, string> = {
  hook: `${OUT}/hooks/server/main.js`,
  inline: `${OUT}/bench/lib/inlineserver.js`,
  route: `${OUT}/bench/lib/routeserver.js`
}

/** Compiles the three servers (bench/tsconfig.build.json): a TypeScript loader would add its own RSS and start-up. */
export function buildServers (): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'bench/tsconfig.build.json'], { stdio: 'inherit' })
}

export function rssOf (pid: number): { now: number, peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024
  return { now: kb('VmRSS'), peak: kb('VmHWM') }
}

/**
 * CPU time of a process so far, user + system, all its threads, from /proc/<pid>/stat (fields
 * 14 and 15, in USER_HZ ticks, which Linux fixes at 100 a second for user space).
 */
export function cpuMsOf (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // After the command name, which may hold spaces, in parentheses: field 3 onwards.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/** Starts one server on 127.0.0.1 and a free port. `nodeFlags` such as --cpu-prof go to node. */
export async function startServer (kind: ServerKind, bodyLimit: number, nodeFlags: string[] = []): Promise<BenchServer> {
  const child = spawn(process.execPath, [...nodeFlags, ENTRY[kind]], {
    // info is the hook server's default level: one log line per hook call is part of its cost.
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', BODY_LIMIT_BYTES: String(bodyLimit) },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const running = await listening(child)
  // Past the listening line the log is read and dropped, not parsed: parsing it here, in the
  // load generator's process, charged every logged hook call's round trip with work the bare
  // route never caused. The server still writes each line to a pipe someone reads, as under a
  // container runtime.
  child.stdout.removeAllListeners('data')
  child.stdout.resume()
  const pid = child.pid ?? 0
  return { ...running, kind, pid, rss: () => rssOf(pid), cpuMs: () => cpuMsOf(pid) }
}
