// Benchmark, not a test: the Node DecoratorController at scale on the local cluster (real
// kube-apiserver and Metacontroller, kwok nodes). It prints, for one GTP5GModule over every node:
//   - the time from `kubectl apply` to every node labelled gtp5g.gthulhu.io/version, and from
//     `kubectl delete` to every label gone;
//   - the Node decorator's hook traffic (calls and request bytes, from the hook server's
//     /metrics) and Metacontroller's CPU time, for the rollout and for one steady minute (one
//     resync period);
//   - what one node sync would carry if the decorator related the installer pods instead of its
//     shard's node lists (every pod, since a customize hook cannot select pods by node): measured
//     pod size times the node count, per node sync.
//   npm run bench:nodelabels -- [nodes]        (default 1000)
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { LABEL_NODE_VERSION } from '../contract/index.js'
import { LocalCluster } from '../e2e/cluster/cluster.js'
import { simulatedNodes } from '../e2e/cluster/nodes.js'
import { CHART, HOOK_NAMESPACE, INSTALLER_NAMESPACE, RELEASE, SAMPLE } from '../test/support/release.js'
import { counter } from '../test/support/metrics.js'
import { toolPath } from '../e2e/cluster/tools.js'
import { setTimeout as sleep } from 'node:timers/promises'

const nodes = Number(process.argv[2] ?? 1000)

/** utime + stime of a process, in seconds (clock ticks of 1/100 s on Linux). */
function cpuSeconds (pid: number | undefined): number {
  if (pid === undefined) return 0
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) / 100
}

const dir = mkdtempSync(path.join(tmpdir(), 'gtp5g-bench-labels-'))
const cluster = new LocalCluster(dir)

async function labelled (): Promise<number> {
  const out = await cluster.kubectl(['get', 'nodes', '-l', `${LABEL_NODE_VERSION}=v0.9.14`, '-o', 'name'])
  return out.split('\n').filter(l => l !== '').length
}

async function installed (): Promise<number> {
  const out = await cluster.kubectl(['get', 'gtp5gmodule', 'sample', '-o', 'jsonpath={.status.installed}']).catch(() => '')
  return Number(out === '' ? 0 : out)
}

/** Waits for `want`; returns when the module's status first counted every node installed, if it did meanwhile. */
async function untilLabelled (want: (n: number) => boolean, what: string): Promise<number | undefined> {
  const deadline = Date.now() + 1_200_000
  let allInstalledAt: number | undefined
  while (Date.now() < deadline) {
    if (allInstalledAt === undefined && await installed() === nodes) allInstalledAt = Date.now()
    if (want(await labelled())) return allInstalledAt
    await sleep(500)
  }
  throw new Error(`gave up after 20 min waiting for ${what} (${await labelled()} labelled)`)
}

interface Sample { calls: number, bytes: number, customize: number, mcCpu: number, hooksCpu: number, at: number }
async function sample (): Promise<Sample> {
  const metrics = await (await fetch(`${await cluster.hooksUrl()}/metrics`)).text()
  return {
    calls: counter(metrics, 'gtp5g_hook_requests_total', { hook: 'node-sync' }),
    bytes: counter(metrics, 'gtp5g_hook_request_bytes_total', { hook: 'node-sync' }),
    customize: counter(metrics, 'gtp5g_hook_requests_total', { hook: 'node-customize' }),
    mcCpu: cpuSeconds(cluster.pidOf('metacontroller')),
    hooksCpu: cpuSeconds(cluster.pidOf('hooks')),
    at: Date.now()
  }
}
function report (what: string, a: Sample, b: Sample): void {
  const calls = b.calls - a.calls
  const mib = (b.bytes - a.bytes) / 1024 / 1024
  console.log(`  ${what.padEnd(34)} ${((b.at - a.at) / 1000).toFixed(1).padStart(7)} s  node-sync calls ${String(calls).padStart(6)}  ` +
    `request ${mib.toFixed(1).padStart(7)} MiB (${calls === 0 ? 0 : ((b.bytes - a.bytes) / calls / 1024).toFixed(1)} KiB/call)  ` +
    `node-customize ${b.customize - a.customize}  CPU Metacontroller ${(b.mcCpu - a.mcCpu).toFixed(1)} s, hooks ${(b.hooksCpu - a.hooksCpu).toFixed(1)} s`)
}

try {
  await cluster.up({ nodes: 0, targetNamespace: INSTALLER_NAMESPACE })
  // The nodes in batches, each waited for with room for a loaded machine (up's own wait is 120 s).
  for (let from = 0; from < nodes; from += 250) {
    const batch = simulatedNodes(Math.min(nodes, from + 250)).slice(from)
    await cluster.apply(batch)
    const deadline = Date.now() + 900_000
    for (;;) {
      const ready = (await cluster.kubectl(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'])).split('\n').filter(l => l === 'True').length
      if (ready >= from + batch.length) break
      if (Date.now() > deadline) throw new Error(`only ${ready} of ${from + batch.length} nodes Ready after 15 min`)
      await sleep(2000)
    }
  }
  execFileSync(toolPath('helm') as string, ['install', RELEASE, CHART, '-n', HOOK_NAMESPACE, '--create-namespace', '--set', `hooks.url=${await cluster.hooksUrl()}`, '--wait'],
    { env: { ...process.env, ...cluster.helmEnv() }, stdio: 'ignore' })
  // Let the decorator's first pass over the unlabelled nodes settle (no node list exists yet).
  await sleep(15_000)
  const idle = await sample()

  await cluster.kubectl(['apply', '-f', SAMPLE])
  const allInstalledAt = await untilLabelled(n => n === nodes, `all ${nodes} nodes labelled`)
  const rolledOut = await sample()
  const module = JSON.parse(await cluster.kubectl(['get', 'gtp5gmodule', 'sample', '-o', 'json'])) as { status: { installedNodes: string[] } }
  const statusBytes = JSON.stringify(module).length

  await sleep(60_000)
  const steady = await sample()

  await cluster.kubectl(['delete', 'gtp5gmodule', 'sample', '--wait=false'])
  await untilLabelled(n => n === 0, 'every label gone')
  const removed = await sample()

  const pods = JSON.parse(await cluster.kubectl(['get', 'pods', '-n', INSTALLER_NAMESPACE, '-o', 'json'])) as { items: unknown[] }
  const podBytes = pods.items.length === 0 ? 0 : JSON.stringify(pods.items[0]).length

  console.log(`local cluster, ${nodes} simulated nodes, one GTP5GModule over all of them; Node decorator resync 60 s`)
  report('apply → every node labelled', idle, rolledOut)
  console.log(`    of which: status counted all ${nodes} installed → every node labelled ${allInstalledAt === undefined ? 'n/a (labelled first)' : `${((rolledOut.at - allInstalledAt) / 1000).toFixed(1)} s`}`)
  report('steady, one resync period', rolledOut, steady)
  report('delete → every label gone', steady, removed)
  console.log(`  the module as Metacontroller posts it: ${(statusBytes / 1024).toFixed(1)} KiB (installedNodes: ${module.status.installedNodes.length} names)`)
  if (podBytes > 0) {
    console.log(`  relating installer pods instead: ${nodes} pods of ${(podBytes / 1024).toFixed(1)} KiB = ${(podBytes * nodes / 1024 / 1024).toFixed(1)} MiB per node sync, ` +
      `${(podBytes * nodes * nodes / 1024 / 1024 / 1024).toFixed(1)} GiB per pass over ${nodes} nodes`)
  }
} finally {
  await cluster.down({ purge: true })
}
