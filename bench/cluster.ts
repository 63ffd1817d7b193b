// Benchmark, not a test: the whole operator on the local cluster (real kube-apiserver,
// Metacontroller, the hook server; kwok nodes) at a given size. It prints
//   - how long the control plane takes to come up and the nodes to be Ready;
//   - the baseline: how long the DaemonSet the hooks build takes to have every pod Ready when
//     applied directly (API server, DaemonSet controller, scheduler and kwok only), and then to
//     roll out a version change;
//   - the operator: how long a GTP5GModule takes from `kubectl apply` to status Installed on
//     every node (adds Metacontroller's watch, our /customize and /sync, its apply, the status),
//     and from a `spec.version` change to Installed at it on every node;
//   - their ratios; the hook calls and status writes per minute once converged; /sync latency
//     as Metacontroller and the hook server time it; the status object's size; what
//     `kubectl get` and `kubectl describe` show; the resident memory of every component.
// `npm run bench -- --cluster=…` puts the same figures in docs/benchmarks.md (clustersuite.ts).
//   npm run bench:cluster -- [nodes] [--no-node-labels] [--save=FILE]
//     nodes: default 100; 5,000 takes tens of minutes on two cores. --no-node-labels installs the
//     chart without its Node decorator (nodeLabels.enabled=false), to see what the labels cost.
//     --save=FILE keeps the run, with its command, date and commit, for the report
//     (`npm run bench -- --cluster-runs=FILE`, lib/savedrun.ts).
import { parseArgs } from 'node:util'
import { COMPONENTS } from '../e2e/cluster/cluster.js'
import { excerpt } from './clustersection.js'
import { clusterRun, ETCD_MAX_REQUEST_BYTES, FROM_VERSION, TO_VERSION } from './clustersuite.js'
import { runSource, saveRun } from './lib/savedrun.js'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'no-node-labels': { type: 'boolean', default: false }, save: { type: 'string' } }
})
const nodes = Number(positionals[0] ?? 100)
if (!Number.isInteger(nodes) || nodes < 1) throw new Error(`nodes: "${positionals[0] ?? ''}" is not a node count`)
const nodeLabels = values['no-node-labels'] !== true
const source = runSource(`npm run bench:cluster -- ${nodes}${nodeLabels ? '' : ' --no-node-labels'}`, nodeLabels)
const run = await clusterRun(nodes, { log: line => { console.error(line) }, nodeLabels })
if (values.save !== undefined) {
  saveRun(values.save, source, run)
  console.error(`saved the run to ${values.save}`)
}
const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`
const ms = (v: number): string => `${v.toFixed(1)} ms`
const perMin = (n: number): string => (n * 60 / run.converged.seconds).toFixed(1)
console.log(`local cluster, ${nodes} simulated nodes${nodeLabels ? '' : ', chart without the Node decorator (nodeLabels.enabled=false)'}`)
console.log(`  control plane up (etcd → hook server)      ${s(run.upMs)}`)
console.log(`  ${String(nodes).padStart(4)} nodes created and Ready             ${s(run.nodesMs)}`)
console.log(`  baseline: the DaemonSet alone, all Ready   ${s(run.baselineMs)}`)
console.log(`  operator: GTP5GModule apply → Installed    ${s(run.operatorMs)}`)
console.log(`  ratio operator / baseline                  ${(run.operatorMs / run.baselineMs).toFixed(2)}`)
console.log(`  baseline: ${FROM_VERSION} → ${TO_VERSION}, rollout complete  ${s(run.baselineRolloutMs)}`)
console.log(`  operator: ${FROM_VERSION} → ${TO_VERSION}, Installed at it   ${s(run.operatorRolloutMs)}`)
console.log(`  ratio operator / baseline                  ${(run.operatorRolloutMs / run.baselineRolloutMs).toFixed(2)}`)
console.log(`  once converged (${run.converged.seconds} s), per minute: /sync ${perMin(run.converged.syncs)}, /customize ${perMin(run.converged.customizes)}, /node-sync ${perMin(run.converged.nodeSyncs)}, status writes ${perMin(run.converged.statusWrites)}`)
console.log(`  /sync by Metacontroller's clock   ${run.metacontrollerSync.count} calls, mean ${ms(run.metacontrollerSync.meanMs)}, p50 ${ms(run.metacontrollerSync.p50Ms)}, p99 ${ms(run.metacontrollerSync.p99Ms)}`)
console.log(`  /sync by the hook server's clock  ${run.hookSync.count} calls, mean ${ms(run.hookSync.meanMs)}, p50 ${ms(run.hookSync.p50Ms)}, p99 ${ms(run.hookSync.p99Ms)}`)
console.log(`  .status ${(run.statusBytes / 1024).toFixed(1)} KiB, whole object ${(run.objectBytes / 1024).toFixed(1)} KiB (etcd's limit ${(ETCD_MAX_REQUEST_BYTES / 1024).toFixed(0)} KiB)`)
console.log(`  Metacontroller API requests/s: ${run.metacontrollerApiRps.apply.toFixed(1)} during apply → Installed, ${run.metacontrollerApiRps.rollout.toFixed(1)} during the rollout`)
for (const [phase, c] of Object.entries(run.phaseCalls)) console.log(`  during ${phase}: /sync ${c.syncs} calls (${c.syncMiB.toFixed(1)} MiB sent), /node-sync ${c.nodeSyncs} calls (${c.nodeSyncMiB.toFixed(1)} MiB sent)`)
let total = 0
for (const name of COMPONENTS) {
  total += run.rssMiB[name]
  console.log(`  RSS ${name.padEnd(24)} ${run.rssMiB[name].toFixed(0).padStart(5)} MiB`)
}
console.log(`  RSS total                        ${total.toFixed(0).padStart(5)} MiB`)
for (const name of COMPONENTS) console.log(`  CPU ${name.padEnd(24)} ${run.cpuSeconds[name].toFixed(0).padStart(5)} s`)
console.log(excerpt('kubectl get gtp5gmodule', run.kubectlGet, 4))
console.log(excerpt('kubectl describe gtp5gmodule sample', run.kubectlDescribe, 30))
