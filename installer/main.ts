#!/usr/bin/env node
// The installer's entry point: reads the configuration, then either answers `check` from
// /sys/module alone or starts the long-running install/unload process (service.ts). A check
// loads no more than it reads: the logger and the build pipeline are loaded by service.ts only.
import { ENV_TERMINATION_LOG, MODULE_NAME, TERMINATION_LOG } from '../contract/index.js'
import { type Config, parseConfig } from './config.js'
import { readiness } from './core/module.js'
import { toTermination } from './errors.js'
import { hostPaths } from './paths.js'
import { readModuleState } from './sysfs.js'

async function configOrExit (): Promise<Config> {
  try {
    return parseConfig(process.argv.slice(2), process.env)
  } catch (err) {
    // A probe must not write the container's termination message: just "not ready".
    if (process.argv[2] === 'check') {
      process.stderr.write(`not ready: ${toTermination(err).message}\n`)
      process.exit(1)
    }
    const { fail } = await import('./service.js')
    return await fail(err, process.env[ENV_TERMINATION_LOG] || TERMINATION_LOG)
  }
}

const config = await configOrExit()
if (config.command === 'check') {
  // The readiness question by hand (`kubectl exec … gtp5g-installer check`): silent when ready,
  // one line on stderr when not. The pod's probe reads the running installer's READY_FILE instead.
  const result = readiness(config, await readModuleState(hostPaths(config.hostRoot), MODULE_NAME))
  if (!result.ready) process.stderr.write(`not ready: ${result.detail}\n`)
  process.exit(result.ready ? 0 : 1)
}
const { serve } = await import('./service.js')
await serve(config)
