#!/usr/bin/env node
// The scheduling agent's process shell: env, logger, clock, signals, the state file the
// readiness probe reads, exit codes and the termination message. Decisions live in run.ts.
//   scheduling-agent [run]   keep the strategies (GTHULHU_AGENT_MODE=apply) or remove them (cleanup)
//   scheduling-agent check   the readiness probe: exit 0 when the last report was ready
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { pino } from 'pino'
import { exitWithTerminationMessage } from '../contract/termination.js'
import { type AgentConfig, parseAgentConfig } from './config.js'
import { httpManager } from './manager.js'
import { runAgent } from './run.js'
import { AgentFailure, type Credentials } from './session.js'
import { check, writeReport } from './state.js'

const log = pino({ base: { component: 'scheduling-agent' } })

async function fail (error: unknown, terminationLog: string): Promise<never> {
  const reason = error instanceof AgentFailure ? error.reason : 'InternalError'
  const message = error instanceof Error ? error.message : String(error)
  return await exitWithTerminationMessage(log, terminationLog, reason, message, 'scheduling agent')
}

async function credentialsFrom (dir: string): Promise<Credentials> {
  const read = async (key: string): Promise<string> => {
    try {
      return (await readFile(path.join(dir, key), 'utf8')).replace(/\r?\n$/, '')
    } catch {
      throw new AgentFailure('AuthFailed', `the credentials Secret has no "${key}" key (looked for ${path.join(dir, key)})`)
    }
  }
  return { username: await read('username'), password: await read('password') }
}

async function run (config: AgentConfig): Promise<void> {
  const controller = new AbortController()
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    // Stop without touching the Manager: a restarted pod must not take scheduling away.
    process.once(signal, () => { log.info({ signal }, 'stopping'); controller.abort() })
  }
  let lastReport = ''
  await runAgent({
    owner: config.owner,
    mode: config.mode,
    rules: config.rules,
    resyncSeconds: config.resyncSeconds,
    unreachableExitSeconds: config.unreachableExitSeconds
  }, {
    api: httpManager(config.managerUrl),
    credentials: async () => await credentialsFrom(config.credentialsDir),
    now: Date.now,
    sleep: async ms => await new Promise<void>(resolve => {
      const timer = setTimeout(resolve, ms)
      controller.signal.addEventListener('abort', () => { clearTimeout(timer); resolve() }, { once: true })
    }),
    report: async report => {
      const text = JSON.stringify(report)
      if (text === lastReport) return
      lastReport = text
      log.info(report, 'report')
      await writeReport(config.stateDir, report)
    },
    log: (event, fields) => { log.info(fields ?? {}, event) },
    stopped: () => controller.signal.aborted
  })
}

async function main (): Promise<void> {
  let config: AgentConfig
  try {
    config = parseAgentConfig(process.argv.slice(2), process.env)
  } catch (error) {
    // A probe must not write the container's termination message.
    if (process.argv[2] === 'check') process.exit(1)
    return await fail(error, parseAgentConfig(['check'], process.env).terminationLog)
  }
  if (config.command === 'check') process.exit(await check(config.stateDir) ? 0 : 1)
  log.info({ managerUrl: config.managerUrl, owner: config.owner, mode: config.mode, rules: config.rules.map(r => r.name) }, 'scheduling agent starting')
  try {
    await run(config)
  } catch (error) {
    await fail(error, config.terminationLog)
  }
  process.exit(0)
}

await main()
