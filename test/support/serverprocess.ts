// A hook server running as a real process (from the sources or from the image filesystem):
// waits for it to listen, collects its JSON log lines, and reports an early exit with stderr.
import type { ChildProcessByStdio } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'

export type ServerProcess = ChildProcessByStdio<null, Readable, Readable | null>

export interface Running {
  url: string
  /** Every JSON log line so far; keeps filling while the process runs. */
  lines: Array<Record<string, unknown>>
  /** SIGTERM, then the exit code. */
  stop: () => Promise<number | null>
}

export async function listening (child: ServerProcess): Promise<Running> {
  const lines: Array<Record<string, unknown>> = []
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  const url = await new Promise<string>((resolve, reject) => {
    const early = (code: number | null): void => { reject(new Error(`server exited with ${String(code)} before listening: ${stderr}`)) }
    child.once('exit', early)
    createInterface({ input: child.stdout }).on('line', line => {
      let entry: Record<string, unknown>
      try { entry = JSON.parse(line) as Record<string, unknown> } catch { return }
      lines.push(entry)
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(String(entry.msg))
      if (m?.[1] !== undefined) { child.off('exit', early); resolve(m[1]) }
    })
  })
  return {
    url,
    lines,
    stop: async () => {
      child.kill('SIGTERM')
      const [code] = await once(child, 'exit') as [number | null]
      return code
    }
  }
}

/** POSTs a sync request and returns the status code and how many children came back. */
export async function postSync (url: string, body: unknown): Promise<{ status: number, children: number }> {
  const res = await fetch(`${url}/sync`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, children: ((await res.json()) as { children: unknown[] }).children.length }
}
