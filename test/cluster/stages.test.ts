// The kwok Stages that play the installer in the local cluster: what they would write as pod
// status must be what the hooks read (the installer's own termination message, escaped intact).
import t from 'tap'
import { LABEL_ENABLED, LABEL_MODULE, parseTerminationMessage } from '../../contract/index.js'
import { CANARY_NODE, CANARY_TAINT, canaryNode } from '../../e2e/cluster/nodes.js'
import { CANARY_LABEL, CANARY_STAGE, canaryMessage, canaryPod, canaryStage, podStages } from '../../e2e/cluster/stages.js'

interface Stage { metadata: { name: string }, spec: { selector: { matchExpressions: Array<{ key: string, operator: string, values?: string[] }> }, next: { statusTemplate: string } } }

/** Renders what kwok's template actions would produce, for a pod with one container. */
const render = (template: string): unknown => JSON.parse(template
  .replace('{{ $now := Now }}\n', '')
  .replaceAll('{{ $now | Quote }}', '"2026-11-22T06:00:00Z"')
  .replaceAll('{{ (index .spec.containers 0).image | Quote }}', '"ghcr.io/gthulhu/gtp5g-installer:0.1.0"')
  .replaceAll('{{ (index .spec.containers 0).name | Quote }}', '"installer"')
  .replaceAll('{{ "{{" }}', '{{').replaceAll('{{ "}}" }}', '}}'))

const tricky = 'gtp5g.c:12: error: expected \';\' before "}" token\n\tmake[1]: *** [Makefile:9] Error 1 {{ not a template }}'

t.test('a crash-looping fault carries the installer\'s termination message in lastState', async t => {
  const stages = podStages([{ node: 'upf-002', reason: 'BuildFailed', message: tricky, mode: 'crashloop' }]) as unknown as Stage[]
  const fault = stages.find(s => s.metadata.name === 'gtp5g-e2e-fault-upf-002') as Stage
  t.ok(fault, 'one stage per faulty node')
  t.match(fault.spec.selector.matchExpressions, [{}, {}, { key: '.spec.nodeName', operator: 'In', values: ['upf-002'] }, {}])
  t.notMatch(fault.spec.next.statusTemplate, '{{ not a template }}', 'braces in the message are escaped from the template engine')
  const status = render(fault.spec.next.statusTemplate) as { containerStatuses: Array<{ state: { waiting: { reason: string } }, lastState: { terminated: { message: string } } }> }
  const c = status.containerStatuses[0]
  t.equal(c?.state.waiting.reason, 'CrashLoopBackOff')
  t.same(parseTerminationMessage(c?.lastState.terminated.message), { reason: 'BuildFailed', message: tricky })
})

t.test('a terminated fault carries it in state', async t => {
  const [, , , fault] = podStages([{ node: 'n1', reason: 'KernelHeadersMissing', message: 'no headers', mode: 'terminated' }]) as unknown as Stage[]
  const status = render((fault as Stage).spec.next.statusTemplate) as { containerStatuses: Array<{ state: { terminated: { exitCode: number, message: string } } }> }
  t.equal(status.containerStatuses[0]?.state.terminated.exitCode, 1)
  t.same(parseTerminationMessage(status.containerStatuses[0]?.state.terminated.message), { reason: 'KernelHeadersMissing', message: 'no headers' })
})

t.test('healthy and recovering pods leave faulty nodes alone; In/NotIn never get an empty list', async t => {
  const nodeRule = (stages: Stage[], name: string): unknown => stages.find(s => s.metadata.name === name)?.spec.selector.matchExpressions.find(e => e.key === '.spec.nodeName')
  const none = podStages([]) as unknown as Stage[]
  t.same(nodeRule(none, 'gtp5g-e2e-pod-ready'), { key: '.spec.nodeName', operator: 'NotIn', values: ['-'] })
  const two = podStages([{ node: 'b', reason: 'BuildFailed', message: 'x', mode: 'crashloop' }, { node: 'a', reason: 'LoadFailed', message: 'y', mode: 'crashloop' }]) as unknown as Stage[]
  t.same(nodeRule(two, 'gtp5g-e2e-pod-ready'), { key: '.spec.nodeName', operator: 'NotIn', values: ['a', 'b'] })
  t.same(nodeRule(two, 'gtp5g-e2e-pod-recover'), { key: '.spec.nodeName', operator: 'NotIn', values: ['a', 'b'] })
})

t.test('the canary Stage acts on the canary pod only, until it carries this nonce\'s message', async t => {
  const stage = canaryStage('k3x-0') as unknown as Stage
  t.equal(stage.metadata.name, CANARY_STAGE)
  t.match(stage.spec.selector.matchExpressions, [
    { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' },
    { key: `.metadata.labels["${CANARY_LABEL}"]`, operator: 'Exists' },
    { key: '.status.message // ""', operator: 'NotIn', values: [canaryMessage('k3x-0')] }
  ])
  t.match(render(stage.spec.next.statusTemplate), { phase: 'Running', message: canaryMessage('k3x-0') })
  t.not(canaryMessage('k3x-0'), canaryMessage('k3x-1'), 'a new nonce makes the canary pod match again')
  const pod = canaryPod('kwok-canary') as { metadata: { labels: Record<string, string> }, spec: { nodeName: string } }
  t.ok(CANARY_LABEL in pod.metadata.labels)
  t.equal(pod.spec.nodeName, 'kwok-canary')
})

t.test('no other pod Stage acts on the canary pod', async t => {
  const stages = podStages([{ node: 'kwok-canary', reason: 'BuildFailed', message: 'x', mode: 'crashloop' }]) as unknown as Stage[]
  for (const stage of stages) {
    const rules = stage.spec.selector.matchExpressions
    const excluded = rules.some(e => e.key === `.metadata.labels["${CANARY_LABEL}"]` && e.operator === 'DoesNotExist') ||
      rules.some(e => e.key === `.metadata.labels["${LABEL_MODULE}"]` && e.operator === 'Exists') ||
      rules.some(e => e.key === '.metadata.annotations["helm.sh/hook"] // ""' && e.operator === 'In')
    t.ok(excluded, `${stage.metadata.name} leaves the canary pod (no module label, no helm hook) alone`)
  }
})

t.test('the canary node is kwok\'s, tainted, and selected by no module', async t => {
  const node = canaryNode() as { metadata: { name: string, labels: Record<string, string>, annotations: Record<string, string> }, spec: { taints: unknown[] } }
  t.equal(node.metadata.name, CANARY_NODE)
  t.equal(node.metadata.annotations['kwok.x-k8s.io/node'], 'fake')
  t.notOk(LABEL_ENABLED in node.metadata.labels, 'not in the default selector')
  t.same(node.spec.taints, [CANARY_TAINT])
})
