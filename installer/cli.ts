// What the installer does with its command line: reads the configuration, then either answers
// `check` from /sys/module alone or starts the long-running install/unload process (service.ts).
// Run by main.ts (the ES module entry) and by snapshot.ts (the start-up snapshot's main function).
// A check loads no more than it reads: the logger and the flow are imported by service.ts only.
import { ENV_TERMINATION_LOG, MODULE_NAME, TERMINATION_LOG } from '../contract/index.js'
import { type Config, parseConfig } from './config.js'
import { readiness } from './core/module.js'
import { toTermination } from './errors.js'
import { hostPaths } from './paths.js'
import { readModuleState } from './sysfs.js'

async function configOrExit (args: string[]): Promise<Config> {
  try {
    return parseConfig(args, process.env)
  } catch (err) {
    // A probe must not write the container's termination message: just "not ready".
    if (args[0] === 'check') {
      process.stderr.write(`not ready: ${toTermination(err).message}\n`)
      process.exit(1)
    }
    const { fail } = await import('./service.js')
    return await fail(err, process.env[ENV_TERMINATION_LOG] || TERMINATION_LOG)
  }
}

/** Runs the installer with `args` (the command line after the script); `check` exits with its answer. */
export async function main (args: string[]): Promise<void> {
  const config = await configOrExit(args)
  if (config.command === 'check') {
    // The readiness question by hand (`kubectl exec … gtp5g-installer check`): silent when ready,
    // one line on stderr when not. The pod's probe reads the running installer's READY_FILE instead.
    const result = readiness(config, await readModuleState(hostPaths(config.hostRoot), MODULE_NAME))
    if (!result.ready) process.stderr.write(`not ready: ${result.detail}\n`)
    process.exit(result.ready ? 0 : 1)
  }
  const { serve } = await import('./service.js')
  await serve(config)
}
