// The entry of the installer's V8 start-up snapshot (Node.js 20's `--build-snapshot`): bundled by
// installer/bundle.mjs into one CommonJS script (snapshot.cjs), run once when the image is built,
// with its heap saved in a blob that `node --snapshot-blob BLOB` starts from. What it evaluates
// then (cli.ts, service.ts and what they import: the logger's code, the flow, the core) is not
// read, parsed or run again at each start: a restart is mostly that. Nothing here may hold what
// belongs to the process that runs: the logger, its stdout, signal handlers, timers and the
// environment are all taken in the main function, after the heap is restored. The build
// pipeline (tar, the HTTP client, kbuild) stays unevaluated until a build imports it.
import { startupSnapshot } from 'node:v8'
import { main } from './cli.js'
import './service.js'

// argv as `node --snapshot-blob BLOB SCRIPT ARGS...` gives it: SCRIPT (never run) in argv[1].
startupSnapshot.setDeserializeMainFunction(() => {
  main(process.argv.slice(2)).catch((err: unknown) => {
    // As a rejected top-level await of the ES module entry: the error on stderr, exit code 1.
    console.error(err)
    process.exit(1)
  })
})
