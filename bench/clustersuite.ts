// Section 2 of `npm run bench`: the whole operator on the local cluster (real kube-apiserver,
// real Metacontroller, the hook server; kwok nodes) at one size, beside its floor measured on
// the same warm cluster in the same run: the very DaemonSet the hooks build, applied by hand,
// until every pod is Ready. Also each component's RSS at the end. bench/cluster.ts prints it.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { COMPONENTS, type ComponentName, LocalCluster } from '../e2e/cluster/cluster.js'
import { CHART, HOOK_NAMESPACE, INSTALLER_NAMESPACE, RELEASE, SAMPLE } from '../test/support/release.js'
import { toolPath } from '../e2e/cluster/tools.js'

export interface ClusterRun {
  nodes: number
  /** etcd → hook server, without nodes. */
  upMs: number
  /** The kwok nodes created and Ready. */
  nodesMs: number
  /** Floor: the DaemonSet applied by hand → every pod Ready. */
  baselineMs: number
  /** `kubectl apply` of a GTP5GModule → status Installed on every node. */
  operatorMs: number
  rssMiB: Record<ComponentName, number>
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

async function until (cluster: LocalCluster, args: string[], done: (o: any) => boolean): Promise<void> {
  const deadline = Date.now() + 600_000
  while (Date.now() < deadline) {
    const out = await cluster.kubectl(['get', ...args, '-o', 'json']).catch(() => undefined)
    if (out !== undefined && done(JSON.parse(out))) return
    await sleep(100)
  }
  throw new Error(`gave up after 10 min waiting on kubectl get ${args.join(' ')}`)
}

const rssMiB = (pid: number | undefined): number => {
  if (pid === undefined) return 0
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? 0 : Number(m[1]) / 1024
}

/** One cluster of `nodes` kwok nodes in a directory of its own, always taken down again. */
export async function clusterRun (nodes: number, log: (line: string) => void = () => {}): Promise<ClusterRun> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gtp5g-bench-'))
  const cluster = new LocalCluster(dir)
  try {
    let t0 = Date.now()
    await cluster.up({ nodes: 0, targetNamespace: INSTALLER_NAMESPACE, log })
    const upMs = Date.now() - t0
    t0 = Date.now()
    await cluster.up({ nodes, targetNamespace: INSTALLER_NAMESPACE, log })
    const nodesMs = Date.now() - t0
    execFileSync(toolPath('helm') as string, ['install', RELEASE, CHART, '-n', HOOK_NAMESPACE, '--create-namespace', '--set', `hooks.url=${await cluster.hooksUrl()}`, '--wait'],
      { env: { ...process.env, ...cluster.helmEnv() }, stdio: 'ignore' })

    // The floor: the very DaemonSet the hooks would return, applied by hand under another name.
    const res = await fetch(`${await cluster.hooksUrl()}/sync`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ controller: {}, parent: { apiVersion: 'operator.gthulhu.io/v1alpha1', kind: 'GTP5GModule', metadata: { name: 'baseline' }, spec: { version: 'v0.9.14' } }, children: {}, related: {} })
    })
    const ds = ((await res.json()) as { children: Array<Record<string, unknown>> }).children[0] as Record<string, unknown>
    // Twice: the first pass warms the controllers' and the scheduler's caches and is not counted,
    // so floor and operator both run on a warm cluster.
    let baselineMs = 0
    for (const pass of ['warm-up', 'baseline']) {
      log(`cluster ${nodes}: DaemonSet by hand (${pass})`)
      t0 = Date.now()
      await cluster.apply([ds])
      await until(cluster, ['daemonset', '-n', INSTALLER_NAMESPACE, 'gtp5g-installer-baseline'], d => d.status?.numberReady === nodes)
      if (pass === 'baseline') baselineMs = Date.now() - t0
      await cluster.kubectl(['delete', 'daemonset', '-n', INSTALLER_NAMESPACE, 'gtp5g-installer-baseline', '--wait=true'])
      await until(cluster, ['pods', '-n', INSTALLER_NAMESPACE], l => l.items.length === 0)
    }

    log(`cluster ${nodes}: GTP5GModule apply → Installed`)
    t0 = Date.now()
    await cluster.kubectl(['apply', '-f', SAMPLE])
    await until(cluster, ['gtp5gmodule', 'sample'], m => m.status?.phase === 'Installed' && m.status.installed === nodes)
    const operatorMs = Date.now() - t0
    const rss = Object.fromEntries(COMPONENTS.map(name => [name, rssMiB(cluster.pidOf(name))])) as Record<ComponentName, number>
    return { nodes, upMs, nodesMs, baselineMs, operatorMs, rssMiB: rss }
  } finally {
    await cluster.down({ purge: true })
  }
}
