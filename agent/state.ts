// The agent's report on disk: written by the running agent, read by `scheduling-agent check`
// (the pod's readiness probe). An emptyDir in the pod; a temp dir in tests.
import { readFile, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { AgentReport } from './run.js'

export const STATE_FILE = 'state.json'

/** Written whole, then renamed: the probe never reads half a file. */
export async function writeReport (stateDir: string, report: AgentReport): Promise<void> {
  const file = path.join(stateDir, STATE_FILE)
  await writeFile(`${file}.tmp`, JSON.stringify(report))
  await rename(`${file}.tmp`, file)
}

/** The readiness probe: ready when the agent's last report says so. */
export async function check (stateDir: string): Promise<boolean> {
  try {
    const report = JSON.parse(await readFile(path.join(stateDir, STATE_FILE), 'utf8')) as Partial<AgentReport>
    return report.ready === true
  } catch {
    return false
  }
}
