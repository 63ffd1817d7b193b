// The local cluster's process supervisor: starts a process in the background with its output
// appended to a log file, records its pid together with its start time, and stops exactly that
// process. A pid file may outlive its process and the pid be reused: the start time tells them
// apart, so `down` never signals anything this cluster did not start.
import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { sleep } from './loopback.js'

export class Processes<Name extends string> {
  /** `dir/pids/<name>.pid` holds "<pid> <start time>". */
  constructor (readonly dir: string) {}

  pidPath (name: Name): string { return path.join(this.dir, 'pids', `${name}.pid`) }

  /** The pid of a process started here, if that very process still runs. */
  pidOf (name: Name): number | undefined {
    if (!existsSync(this.pidPath(name))) return undefined
    const [pid, startTime] = readFileSync(this.pidPath(name), 'utf8').trim().split(' ').map(Number)
    return pid !== undefined && startTime !== undefined && processStartTime(pid) === startTime ? pid : undefined
  }

  /** Starts `bin` detached, its output appended to `options.log`, and records it under `name`. */
  spawn (name: Name, bin: string, args: readonly string[], options: { log: string, cwd?: string, env?: NodeJS.ProcessEnv }): number {
    mkdirSync(path.dirname(this.pidPath(name)), { recursive: true })
    mkdirSync(path.dirname(options.log), { recursive: true })
    const out = openSync(options.log, 'a')
    const child = spawn(bin, args, { detached: true, stdio: ['ignore', out, out], cwd: options.cwd, env: options.env ?? process.env })
    closeSync(out)
    child.unref()
    if (child.pid === undefined) throw new Error(`${name}: could not start ${bin}`)
    writeFileSync(this.pidPath(name), `${child.pid} ${String(processStartTime(child.pid))}`)
    return child.pid
  }

  /** SIGTERM, then SIGKILL after `graceMs`; only the recorded process. */
  async stop (name: Name, graceMs = 10_000): Promise<void> {
    const pid = this.pidOf(name)
    if (pid !== undefined) {
      process.kill(pid, 'SIGTERM')
      const deadline = Date.now() + graceMs
      while (this.pidOf(name) !== undefined && Date.now() < deadline) await sleep(100)
      if (this.pidOf(name) !== undefined) process.kill(pid, 'SIGKILL')
      while (this.pidOf(name) !== undefined) await sleep(50)
    }
    rmSync(this.pidPath(name), { force: true })
  }
}

/** Field 22 of /proc/<pid>/stat (clock ticks after boot), or undefined when there is no such process. */
function processStartTime (pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const state = fields[0]
    return state === 'Z' || state === 'X' ? undefined : Number(fields[19])
  } catch {
    return undefined
  }
}
