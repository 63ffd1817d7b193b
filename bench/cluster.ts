// Benchmark, not a test: the whole operator on the local cluster (real kube-apiserver,
// Metacontroller, the hook server; kwok nodes) at a given size. It prints
//   - how long the control plane takes to come up and the nodes to be Ready;
//   - the baseline: how long the DaemonSet the hooks build takes to have every pod Ready when
//     applied directly (API server, DaemonSet controller, scheduler and kwok only);
//   - the operator: how long a GTP5GModule takes from `kubectl apply` to status Installed on
//     every node (adds Metacontroller's watch, our /customize and /sync, its apply, the status);
//   - their ratio, and the resident memory of every component at the end.
//   npm run bench:cluster -- [nodes]        (default 100, at most 1,000)
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { COMPONENTS, LocalCluster } from '../e2e/cluster/cluster.js'
import { CHART, HOOK_NAMESPACE, INSTALLER_NAMESPACE, RELEASE, SAMPLE } from '../e2e/lib/harness.js'
import { toolPath } from '../e2e/lib/tools.js'
import { execFileSync } from 'node:child_process'

const nodes = Number(process.argv[2] ?? 100)
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
const seconds = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`

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

const dir = mkdtempSync(path.join(tmpdir(), 'gtp5g-bench-'))
const cluster = new LocalCluster(dir)
try {
  let t0 = Date.now()
  await cluster.up({ nodes: 0, targetNamespace: INSTALLER_NAMESPACE })
  const upTime = seconds(t0)
  t0 = Date.now()
  await cluster.up({ nodes, targetNamespace: INSTALLER_NAMESPACE })
  const nodesTime = seconds(t0)
  execFileSync(toolPath('helm') as string, ['install', RELEASE, CHART, '-n', HOOK_NAMESPACE, '--create-namespace', '--set', `hooks.url=${await cluster.hooksUrl()}`, '--wait'],
    { env: { ...process.env, ...cluster.helmEnv() }, stdio: 'ignore' })

  // Baseline: the very DaemonSet the hooks would return, applied by hand under another name.
  const res = await fetch(`${await cluster.hooksUrl()}/sync`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ controller: {}, parent: { apiVersion: 'operator.gthulhu.io/v1alpha1', kind: 'GTP5GModule', metadata: { name: 'baseline' }, spec: { version: 'v0.9.14' } }, children: {}, related: {} })
  })
  const ds = ((await res.json()) as { children: Array<Record<string, unknown>> }).children[0] as Record<string, unknown>
  // Twice: the first pass warms the controllers' and the scheduler's caches and is not counted,
  // so baseline and operator both run on a warm cluster.
  let baselineMs = 0
  for (const pass of ['warm-up', 'baseline']) {
    t0 = Date.now()
    await cluster.apply([ds])
    await until(cluster, ['daemonset', '-n', INSTALLER_NAMESPACE, 'gtp5g-installer-baseline'], d => d.status?.numberReady === nodes)
    if (pass === 'baseline') baselineMs = Date.now() - t0
    await cluster.kubectl(['delete', 'daemonset', '-n', INSTALLER_NAMESPACE, 'gtp5g-installer-baseline', '--wait=true'])
    await until(cluster, ['pods', '-n', INSTALLER_NAMESPACE], l => l.items.length === 0)
  }

  t0 = Date.now()
  await cluster.kubectl(['apply', '-f', SAMPLE])
  await until(cluster, ['gtp5gmodule', 'sample'], m => m.status?.phase === 'Installed' && m.status.installed === nodes)
  const operatorMs = Date.now() - t0

  console.log(`local cluster, ${nodes} simulated nodes`)
  console.log(`  control plane up (etcd → hook server)      ${upTime}`)
  console.log(`  ${String(nodes).padStart(4)} nodes created and Ready             ${nodesTime}`)
  console.log(`  baseline: the DaemonSet alone, all Ready   ${(baselineMs / 1000).toFixed(1)} s`)
  console.log(`  operator: GTP5GModule apply → Installed    ${(operatorMs / 1000).toFixed(1)} s`)
  console.log(`  ratio operator / baseline                  ${(operatorMs / baselineMs).toFixed(2)}`)
  let total = 0
  for (const name of COMPONENTS) {
    const rss = rssMiB(cluster.pidOf(name))
    total += rss
    console.log(`  RSS ${name.padEnd(24)} ${rss.toFixed(0).padStart(5)} MiB`)
  }
  console.log(`  RSS total                        ${total.toFixed(0).padStart(5)} MiB`)
} finally {
  await cluster.down({ purge: true })
}
