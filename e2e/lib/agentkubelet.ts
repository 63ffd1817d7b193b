// The kubelet's part for the scheduling agent's pods on the local cluster, whose kwok nodes run
// nothing: for each agent pod the scheduler placed, start the agent's REAL entrypoint
// (dist/agent/main.js, what /usr/local/bin/scheduling-agent execs in the image) as a process,
// with exactly the pod's command arguments and env, the pod's Secret written as files the way
// the kubelet mounts it, and its own state dir and termination-message file. Then report as the
// kubelet does, through the pod's status subresource: Ready from the agent's own readiness
// check, `terminated` with the termination message when it exits, a restart with lastState.
// Paths are the only env this changes (the credentials, state and termination-log locations).
// On a real node (the qemu kubelet of the real-node issue) the same pod runs in the operator
// image, and its kubelet writes the same status; this stand-in then goes away.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { AGENT_CONTAINER, AGENT_ENV, ENV_TERMINATION_LOG, LABEL_AGENT } from '../../contract/index.js'
import { check } from '../../agent/state.js'
import { REPO } from '../cluster/cluster.js'
import type { Harness } from './harness.js'
import type { Obj } from './kube.js'

const ENTRYPOINT = path.join(REPO, 'dist/agent/main.js')
/** Like the kubelet's first CrashLoopBackOff step, shortened: the suite waits for it. */
const RESTART_DELAY_MS = 2_000
const PERIOD_MS = 1_000

interface Running {
  uid: string
  name: string
  child: ChildProcess | undefined
  dir: string
  restarts: number
  lastTerminated: Record<string, unknown> | undefined
  terminated: Record<string, unknown> | undefined
  ready: boolean
  startedAt: string
  restartAt: number | undefined
  lastStatus: string
  /** The agent's stdout and stderr, for the suite to read. */
  output: string[]
  container?: Record<string, any>
}

export class AgentKubelet {
  private readonly pods = new Map<string, Running>()
  private timer: NodeJS.Timeout | undefined
  private busy = false
  private stopped = false

  constructor (private readonly h: Pick<Harness, 'kubectl'>, private readonly namespace: string, private readonly dir: string) {}

  start (): void {
    this.timer = setInterval(() => { this.tick().catch(() => {}) }, PERIOD_MS)
  }

  /** The agent processes now running. */
  running (): Running[] { return [...this.pods.values()].filter(p => p.child !== undefined && p.child.exitCode === null) }
  all (): Running[] { return [...this.pods.values()] }

  private async tick (): Promise<void> {
    if (this.busy || this.stopped) return
    this.busy = true
    try {
      const items = (JSON.parse(await this.h.kubectl(['get', 'pods', '-n', this.namespace, '-l', LABEL_AGENT, '-o', 'json'])) as { items: Obj[] }).items
      const seen = new Set<string>()
      for (const pod of items) {
        const uid = pod.metadata.uid ?? ''
        seen.add(uid)
        const known = this.pods.get(uid)
        if (pod.metadata.deletionTimestamp !== undefined) {
          // The kubelet stops the container (SIGTERM); kwok's stock stage finishes the deletion.
          if (known !== undefined) this.kill(known)
          continue
        }
        if (pod.spec?.nodeName === undefined) continue
        if (known === undefined) await this.launch(pod)
        else await this.report(pod, known)
      }
      for (const [uid, r] of this.pods) if (!seen.has(uid)) this.kill(r)
    } catch {
      // the next tick tries again (the API server may be busy)
    } finally {
      this.busy = false
    }
  }

  private async launch (pod: Obj): Promise<void> {
    const container = (pod.spec.containers as Array<Record<string, any>>).find(c => c.name === AGENT_CONTAINER)
    if (container === undefined) return
    const dir = path.join(this.dir, pod.metadata.uid ?? pod.metadata.name)
    const credentials = path.join(dir, 'credentials')
    const state = path.join(dir, 'state')
    mkdirSync(credentials, { recursive: true })
    mkdirSync(state, { recursive: true })
    // The Secret volume, as the kubelet projects it: one file per key.
    const volume = (pod.spec.volumes as Array<Record<string, any>>).find(v => v.name === 'credentials')
    const secret = JSON.parse(await this.h.kubectl(['get', 'secret', '-n', this.namespace, volume?.secret?.secretName, '-o', 'json'])) as { data?: Record<string, string> }
    for (const [key, value] of Object.entries(secret.data ?? {})) writeFileSync(path.join(credentials, key), Buffer.from(value, 'base64'))
    const r: Running = {
      uid: pod.metadata.uid ?? '',
      name: pod.metadata.name,
      child: undefined,
      dir,
      restarts: 0,
      lastTerminated: undefined,
      terminated: undefined,
      ready: false,
      startedAt: '',
      restartAt: undefined,
      lastStatus: '',
      output: []
    }
    this.pods.set(r.uid, r)
    this.exec(r, container)
    await this.report(pod, r)
  }

  private exec (r: Running, container: Record<string, any>): void {
    const env: Record<string, string> = {}
    for (const e of container.env as Array<{ name: string, value?: string }>) env[e.name] = e.value ?? ''
    env[AGENT_ENV.credentialsDir] = path.join(r.dir, 'credentials')
    env[AGENT_ENV.stateDir] = path.join(r.dir, 'state')
    env[ENV_TERMINATION_LOG] = path.join(r.dir, 'termination-log')
    rmSync(env[ENV_TERMINATION_LOG], { force: true })
    rmSync(path.join(r.dir, 'state', 'state.json'), { force: true })
    const child = spawn(process.execPath, [ENTRYPOINT, ...((container.args as string[] | undefined) ?? [])], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const keep = (chunk: Buffer): void => { r.output.push(...chunk.toString().split('\n').filter(l => l !== '')); if (r.output.length > 2000) r.output.splice(0, r.output.length - 2000) }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    r.child = child
    r.startedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
    r.terminated = undefined
    r.ready = false
    child.on('exit', (code, signal) => {
      if (this.stopped || r.restartAt === -1) return
      let message = ''
      try { message = readFileSync(env[ENV_TERMINATION_LOG] as string, 'utf8') } catch { message = r.output.slice(-20).join('\n') }
      r.terminated = { exitCode: code ?? 137, reason: code === 0 ? 'Completed' : 'Error', message, startedAt: r.startedAt, finishedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), ...(signal === null ? {} : { signal: 9 }) }
      r.ready = false
      r.restartAt = Date.now() + RESTART_DELAY_MS
    })
    r.restartAt = undefined
    r.container = container
  }

  private kill (r: Running): void {
    r.restartAt = -1
    if (r.child !== undefined && r.child.exitCode === null) r.child.kill('SIGTERM')
  }

  private async report (pod: Obj, r: Running): Promise<void> {
    if (r.restartAt !== undefined && r.restartAt !== -1 && Date.now() >= r.restartAt && r.container !== undefined) {
      // restartPolicy Always: the same container again, the last run's end in lastState.
      r.lastTerminated = r.terminated
      r.restarts++
      this.exec(r, r.container)
    }
    if (r.child !== undefined && r.child.exitCode === null) r.ready = await check(path.join(r.dir, 'state'))
    const running = r.child !== undefined && r.child.exitCode === null
    const state = running
      ? { running: { startedAt: r.startedAt } }
      : r.restarts > 0 || r.terminated !== undefined
        ? (r.restartAt !== undefined && r.restartAt !== -1 && r.restarts > 0
            ? { waiting: { reason: 'CrashLoopBackOff', message: `back-off restarting failed container=${AGENT_CONTAINER} pod=${r.name}` } }
            : { terminated: r.terminated })
        : { waiting: { reason: 'ContainerCreating' } }
    const status = {
      phase: 'Running',
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(type => ({
        type, status: type === 'Ready' || type === 'ContainersReady' ? (r.ready ? 'True' : 'False') : 'True'
      })),
      containerStatuses: [{
        name: AGENT_CONTAINER,
        image: (pod.spec.containers[0] as { image: string }).image,
        imageID: '',
        ready: r.ready,
        started: running,
        restartCount: r.restarts,
        state,
        ...(r.lastTerminated === undefined ? {} : { lastState: { terminated: r.lastTerminated } })
      }]
    }
    const text = JSON.stringify(status)
    if (text === r.lastStatus) return
    await this.h.kubectl(['patch', 'pod', '-n', this.namespace, r.name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })])
    r.lastStatus = text
  }

  async stop (): Promise<void> {
    this.stopped = true
    if (this.timer !== undefined) clearInterval(this.timer)
    await Promise.all([...this.pods.values()].map(async r => {
      if (r.child === undefined || r.child.exitCode !== null) return
      const exited = new Promise<void>(resolve => r.child?.once('exit', () => { resolve() }))
      r.child.kill('SIGTERM')
      await exited
    }))
  }
}
