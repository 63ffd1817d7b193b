// One node, one GTP5GModule: two modules loading different gtp5g versions on the same node would
// fight forever. When selectors overlap, the older module (creationTimestamp, then name) keeps
// the node and the newer one leaves it alone.
import { DEFAULT_NODE_SELECTOR } from '../../contract/index.js'
import { isObject, type KubeObject, metaOf, nameOf, type Node, str } from './k8s.js'
import { matchesSelector } from './scheduling.js'

export interface Contest {
  node: string
  owner: string
}

interface Claimant {
  name: string
  created: number
  selector: Record<string, string>
}

function claimantOf (module: KubeObject): Claimant | undefined {
  const name = nameOf(module)
  if (name === undefined) return undefined
  const created = Date.parse(str(metaOf(module).creationTimestamp) ?? '')
  return {
    name,
    // An object without a creation time has not been stored yet: it is the newest there is.
    created: Number.isNaN(created) ? Number.POSITIVE_INFINITY : created,
    selector: nodeSelectorOf(module)
  }
}

/** A module's node selector as the API server would default it; a malformed one counts as the default. */
export function nodeSelectorOf (module: KubeObject): Record<string, string> {
  const selector = isObject(module.spec) ? module.spec.nodeSelector : undefined
  if (isObject(selector) && Object.values(selector).every(v => typeof v === 'string')) {
    return selector as Record<string, string>
  }
  return { ...DEFAULT_NODE_SELECTOR }
}

function precedes (a: Claimant, b: Claimant): boolean {
  if (a.created !== b.created) return a.created < b.created
  return a.name < b.name
}

/**
 * Splits the nodes a module selects into those it owns and those an older module holds.
 * `modules` is every GTP5GModule in the cluster, the module itself included.
 */
export function resolveConflicts (self: KubeObject, nodes: readonly Node[], modules: readonly KubeObject[]): { owned: Node[], contested: Contest[] } {
  const me = claimantOf(self)
  const elders = modules
    .map(claimantOf)
    .filter((c): c is Claimant => c !== undefined && me !== undefined && c.name !== me.name && precedes(c, me))
    .sort((a, b) => precedes(a, b) ? -1 : 1)
  const owned: Node[] = []
  const contested: Contest[] = []
  for (const node of nodes) {
    const owner = elders.find(e => matchesSelector(metaOf(node).labels, e.selector))
    if (owner === undefined) owned.push(node)
    else contested.push({ node: nameOf(node) ?? '', owner: owner.name })
  }
  return { owned, contested }
}
