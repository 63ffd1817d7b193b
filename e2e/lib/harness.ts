// What the e2e scenarios need from a cluster, behind one interface so the suite runs against
// either kind of cluster:
//   - local (default): e2e/cluster's processes in a fresh directory, the hook server a local
//     process that the chart's `hooks.url` points Metacontroller at, simulated kwok nodes;
//   - external (E2E_KUBECONFIG set, e.g. e2e/kind/run.sh): any cluster where Metacontroller and
//     this chart (in-cluster hook server) are installed already and installer pods really run.
// No tap import: the demo uses this file too.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { InstallerReason } from '../../contract/index.js'
import { LocalCluster, missingPrerequisite } from '../cluster/cluster.js'
import type { FaultMode } from '../cluster/stages.js'
import { toolPath } from '../cluster/tools.js'
import { runTool } from '../cluster/loopback.js'
import { HOOK_NAMESPACE, INSTALLER_NAMESPACE, RELEASE } from '../../test/support/release.js'

export interface Harness {
  readonly kind: 'local' | 'external'
  readonly kubeconfig: string
  /** Where the local hook server listens (Metacontroller is pointed at it by the chart's hooks.url). */
  readonly hooksUrl?: string
  kubectl: (args: readonly string[], input?: string) => Promise<string>
  helm: (args: readonly string[]) => Promise<string>
  /** Simulated nodes that may be given faults; undefined where nodes are real. */
  setNodeFault?: (node: string, fault?: { reason: InstallerReason, message: string, mode?: FaultMode }) => Promise<void>
  /** Kills the hook server without warning and starts it again. */
  crashHookServer: () => Promise<void>
  restartMetacontroller: () => Promise<void>
  /** Prometheus text of the hook server's /metrics. */
  hookMetrics: () => Promise<string>
  /** Tears the cluster down; after a failure, prints the end of every component's log first. */
  stop: (options?: { failed?: boolean }) => Promise<void>
}

function execTool (bin: string, env: Record<string, string>) {
  return async (args: readonly string[], input?: string): Promise<string> => await runTool(bin, args, { env: { ...process.env, ...env }, input })
}

/** Why the suite cannot run here (it is then skipped, with this reason), or undefined. */
export function whyNot (): string | undefined {
  return process.env.E2E_KUBECONFIG !== undefined ? undefined : missingPrerequisite()
}

/** Starts a local cluster in a directory of its own (or attaches to E2E_KUBECONFIG's). */
export async function startHarness (options: { nodes?: number, name?: string, log?: (line: string) => void, realNode?: boolean } = {}): Promise<Harness> {
  const external = process.env.E2E_KUBECONFIG
  if (external !== undefined) return externalHarness(external)
  const dir = mkdtempSync(path.join(tmpdir(), `gtp5g-${options.name ?? 'e2e'}-`))
  const cluster = new LocalCluster(dir)
  try {
    await cluster.up({ nodes: options.nodes ?? 3, targetNamespace: INSTALLER_NAMESPACE, log: options.log, realNode: options.realNode })
  } catch (error) {
    await cluster.down()
    throw error
  }
  const helm = execTool(toolPath('helm') as string, cluster.helmEnv())
  return {
    kind: 'local',
    kubeconfig: cluster.kubeconfigPath,
    hooksUrl: await cluster.hooksUrl(),
    kubectl: async (args, input) => await cluster.kubectl(args, input),
    helm,
    setNodeFault: async (node, fault) => { await cluster.setNodeFault(node, fault) },
    crashHookServer: async () => {
      await cluster.kill('hooks')
      await cluster.start('hooks')
    },
    restartMetacontroller: async () => {
      await cluster.stop('metacontroller')
      await cluster.start('metacontroller')
    },
    hookMetrics: async () => await (await fetch(`${await cluster.hooksUrl()}/metrics`)).text(),
    stop: async (options = {}) => {
      if (options.failed === true) {
        for (const c of cluster.status()) console.error(`# ---- ${c.name} (${c.log}) ----\n${cluster.logTail(c.name, 30)}`)
      }
      // Keep the directory (logs) when asked to; CI machines are reused, so purge by default.
      await cluster.down({ purge: process.env.E2E_KEEP !== '1' })
    }
  }
}

function externalHarness (kubeconfig: string): Harness {
  const kubectlBin = toolPath('kubectl') ?? 'kubectl'
  const kubectl = execTool(kubectlBin, { KUBECONFIG: kubeconfig })
  const hookSelector = `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=hook-server`
  return {
    kind: 'external',
    kubeconfig,
    kubectl,
    helm: execTool(toolPath('helm') ?? 'helm', { KUBECONFIG: kubeconfig }),
    crashHookServer: async () => {
      await kubectl(['delete', 'pods', '-n', HOOK_NAMESPACE, '-l', hookSelector, '--grace-period=0', '--force'])
      await kubectl(['rollout', 'status', '-n', HOOK_NAMESPACE, `deployment/${RELEASE}`, '--timeout=180s'])
    },
    restartMetacontroller: async () => {
      await kubectl(['rollout', 'restart', '-n', 'metacontroller', 'statefulset/metacontroller'])
      await kubectl(['rollout', 'status', '-n', 'metacontroller', 'statefulset/metacontroller', '--timeout=180s'])
    },
    hookMetrics: async () => await kubectl(['get', '--raw', `/api/v1/namespaces/${HOOK_NAMESPACE}/services/http:${RELEASE}:8080/proxy/metrics`]),
    stop: async () => {}
  }
}
