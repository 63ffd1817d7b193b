// The Node labels: which gtp5g version a node carries. Two halves, both pure:
//
//   - the module's sync lists where its gtp5g is loaded, node by node with the version, in
//     ConfigMaps of the installer namespace, one per shard of node names (nodeVersions,
//     nodeListConfigMaps, children of the module);
//   - the Node decorator relates, for each node, only the ConfigMaps of that node's shard and
//     labels the node from them (nodeCustomize, nodeSync).
//
// Why shards: Metacontroller re-syncs every parent whose related objects changed. When the
// decorator related the modules themselves, each status write of a module re-synced every node,
// and each of those syncs carried every installed node's name: N syncs of N names per status
// write. Now a status write changes only the shards whose nodes changed, which re-syncs only their
// nodes, each with about N/256 names. Installer pods are never related: a customize hook cannot
// select them by node, so each node would receive every pod.
import {
  childLabels, LABEL_NODE_SHARD, LABEL_NODE_VERSION, LABEL_VALUE_MAX, nodeListName, nodeShard, versionRegExp
} from '../../contract/index.js'
import type { GTP5GModuleStatus } from './api.js'
import type { HookConfig } from './config.js'
import type { NodeTally } from './status.js'
import { isObject, type KubeObject, metaOf, str } from './k8s.js'
import {
  CONFIGMAP_KEY, type CustomizeRequest, type NodeCustomizeResponse, type NodeSyncRequest, type NodeSyncResponse, objectsOf
} from './metacontroller.js'
import { createdAt, olderFirst } from './conflicts.js'
import { matchesSelector } from './scheduling.js'
import { asSelector } from './spec.js'

export function nodeCustomize (req: CustomizeRequest, config: HookConfig): NodeCustomizeResponse {
  return {
    relatedResources: [{
      apiVersion: 'v1',
      resource: 'configmaps',
      namespace: config.targetNamespace,
      labelSelector: { matchLabels: { [LABEL_NODE_SHARD]: nodeShard(req.parent.metadata.name) } }
    }]
  }
}

/**
 * A node list's data. All strings, as a ConfigMap's data must be. Besides the keys below, one
 * `nodes.<version>` key per version loaded on the shard's nodes: their sorted names, one per
 * line. One version in steady state; two or more while a rollout replaces a version node by node.
 */
interface NodeListCommon {
  /** The module's full name (its label value may be cut and hashed). */
  module: string
  /** The module's creationTimestamp: the oldest module wins a node two of them list. */
  created: string
  /** The module's node selector as JSON: a node that stops matching loses its label at once. */
  nodeSelector: string
}

const NODES_KEY_PREFIX = 'nodes.'

/** A version the lists may name: a label value (and so a valid ConfigMap key after `nodes.`). */
function labelableVersion (version: string): boolean {
  return version.length <= LABEL_VALUE_MAX && versionRegExp.test(version)
}

/** The versions a node list names, each with its nodes; keys that are no `nodes.<version>` are skipped. */
function listedNodes (list: KubeObject): Array<{ version: string, nodes: string[] }> {
  const data = isObject(list.data) ? list.data : {}
  return Object.keys(data).sort().flatMap(key => {
    const version = key.slice(NODES_KEY_PREFIX.length)
    const nodes = str(data[key])
    if (!key.startsWith(NODES_KEY_PREFIX) || !labelableVersion(version) || nodes === undefined) return []
    return [{ version, nodes: nodes.split('\n') }]
  })
}

/**
 * Where this module's gtp5g is loaded, node by node, for its node lists. The nodes of
 * `status.installedNodes` carry `status.version`. A node that a rollout (a new version, or a new
 * template) has not finished on keeps the version its list already gave it (`listed`, the
 * module's observed lists): the installer being replaced does not unload on its way out, and the
 * new one replaces the module only when it loads its own (design.md, installer flow). So the
 * label does not leave every node of a module for the length of its upgrade. A kept node loses
 * its version when its new installer fails, when it leaves the module's nodes, and when it was
 * listed at the version an installer of the current template is now not ready for (a node that
 * rebooted: nothing may be loaded there). None while the module unloads: the label must not
 * promise a module that is going away.
 */
export function nodeVersions (status: GTP5GModuleStatus, tally: NodeTally, listed: readonly KubeObject[]): Map<string, string> {
  const versions = new Map<string, string>()
  if (status.phase === 'Unloading' || status.version === undefined || status.installedNodes === undefined) return versions
  const desired = new Set(tally.nodes)
  const failed = new Set(tally.failed.map(f => f.nodeName))
  const reached = new Set(tally.reached)
  for (const list of listed) {
    for (const { version, nodes } of listedNodes(list)) {
      for (const node of nodes) {
        const replaced = version === status.version && reached.has(node)
        if (desired.has(node) && !failed.has(node) && !replaced && !versions.has(node)) versions.set(node, version)
      }
    }
  }
  for (const node of status.installedNodes) versions.set(node, status.version)
  return versions
}

/**
 * The ConfigMaps that list where this module's gtp5g is loaded (nodeVersions), one per shard that
 * has such a node (so a shard whose nodes are all gone is deleted by Metacontroller). A version
 * that could not be a label value is never listed.
 */
export function nodeListConfigMaps (module: KubeObject & { metadata: { name: string } }, nodeSelector: Record<string, string>, versions: ReadonlyMap<string, string>, config: HookConfig): KubeObject[] {
  const byShard = new Map<string, Map<string, string[]>>()
  for (const [node, version] of versions) {
    if (!labelableVersion(version)) continue
    const shard = nodeShard(node)
    let shardVersions = byShard.get(shard)
    if (shardVersions === undefined) byShard.set(shard, shardVersions = new Map())
    const names = shardVersions.get(version)
    if (names === undefined) shardVersions.set(version, [node])
    else names.push(node)
  }
  const moduleName = module.metadata.name
  const common: NodeListCommon = {
    module: moduleName,
    created: str(metaOf(module).creationTimestamp) ?? '',
    nodeSelector: JSON.stringify(nodeSelector)
  }
  return [...byShard.keys()].sort().map(shard => {
    const shardVersions = byShard.get(shard) ?? new Map<string, string[]>()
    const data: Record<string, string> = { ...common }
    for (const version of [...shardVersions.keys()].sort()) data[`${NODES_KEY_PREFIX}${version}`] = (shardVersions.get(version) ?? []).sort().join('\n')
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: nodeListName(moduleName, shard),
        namespace: config.targetNamespace,
        labels: { ...childLabels(moduleName), [LABEL_NODE_SHARD]: shard }
      },
      data
    }
  })
}

interface Claim { name: string, created: number, version: string }

/**
 * A node list's claim on this node: it names the node under a version that can be a label
 * value, and the node still matches the module's selector (a node whose selector label was just
 * removed loses the label at once, before the module's next sync).
 */
function claimOf (list: KubeObject, node: KubeObject, nodeName: string): Claim | undefined {
  const data = isObject(list.data) ? list.data : undefined
  const module = str(data?.module)
  const version = listedNodes(list).find(entry => entry.nodes.includes(nodeName))?.version
  if (version === undefined || module === undefined) return undefined
  let selector: Record<string, string> | undefined
  try {
    selector = asSelector(JSON.parse(str(data?.nodeSelector) ?? ''))
  } catch {
    return undefined
  }
  if (selector === undefined || !matchesSelector(metaOf(node).labels, selector)) return undefined
  return { name: module, created: createdAt(str(data?.created)), version }
}

/**
 * The labels to set on the node: our version key with the version the oldest claiming module
 * loaded there (a node belongs to one module only; the oldest wins, in conflicts.ts's order), or null,
 * which makes Metacontroller remove it. No other key is ever named, so no other label is touched.
 */
export function nodeSync (req: NodeSyncRequest): NodeSyncResponse {
  const node = req.object
  const claims = objectsOf(req.related, CONFIGMAP_KEY)
    .flatMap(list => claimOf(list, node, node.metadata.name) ?? [])
    .sort(olderFirst)
  // No status and no attachments: Metacontroller then leaves the node's status alone.
  return { labels: { [LABEL_NODE_VERSION]: claims[0]?.version ?? null }, attachments: [] }
}
