// The installer rollout of one module: which nodes should run the installer, the DaemonSet we
// want on them, and how far each node has got with it (its pods against that DaemonSet's
// template). The first half of every sync; everything is derived from the request alone.
import { type Action, LABEL_MODULE, labelValue } from '../../contract/index.js'
import type { GTP5GModuleSpec } from './api.js'
import type { HookConfig } from './config.js'
import { type Contest, resolveConflicts } from './conflicts.js'
import { buildDaemonSet, exclusionFits, tolerationsOf } from './daemonset.js'
import { type KubeObject, labelOf, metaOf, nameOf, type Node, type Pod } from './k8s.js'
import { MODULE_KEY, NODE_KEY, objectsOf, POD_KEY, type SyncRequest } from './metacontroller.js'
import { currentPodsState, podsByNode } from './nodestate.js'
import { currentPods } from './pods.js'
import { matchesSelector, toleratesNode } from './scheduling.js'
import type { NodeTally } from './status.js'

interface InstallerRollout {
  /** The installer DaemonSet to apply. */
  daemonSet: KubeObject
  tally: NodeTally
  contested: Contest[]
  /**
   * More contested nodes than node affinity can keep off (see MAX_EXCLUSION_BYTES): `daemonSet`
   * must not be applied, or the newer module's pods would land on nodes an older module owns.
   */
  tooManyContested: boolean
}

const byName = (a: string, b: string): number => a < b ? -1 : a > b ? 1 : 0

/** Objects with a string name, the first of each name: a node without one cannot exist, and two entries for one node would count it twice. */
function uniquelyNamed (objects: readonly KubeObject[]): KubeObject[] {
  const seen = new Set<string>()
  return objects.filter(o => {
    const name = nameOf(o)
    if (name === undefined || seen.has(name)) return false
    seen.add(name)
    return true
  })
}

/** The installer DaemonSet for `spec` and `action`, and each desired node's state against it. */
export function installerRollout (req: SyncRequest, spec: GTP5GModuleSpec, config: HookConfig, action: Action): InstallerRollout {
  const moduleName = req.parent.metadata.name
  // Metacontroller already filtered by the selector we gave in customize; filter again because
  // the spec may have changed since, and related objects may lag behind.
  const selected = uniquelyNamed(objectsOf(req.related, NODE_KEY)).filter(n => matchesSelector(metaOf(n).labels, spec.nodeSelector)) as Node[]
  const { owned, contested } = resolveConflicts(req.parent, selected, objectsOf(req.related, MODULE_KEY))
  const desired = owned.filter(n => toleratesNode(tolerationsOf(spec, config), n)).map(n => nameOf(n) ?? '').sort(byName)
  const excludedNodes = contested.map(c => c.node)
  const { daemonSet, templateHash } = buildDaemonSet({ moduleName, spec, config, action, excludedNodes })

  const mine = labelValue(moduleName)
  const pods = (objectsOf(req.related, POD_KEY) as Pod[])
    .filter(p => labelOf(p, LABEL_MODULE) === mine && (metaOf(p).namespace ?? config.targetNamespace) === config.targetNamespace)
  const onNode = podsByNode(pods)
  const tally: NodeTally = { desired: desired.length, nodes: desired, done: [], failed: [], scheduled: 0, reached: [] }
  for (const node of desired) {
    const podsHere = onNode.get(node) ?? []
    if (podsHere.length > 0) tally.scheduled++
    const current = currentPods(podsHere, templateHash)
    if (current.length > 0) tally.reached.push(node)
    const state = currentPodsState(current)
    if (state.state === 'done') tally.done.push(node)
    else if (state.state === 'failed') tally.failed.push({ nodeName: node, reason: state.reason, message: state.message })
  }
  return { daemonSet, tally, contested: contested.sort((a, b) => byName(a.node, b.node)), tooManyContested: !exclusionFits(excludedNodes) }
}
