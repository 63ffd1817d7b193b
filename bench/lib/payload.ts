// The sync request the benchmarks send: one GTP5GModule and N nodes with their installer pods,
// built from the unit-test fixtures (shaped after `kubectl get -o json` of real kubelet nodes:
// 12 images with a digest and a tag each, the four kubelet conditions, InternalIP and Hostname
// addresses, capacity, allocatable, nodeInfo). Each node and pod gets its own addresses, as in
// a real cluster; one pod in ten is crash-looping, so the status has failures to report.
import type { Node, Pod } from '../../hooks/core/k8s.js'
import { currentTemplateHash, node, pod, syncRequest } from '../../test/support/hookfixtures.js'

const ip = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`

export function syncPayload (size: number): Buffer {
  const nodes: Node[] = Array.from({ length: size }, (_, i) => {
    const n = node(`worker-${String(i).padStart(5, '0')}`)
    const status = n.status as { addresses: Array<{ type: string, address: string }> }
    status.addresses[0] = { type: 'InternalIP', address: ip(i + 1) }
    const spec = n.spec as { podCIDR: string, podCIDRs: string[] }
    spec.podCIDR = `10.${128 + ((i >> 8) & 127)}.${i & 255}.0/24`
    spec.podCIDRs = [spec.podCIDR]
    return n
  })
  const hash = currentTemplateHash({ nodes: nodes.slice(0, 1) })
  const pods: Pod[] = nodes.map((n, i) => {
    const p = pod(n.metadata?.name ?? '', hash, i % 10 === 9 ? { crashed: 'BuildFailed', message: 'make: *** [Makefile:42: gtp5g.ko] Error 2' } : 'ready', 'sample', `p${i.toString(36)}`)
    const status = p.status as { hostIP: string, podIP: string }
    status.hostIP = status.podIP = ip(i + 1)
    return p
  })
  return Buffer.from(JSON.stringify(syncRequest({ nodes, pods })))
}
