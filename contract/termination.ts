// How a node-side process (the installer, the scheduling agent) ends when it fails: the one-line
// JSON termination message in the file the kubelet reads (terminationMessagePath), the same line
// last on stderr (FallbackToLogsOnError when the file cannot be written), exit code 1.
import { writeFile } from 'node:fs/promises'
import { type AgentFailure, formatTerminationMessage, type InstallerReason } from './index.js'

interface Log {
  error: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
}

export async function exitWithTerminationMessage (log: Log, terminationLog: string, reason: InstallerReason | AgentFailure, message: string, what: string): Promise<never> {
  const line = formatTerminationMessage(reason, message)
  log.error({ reason, err: message }, `${what} failed`)
  try {
    await writeFile(terminationLog, line + '\n')
  } catch (writeErr) {
    log.warn({ path: terminationLog, err: (writeErr as Error).message }, 'cannot write termination message')
  }
  process.stderr.write(line + '\n')
  process.exit(1)
}
