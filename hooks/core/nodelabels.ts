// The Node decorator's hooks: which gtp5g version a node carries, read from the GTP5GModules'
// own status (never from installer pods: relating every pod to every node would make each of N
// node syncs carry N pods). Pure functions of the request; they only ever name our label key.
import { API_GROUP, API_VERSION, LABEL_NODE_VERSION, LABEL_VALUE_MAX, PLURAL, versionRegExp } from '../../contract/index.js'
import { nodeSelectorOf } from './spec.js'
import { isObject, type KubeObject, metaOf, nameOf, str } from './k8s.js'
import { MODULE_KEY, type NodeCustomizeResponse, type NodeSyncRequest, type NodeSyncResponse, objectsOf } from './metacontroller.js'
import { matchesSelector } from './scheduling.js'

export function nodeCustomize (): NodeCustomizeResponse {
  // Every module: their status says which nodes are installed at which version.
  return { relatedResources: [{ apiVersion: `${API_GROUP}/${API_VERSION}`, resource: PLURAL }] }
}

interface Claim { module: string, created: number, version: string }

/**
 * The module's claim on this node: its status lists the node as installed at a version that
 * can be a label value, the module is not being deleted, and it still selects the node (a node
 * whose selector label was just removed loses the label at once, before the next module sync).
 */
function claimOf (module: KubeObject, node: KubeObject, nodeName: string): Claim | undefined {
  const name = nameOf(module)
  const status = isObject(module.status) ? module.status : undefined
  if (name === undefined || status === undefined || metaOf(module).deletionTimestamp !== undefined) return undefined
  if (status.phase === 'Unloading') return undefined
  const version = str(status.version)
  if (version === undefined || version.length > LABEL_VALUE_MAX || !versionRegExp.test(version)) return undefined
  if (!Array.isArray(status.installedNodes) || !status.installedNodes.includes(nodeName)) return undefined
  if (!matchesSelector(metaOf(node).labels, nodeSelectorOf(module))) return undefined
  const created = Date.parse(str(metaOf(module).creationTimestamp) ?? '')
  return { module: name, created: Number.isNaN(created) ? Number.POSITIVE_INFINITY : created, version }
}

/**
 * The labels to set on the node: our version key with the version the oldest claiming module
 * loaded there (a node belongs to one module only; the oldest wins as in conflicts.ts), or null,
 * which makes Metacontroller remove it. No other key is ever named, so no other label is touched.
 */
export function nodeSync (req: NodeSyncRequest): NodeSyncResponse {
  const node = req.object
  const claims = objectsOf(req.related, MODULE_KEY)
    .flatMap(m => claimOf(m, node, node.metadata.name) ?? [])
    .sort((a, b) => a.created !== b.created ? a.created - b.created : a.module < b.module ? -1 : a.module > b.module ? 1 : 0)
  // No status and no attachments: Metacontroller then leaves the node's status alone.
  return { labels: { [LABEL_NODE_VERSION]: claims[0]?.version ?? null }, attachments: [] }
}
