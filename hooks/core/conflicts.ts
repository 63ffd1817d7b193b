// One node, one GTP5GModule: two modules loading different gtp5g versions on the same node would
// fight forever. When selectors overlap, the older module (creationTimestamp, then name) keeps
// the node and the newer one leaves it alone.
import { isObject, type KubeObject, metaOf, nameOf, type Node, str } from './k8s.js'
import { matchesSelector } from './scheduling.js'
import { nodeSelectorOf } from './spec.js'

export interface Contest {
  node: string
  owner: string
}

interface Claimant {
  name: string
  created: number
  selector: Record<string, string>
}

/**
 * A module's creationTimestamp as a number to order by. An object without a creation time has
 * not been stored yet: it is the newest there is.
 */
export function createdAt (creationTimestamp: string | undefined): number {
  const created = Date.parse(creationTimestamp ?? '')
  return Number.isNaN(created) ? Number.POSITIVE_INFINITY : created
}

/** Sort order of modules, eldest first: creation time, then name. The Node labels use it too. */
export function olderFirst (a: { name: string, created: number }, b: { name: string, created: number }): number {
  if (a.created !== b.created) return a.created < b.created ? -1 : 1
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

function claimantOf (module: KubeObject): Claimant | undefined {
  const name = nameOf(module)
  if (name === undefined) return undefined
  return { name, created: createdAt(str(metaOf(module).creationTimestamp)), selector: nodeSelectorOf(module) }
}

/** The key of one `label=value` pair in the node index. */
const pairKey = (key: string, value: string): string => `${key}\u0000${value}`
const NONE: readonly number[] = []

/**
 * Splits the nodes a module selects into those it owns and those an older module holds.
 * `modules` is every GTP5GModule in the cluster, the module itself included.
 *
 * Comparing every node with every module is nodes × modules on request data (8,000 of each
 * held the one worker for the whole 30 s deadline). Instead the nodes are indexed by label
 * pair, and each older module, eldest first, looks only at the nodes holding the rarest pair
 * of its selector and claims those it matches; modules with a selector already seen are
 * skipped (the elder of them took everything it could), and the walk stops once every node is
 * claimed.
 */
export function resolveConflicts (self: KubeObject, nodes: readonly Node[], modules: readonly KubeObject[]): { owned: Node[], contested: Contest[] } {
  const me = claimantOf(self)
  const seen = new Set<string>()
  const elders = modules
    .map(claimantOf)
    .filter((c): c is Claimant => c !== undefined && me !== undefined && c.name !== me.name && olderFirst(c, me) < 0)
    .sort(olderFirst)
    .filter(c => {
      const key = JSON.stringify(Object.entries(c.selector).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
      if (seen.has(key)) return false
      seen.add(key)
      return true
    })
  const owners: Array<string | undefined> = new Array(nodes.length).fill(undefined)
  if (elders.length > 0) {
    const index = new Map<string, number[]>()
    const labels = nodes.map(n => metaOf(n).labels)
    labels.forEach((l, i) => {
      if (!isObject(l)) return
      for (const [key, value] of Object.entries(l)) {
        if (typeof value !== 'string') continue
        const k = pairKey(key, value)
        const bucket = index.get(k)
        if (bucket === undefined) index.set(k, [i])
        else bucket.push(i)
      }
    })
    const all = nodes.map((_, i) => i)
    let unclaimed = nodes.length
    for (const elder of elders) {
      if (unclaimed === 0) break
      let candidates: readonly number[] = all
      for (const [key, value] of Object.entries(elder.selector)) {
        const bucket = index.get(pairKey(key, value)) ?? NONE
        if (bucket.length < candidates.length) candidates = bucket
        if (candidates.length === 0) break
      }
      for (const i of candidates) {
        if (owners[i] === undefined && matchesSelector(labels[i], elder.selector)) {
          owners[i] = elder.name
          unclaimed--
        }
      }
    }
  }
  const owned: Node[] = []
  const contested: Contest[] = []
  nodes.forEach((node, i) => {
    const owner = owners[i]
    if (owner === undefined) owned.push(node)
    else contested.push({ node: nameOf(node) ?? '', owner })
  })
  return { owned, contested }
}
