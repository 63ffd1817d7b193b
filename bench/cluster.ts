// Benchmark, not a test: the whole operator on the local cluster (real kube-apiserver,
// Metacontroller, the hook server; kwok nodes) at a given size. It prints
//   - how long the control plane takes to come up and the nodes to be Ready;
//   - the baseline: how long the DaemonSet the hooks build takes to have every pod Ready when
//     applied directly (API server, DaemonSet controller, scheduler and kwok only);
//   - the operator: how long a GTP5GModule takes from `kubectl apply` to status Installed on
//     every node (adds Metacontroller's watch, our /customize and /sync, its apply, the status);
//   - their ratio, and the resident memory of every component at the end.
// `npm run bench -- --cluster=…` puts the same figures in docs/benchmarks.md (clustersuite.ts).
//   npm run bench:cluster -- [nodes]        (default 100, at most 1,000)
import { COMPONENTS } from '../e2e/cluster/cluster.js'
import { clusterRun } from './clustersuite.js'

const nodes = Number(process.argv[2] ?? 100)
const run = await clusterRun(nodes)
const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`
console.log(`local cluster, ${nodes} simulated nodes`)
console.log(`  control plane up (etcd → hook server)      ${s(run.upMs)}`)
console.log(`  ${String(nodes).padStart(4)} nodes created and Ready             ${s(run.nodesMs)}`)
console.log(`  baseline: the DaemonSet alone, all Ready   ${s(run.baselineMs)}`)
console.log(`  operator: GTP5GModule apply → Installed    ${s(run.operatorMs)}`)
console.log(`  ratio operator / baseline                  ${(run.operatorMs / run.baselineMs).toFixed(2)}`)
let total = 0
for (const name of COMPONENTS) {
  total += run.rssMiB[name]
  console.log(`  RSS ${name.padEnd(24)} ${run.rssMiB[name].toFixed(0).padStart(5)} MiB`)
}
console.log(`  RSS total                        ${total.toFixed(0).padStart(5)} MiB`)
