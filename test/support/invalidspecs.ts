// Specs the CRD refuses at admission and the hook refuses as InvalidSpec, with the field each
// names: spec.test.ts checks the hook against them, e2e/scenarios.test.ts the real API server.
// `api` is what kube-apiserver says (the field, then its pattern or the CEL rule's message).

export interface InvalidSpec {
  name: string
  spec: Record<string, unknown>
  field: string
  /** The hook's Degraded message after "<field>: ". */
  hook: RegExp
  /** kube-apiserver's refusal. */
  api: RegExp
}

const LABEL_KEY = /keys must be label keys: an optional DNS subdomain prefix and "\/"/
const KERNEL = /must be empty or a kernel release as uname -r prints it/
const MAX_UNAVAILABLE = /must be a positive integer or a percentage from 1% to 100%/
const RE2 = /must be a regular expression in Go RE2 syntax/

/** A valid rule of spec.scheduling (the README's example). */
export const RULE = { name: 'gnb', podSelector: { 'app.kubernetes.io/name': 'ueransim-gnb' } }

/** A module spec with a valid spec.scheduling whose one rule is RULE with `rule` over it. */
export function scheduling (rule: Record<string, unknown> = {}): { scheduling: Record<string, unknown> } {
  return { scheduling: { managerUrl: 'http://gthulhu-manager.gthulhu-system:8080', credentialsSecret: { name: 'gthulhu-manager' }, rules: [{ ...RULE, ...rule }] } }
}

export const INVALID_SPECS: InvalidSpec[] = [
  { name: 'maxUnavailable 0', spec: { maxUnavailable: 0 }, field: 'spec.maxUnavailable', hook: MAX_UNAVAILABLE, api: /spec\.maxUnavailable: Invalid value: 0: must be a positive integer/ },
  { name: 'maxUnavailable "0%"', spec: { maxUnavailable: '0%' }, field: 'spec.maxUnavailable', hook: MAX_UNAVAILABLE, api: /spec\.maxUnavailable: Invalid value: "0%": must be a positive integer/ },
  { name: 'a nodeSelector key with a space', spec: { nodeSelector: { 'bad key': 'x' } }, field: 'spec.nodeSelector', hook: LABEL_KEY, api: /spec\.nodeSelector: Invalid value: .*keys must be label keys/ },
  { name: 'a nodeSelector key with an upper-case prefix', spec: { nodeSelector: { 'Example.com/role': 'upf' } }, field: 'spec.nodeSelector', hook: LABEL_KEY, api: /spec\.nodeSelector: Invalid value: .*keys must be label keys/ },
  { name: 'a nodeSelector value with a space', spec: { nodeSelector: { role: 'user plane' } }, field: 'spec.nodeSelector.role', hook: /^must match \^/, api: /spec\.nodeSelector\.role: Invalid value: "user plane": .*should match/ },
  { name: 'an image with whitespace', spec: { image: 'reg.example/installer:1 --privileged' }, field: 'spec.image', hook: /^must match \^/, api: /spec\.image: Invalid value: .*should match/ },
  { name: 'a source URL with whitespace', spec: { source: { url: 'https://mirror.example/gtp5g {version}.tgz' } }, field: 'spec.source.url', hook: /^must match \^/, api: /spec\.source\.url: Invalid value: .*should match/ },
  { name: 'a source URL of another scheme', spec: { source: { url: 'ftp://mirror.example/gtp5g.tgz' } }, field: 'spec.source.url', hook: /^must match \^/, api: /spec\.source\.url: Invalid value: .*should match/ },
  { name: 'a kernelVersion that make would expand', spec: { kernelVersion: '$(shell id)' }, field: 'spec.kernelVersion', hook: KERNEL, api: /spec\.kernelVersion: Invalid value: "\$\(shell id\)": must be empty or a kernel release/ },
  { name: 'a kernelVersion that is a path', spec: { kernelVersion: '../../etc' }, field: 'spec.kernelVersion', hook: KERNEL, api: /spec\.kernelVersion: Invalid value: .*must be empty or a kernel release/ },
  // Issue 14 finding 6: no list the hooks walk per node is unbounded.
  { name: '65 tolerations', spec: { tolerations: Array.from({ length: 65 }, (_, i) => ({ key: `k${i}`, operator: 'Exists' })) }, field: 'spec.tolerations', hook: /^must have at most 64 items$/, api: /spec\.tolerations: Too many: 65: must have at most 64 items/ },
  // The quoted "true" a templated manifest produces: a boolean only, never read as one.
  { name: 'a pull secret name with upper case', spec: { imagePullSecrets: [{ name: 'Registry_Creds' }] }, field: 'spec.imagePullSecrets[0].name', hook: /^must match \^/, api: /spec\.imagePullSecrets\[0\]\.name: Invalid value: "Registry_Creds": .*should match/ },
  { name: 'a pull secret without a name', spec: { imagePullSecrets: [{}] }, field: 'spec.imagePullSecrets[0].name', hook: /^required$/, api: /spec\.imagePullSecrets\[0\]\.name: Required value/ },
  { name: 'btf as the string "true"', spec: { btf: 'true' }, field: 'spec.btf', hook: /^must be a boolean/, api: /spec\.btf: Invalid value: "string": spec\.btf in body must be of type boolean/ },
  // spec.scheduling: the Gthulhu Manager validates none of these, so the CRD and the hook do.
  { name: 'scheduling priority above 20', spec: scheduling({ priority: 21 }), field: 'spec.scheduling.rules[0].priority', hook: /^must be at most 20$/, api: /spec\.scheduling\.rules\[0\]\.priority: Invalid value: 21: .*less than or equal to 20/ },
  { name: 'scheduling priority below 0', spec: scheduling({ priority: -1 }), field: 'spec.scheduling.rules[0].priority', hook: /^must be at least 0$/, api: /spec\.scheduling\.rules\[0\]\.priority: Invalid value: -1: .*greater than or equal to 0/ },
  { name: 'scheduling executionTimeNs under 0.1 ms', spec: scheduling({ executionTimeNs: 99_999 }), field: 'spec.scheduling.rules[0].executionTimeNs', hook: /^must be at least 100000$/, api: /spec\.scheduling\.rules\[0\]\.executionTimeNs: Invalid value: 99999: .*greater than or equal to 100000/ },
  { name: 'scheduling executionTimeNs over 1 s', spec: scheduling({ executionTimeNs: 1_000_000_001 }), field: 'spec.scheduling.rules[0].executionTimeNs', hook: /^must be at most 1000000000$/, api: /spec\.scheduling\.rules\[0\]\.executionTimeNs: Invalid value: 1000000001: .*less than or equal to 1e\+09|spec\.scheduling\.rules\[0\]\.executionTimeNs: Invalid value: 1000000001: .*less than or equal to 1000000000/ },
  { name: 'scheduling commandRegex with a lookahead', spec: scheduling({ commandRegex: '^nr-(?!ue)' }), field: 'spec.scheduling.rules[0].commandRegex', hook: RE2, api: /spec\.scheduling\.rules\[0\]\.commandRegex: Invalid value: .*must be a regular expression in Go RE2 syntax/ },
  { name: 'scheduling commandRegex with a backreference', spec: scheduling({ commandRegex: '(nr)-\\1' }), field: 'spec.scheduling.rules[0].commandRegex', hook: RE2, api: /spec\.scheduling\.rules\[0\]\.commandRegex: Invalid value: .*must be a regular expression in Go RE2 syntax/ },
  { name: 'scheduling without a pod selector', spec: scheduling({ podSelector: {} }), field: 'spec.scheduling.rules[0].podSelector', hook: /^must have at least 1 entry/, api: /spec\.scheduling\.rules\[0\]\.podSelector: Invalid value: .*must have at least 1 items|spec\.scheduling\.rules\[0\]\.podSelector: Invalid value: .*should have at least 1 properties/ },
  { name: 'scheduling rules with one name twice', spec: { scheduling: { ...scheduling().scheduling, rules: [RULE, RULE] } }, field: 'spec.scheduling.rules', hook: /rule names must be unique/, api: /spec\.scheduling\.rules: Invalid value: .*rule names must be unique/ },
  { name: 'scheduling managerUrl without a scheme', spec: { scheduling: { ...scheduling().scheduling, managerUrl: 'gthulhu-manager:8080' } }, field: 'spec.scheduling.managerUrl', hook: /^must match \^/, api: /spec\.scheduling\.managerUrl: Invalid value: .*should match/ }
]

/** Specs both accept: the rules above are not stricter than they mean to be. */
export const VALID_SPECS: Array<Record<string, unknown>> = [
  { maxUnavailable: 1 },
  { imagePullSecrets: [{ name: 'registry-creds' }, { name: 'mirror.example.creds' }] },
  { maxUnavailable: '1%' },
  { maxUnavailable: '100%' },
  { nodeSelector: { 'example.com/role': 'upf', 'node-role.kubernetes.io/upf': '', a: 'b.c_d-e' } },
  { nodeSelector: { ['x'.repeat(63)]: 'y'.repeat(63) } },
  { image: 'reg.example:5000/gtp5g/installer@sha256:' + 'a'.repeat(64) },
  { source: { url: 'file:///opt/gtp5g/gtp5g-{version}.tar.gz' } },
  { kernelVersion: '5.15.0-91-generic' },
  { kernelVersion: '4.18.0-513.el8.x86_64' },
  { kernelVersion: '6.12.12+bpo-amd64' },
  { btf: true },
  { tolerations: Array.from({ length: 64 }, (_, i) => ({ key: `k${i}`, operator: 'Exists' })) },
  { btf: false },
  scheduling(),
  scheduling({ priority: 0, executionTimeNs: 100_000, namespaces: ['ran', 'core'] }),
  scheduling({ priority: 20, executionTimeNs: 1_000_000_000, commandRegex: '^(?P<bin>nr-gnb|nr-ue)( |$)' }),
  { scheduling: { managerUrl: 'https://manager.example:8443/', credentialsSecret: { name: 'gthulhu.creds' }, rules: [RULE, { ...RULE, name: 'upf', commandRegex: '^upf' }] } }
]
