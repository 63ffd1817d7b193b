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

export const INVALID_SPECS: InvalidSpec[] = [
  { name: 'maxUnavailable 0', spec: { maxUnavailable: 0 }, field: 'spec.maxUnavailable', hook: MAX_UNAVAILABLE, api: /spec\.maxUnavailable: Invalid value: 0: must be a positive integer/ },
  { name: 'maxUnavailable "0%"', spec: { maxUnavailable: '0%' }, field: 'spec.maxUnavailable', hook: MAX_UNAVAILABLE, api: /spec\.maxUnavailable: Invalid value: "0%": must be a positive integer/ },
  { name: 'a nodeSelector key with a space', spec: { nodeSelector: { 'bad key': 'x' } }, field: 'spec.nodeSelector', hook: LABEL_KEY, api: /spec\.nodeSelector: Invalid value: .*keys must be label keys/ },
  { name: 'a nodeSelector key with an upper-case prefix', spec: { nodeSelector: { 'Example.com/role': 'upf' } }, field: 'spec.nodeSelector', hook: LABEL_KEY, api: /spec\.nodeSelector: Invalid value: .*keys must be label keys/ },
  { name: 'a nodeSelector value with a space', spec: { nodeSelector: { role: 'user plane' } }, field: 'spec.nodeSelector.role', hook: /expected a string matching/, api: /spec\.nodeSelector\.role: Invalid value: "user plane": .*should match/ },
  { name: 'an image with whitespace', spec: { image: 'reg.example/installer:1 --privileged' }, field: 'spec.image', hook: /expected a string matching/, api: /spec\.image: Invalid value: .*should match/ },
  { name: 'a source URL with whitespace', spec: { source: { url: 'https://mirror.example/gtp5g {version}.tgz' } }, field: 'spec.source.url', hook: /expected a string matching/, api: /spec\.source\.url: Invalid value: .*should match/ },
  { name: 'a source URL of another scheme', spec: { source: { url: 'ftp://mirror.example/gtp5g.tgz' } }, field: 'spec.source.url', hook: /expected a string matching/, api: /spec\.source\.url: Invalid value: .*should match/ },
  { name: 'a kernelVersion that make would expand', spec: { kernelVersion: '$(shell id)' }, field: 'spec.kernelVersion', hook: KERNEL, api: /spec\.kernelVersion: Invalid value: "\$\(shell id\)": must be empty or a kernel release/ },
  { name: 'a kernelVersion that is a path', spec: { kernelVersion: '../../etc' }, field: 'spec.kernelVersion', hook: KERNEL, api: /spec\.kernelVersion: Invalid value: .*must be empty or a kernel release/ },
  // The quoted "true" a templated manifest produces: a boolean only, never read as one.
  { name: 'a pull secret name with upper case', spec: { imagePullSecrets: [{ name: 'Registry_Creds' }] }, field: 'spec.imagePullSecrets[0].name', hook: /expected a string matching/, api: /spec\.imagePullSecrets\[0\]\.name: Invalid value: "Registry_Creds": .*should match/ },
  { name: 'a pull secret without a name', spec: { imagePullSecrets: [{}] }, field: 'spec.imagePullSecrets[0].name', hook: /^required$/, api: /spec\.imagePullSecrets\[0\]\.name: Required value/ },
  { name: 'btf as the string "true"', spec: { btf: 'true' }, field: 'spec.btf', hook: /^expected boolean$/, api: /spec\.btf: Invalid value: "string": spec\.btf in body must be of type boolean/ }
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
  { btf: false }
]
