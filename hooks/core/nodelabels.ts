// The Node labels: which gtp5g version a node carries. Two halves, both pure:
//
//   - the module's sync lists its installed nodes in ConfigMaps of the installer namespace, one
//     per shard of node names (nodeListConfigMaps, children of the module);
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

/** The keys of a node list's data. All strings, as a ConfigMap's data must be. */
interface NodeListData {
  /** The module's full name (its label value may be cut and hashed). */
  module: string
  /** The module's creationTimestamp: the oldest module wins a node two of them list. */
  created: string
  /** The version loaded on the listed nodes (status.version). */
  version: string
  /** The module's node selector as JSON: a node that stops matching loses its label at once. */
  nodeSelector: string
  /** Sorted node names, one per line. */
  nodes: string
}

/**
 * The ConfigMaps that list where this module's version is loaded, one per shard that has a node
 * (so a shard whose nodes are all gone is deleted by Metacontroller). None while the module
 * unloads: the label must not promise a module that is going away.
 */
export function nodeListConfigMaps (module: KubeObject & { metadata: { name: string } }, nodeSelector: Record<string, string>, status: GTP5GModuleStatus, config: HookConfig): KubeObject[] {
  if (status.phase === 'Unloading' || status.version === undefined || status.installedNodes === undefined) return []
  const byShard = new Map<string, string[]>()
  for (const node of status.installedNodes) {
    const shard = nodeShard(node)
    const names = byShard.get(shard)
    if (names === undefined) byShard.set(shard, [node])
    else names.push(node)
  }
  const moduleName = module.metadata.name
  const common = {
    module: moduleName,
    created: str(metaOf(module).creationTimestamp) ?? '',
    version: status.version,
    nodeSelector: JSON.stringify(nodeSelector)
  }
  return [...byShard.keys()].sort().map(shard => {
    const data: NodeListData = { ...common, nodes: (byShard.get(shard) ?? []).sort().join('\n') }
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
 * A node list's claim on this node: it names the node, at a version that can be a label value,
 * and the node still matches the module's selector (a node whose selector label was just
 * removed loses the label at once, before the module's next sync).
 */
function claimOf (list: KubeObject, node: KubeObject, nodeName: string): Claim | undefined {
  const data = isObject(list.data) ? list.data : undefined
  const version = str(data?.version)
  const module = str(data?.module)
  const nodes = str(data?.nodes)
  if (version === undefined || module === undefined || nodes === undefined) return undefined
  if (version.length > LABEL_VALUE_MAX || !versionRegExp.test(version)) return undefined
  if (!nodes.split('\n').includes(nodeName)) return undefined
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
