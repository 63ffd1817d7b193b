// The readiness file the pod's probe reads (contract READY_FILE): written whole (temporary file,
// then rename) while the node is in the state the action wants, removed when it is not. The
// process shell keeps it in step with /sys/module; the probe only reads it, so a probe costs a
// `cat`, not a Node.js start, and can run often.
import { rename, rm, writeFile } from 'node:fs/promises'

export interface ReadyFile {
  /** Writes `detail` when ready, removes the file otherwise; touches the disk only on a change. */
  set: (ready: boolean, detail: string) => Promise<void>
}

export function readyFile (file: string): ReadyFile {
  // Unknown at first: the first call writes or removes, whatever an earlier container left.
  let shown: string | undefined
  return {
    set: async (ready, detail) => {
      const next = ready ? detail : ''
      if (next === shown) return
      if (ready) {
        const tmp = `${file}.${process.pid}.tmp`
        await writeFile(tmp, `${detail}\n`)
        await rename(tmp, file)
      } else {
        await rm(file, { force: true })
      }
      shown = next
    }
  }
}
