// The entry of the installer's V8 start-up snapshot (Node.js 20's `--build-snapshot`): bundled by
// installer/bundle.mjs into one CommonJS script (snapshot.cjs), run once on each node by the
// installer itself after it reported ready (snapshotcache.ts), with its heap saved in a blob that `node --snapshot-blob BLOB` starts from. What it evaluates
// then (cli.ts, service.ts and what they import: the logger's code, the flow, the core) is not
// read, parsed or run again at each start: a restart is mostly that. Nothing here may hold what
// belongs to the process that runs: the logger, its stdout, signal handlers, timers and the
// environment are all taken in the main function, after the heap is restored. The build
// pipeline (tar, the HTTP client, kbuild) stays unevaluated until a build imports it. pino reads
// process.pid and the hostname when its module loads, so in the snapshot they are the snapshot
// build's: the logger's `base` (service.ts) leaves both out of every line.
import { startupSnapshot } from 'node:v8'
import { pino } from 'pino'
import { ENV } from '../contract/index.js'
import { main } from './cli.js'
import { parseConfig } from './config.js'
import { describeState, type ModuleState, readiness } from './core/module.js'
import { plan, resolveKernel } from './core/plan.js'
import './service.js'
import { SNAPSHOT_VERIFY_ENV, SNAPSHOT_VERIFY_OUTPUT } from './snapshotcache.js'

/**
 * Runs once, in memory, the synchronous code a restart runs (the configuration, the plan, the
 * logger's formatting of the lines it writes) with made-up values: V8 compiles a function when it
 * is first called, and the snapshot keeps what was compiled, so a start does not compile these
 * again. Nothing outside this function sees it: the logger writes to a stream that drops lines.
 */
function rehearse (): void {
  const config = parseConfig(['install'], { [ENV.version]: 'v0.0.1' })
  const node: ModuleState = { loaded: true, version: '0.0.1', refcnt: 1, holders: [], btf: false }
  const log = pino({ base: { component: 'gtp5g-installer' }, level: 'info' }, { write: () => {} })
  log.info({ step: 'start', startupMs: 1, nodeBootstrapMs: 1, action: config.action }, 'starting')
  const kernel = resolveKernel('6.1.0-28-amd64')
  log.info({ step: 'kernel', durationMs: 1, kernel: 'raw' in kernel ? kernel.raw : '' }, 'kernel')
  log.info({ step: 'inspect', durationMs: 1, ...describeState(node) }, 'inspect')
  plan({ version: config.version, btf: config.btf }, node)
  readiness(config, node)
  log.info({ step: 'ready', file: config.readyFile, intervalMs: config.watchIntervalMs }, 'ready')
}
rehearse()

// argv as `node --snapshot-blob BLOB SCRIPT ARGS...` gives it: SCRIPT (never run) in argv[1].
startupSnapshot.setDeserializeMainFunction(() => {
  // The builder's check of a new blob (snapshotcache.ts): restored, and nothing more.
  if (process.env[SNAPSHOT_VERIFY_ENV] === '1') {
    process.stdout.write(SNAPSHOT_VERIFY_OUTPUT)
    return
  }
  main(process.argv.slice(2)).catch((err: unknown) => {
    // As a rejected top-level await of the ES module entry: the error on stderr, exit code 1.
    console.error(err)
    process.exit(1)
  })
})
