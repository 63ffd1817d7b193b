// The CRD is generated from the TypeBox schema; these tests keep crds/ honest and structural.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { parse } from 'yaml'
import { API_GROUP, KERNEL_RELEASE_MAX, KERNEL_RELEASE_PATTERN, KIND, VERSION_PATTERN } from '../../contract/index.js'
import { buildCrd } from '../../hooks/crd/crd.js'
import { chartCrdFile, crdFile, renderCrd } from '../../hooks/crd/render.js'
import { structuralViolations, type JsonSchema } from '../../hooks/crd/structural.js'

const crd = buildCrd() as { spec: { versions: Array<Record<string, unknown>>, names: Record<string, unknown>, scope: string, group: string } }
const version = crd.spec.versions[0] as { schema: { openAPIV3Schema: JsonSchema }, subresources: unknown, additionalPrinterColumns: Array<{ name: string, jsonPath: string }> }
const root = version.schema.openAPIV3Schema
const prop = (s: JsonSchema, ...path: string[]): JsonSchema => path.reduce((at, p) => (at.properties as Record<string, JsonSchema>)[p] as JsonSchema, s)

t.test('crds/ and the Helm chart\'s copy are what `npm run gen` writes today', async t => {
  for (const [dir, file] of [['crds/', crdFile], ['helm/gtp5g-operator/crds/', chartCrdFile]] as const) {
    t.equal(readFileSync(file, 'utf8'), renderCrd(), `${dir} is stale: run \`npm run gen\` and commit the result`)
    t.same(parse(readFileSync(file, 'utf8')), crd)
  }
})

t.test('the generated schema is structural, described everywhere', async t => {
  t.same(structuralViolations(root), [])
})

t.test('the walker rejects what Kubernetes refuses', async t => {
  const described = (s: JsonSchema): JsonSchema => ({ description: 'd', ...s })
  // A valid root around one field, so each row breaks one rule of a nested node.
  const inRoot = (field: JsonSchema): JsonSchema => described({ type: 'object', properties: { spec: field } })
  const rows: Array<[string, JsonSchema, RegExp]> = [
    ['anyOf with types', inRoot(described({ anyOf: [{ type: 'string' }, { type: 'integer' }] })), /"anyOf" is not allowed/],
    ['oneOf', inRoot(described({ type: 'string', oneOf: [{ type: 'string' }] })), /"oneOf" is not allowed/],
    ['const', inRoot(described({ type: 'string', const: 'x' })), /"const" is not allowed/],
    ['nullable', inRoot(described({ type: 'string', nullable: true })), /"nullable" is not allowed/],
    ['patternProperties', inRoot(described({ type: 'object', patternProperties: { '^.*$': { type: 'string' } } })), /"patternProperties" is not allowed/],
    ['untyped node', inRoot(described({ properties: {} })), /spec: every node needs a type/],
    ['untyped nested node', inRoot(described({ type: 'object', properties: { a: { description: 'a' } } })), /properties\.a: every node needs a type/],
    ['a type OpenAPI lacks', inRoot(described({ type: 'null' })), /type "null" is not one of/],
    ['additionalProperties: false', inRoot(described({ type: 'object', additionalProperties: false })), /additionalProperties: false is not allowed/],
    ['properties beside additionalProperties', inRoot(described({ type: 'object', properties: { a: described({ type: 'string' }) }, additionalProperties: { type: 'string' } })), /mutually exclusive/],
    ['int-or-string with a type', inRoot(described({ type: 'string', 'x-kubernetes-int-or-string': true })), /must not carry a type/],
    ['$ref', inRoot(described({ type: 'object', $ref: '#/x' })), /"\$ref" is not allowed/],
    ['array without items', inRoot(described({ type: 'array' })), /needs a single items schema/],
    ['uniqueItems', inRoot(described({ type: 'array', items: { type: 'string' }, uniqueItems: true })), /uniqueItems: true is not allowed/],
    ['missing description', inRoot({ type: 'object', properties: { a: { type: 'string' } } }), /spec: missing description/],
    ['root without description', { type: 'object' }, /openAPIV3Schema: missing description/],
    // The rule the real kube-apiserver enforced when the CRD carried metadata.description.
    ['described root metadata', described({ type: 'object', properties: { metadata: { type: 'object', description: 'm' } } }), /metadata: "description" is not allowed/],
    ['root metadata with fields', described({ type: 'object', properties: { metadata: { type: 'object', properties: { labels: { type: 'object' } } } } }), /metadata\.properties\.labels: only name and generateName/],
    ['root field beside spec and status', described({ type: 'object', properties: { extra: described({ type: 'string' }) } }), /properties\.extra: with the status subresource/],
    ['additionalProperties at the root', described({ type: 'object', additionalProperties: { type: 'string' } }), /additionalProperties is not allowed at the root/],
    ['kind typed other than string', described({ type: 'object', properties: { kind: { type: 'integer' } } }), /properties\.kind: must be of type string/],
    ['root of another type', described({ type: 'string' }), /the root must be of type object/],
    ['default of the wrong type', inRoot(described({ type: 'object', additionalProperties: { type: 'string' }, default: { a: 1 } })), /default\.a: default is integer, the node is string/],
    ['default outside the enum', inRoot(described({ type: 'string', enum: ['a'], default: 'b' })), /is not in enum/],
    ['map list whose key is optional', inRoot(described({ type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'], items: { type: 'object', properties: { type: described({ type: 'string' }) } } })), /map key "type" must be required or have a default/],
    ['map list without keys', inRoot(described({ type: 'array', 'x-kubernetes-list-type': 'map', items: { type: 'object' } })), /needs x-kubernetes-list-map-keys/],
    ['list type on an object', inRoot(described({ type: 'object', 'x-kubernetes-list-type': 'atomic' })), /x-kubernetes-list-type needs type array/],
    ['lookahead pattern (RE2 has none)', inRoot(described({ type: 'string', pattern: '^(?!x)' })), /RE2/],
    ['CEL message over two lines', inRoot(described({ type: 'string', 'x-kubernetes-validations': [{ rule: 'self != ""', message: 'a\nb' }] })), /message must be one non-empty line/]
  ]
  for (const [name, schema, problem] of rows) {
    t.match(structuralViolations(schema).join('\n'), problem, name)
  }
  t.same(structuralViolations(inRoot(described({ 'x-kubernetes-int-or-string': true }))), [], 'int-or-string is the one untyped node allowed')
  t.same(structuralViolations(described({ type: 'object', properties: { metadata: { type: 'object' } } })), [], 'metadata typed as object is all a CRD may say of it')
})

t.test('names, scope, subresource and printer columns', async t => {
  t.equal(crd.spec.group, API_GROUP)
  t.equal(crd.spec.scope, 'Cluster')
  t.same(crd.spec.names, { kind: KIND, listKind: 'GTP5GModuleList', plural: 'gtp5gmodules', singular: 'gtp5gmodule', shortNames: ['gtp5g'], categories: ['gthulhu'] })
  t.same(version.subresources, { status: {} })
  t.same(version.additionalPrinterColumns.map(c => [c.name, c.jsonPath]), [
    ['Version', '.spec.version'],
    ['Ready', '.status.conditions[?(@.type=="Ready")].status'],
    ['Installed', '.status.installed'],
    ['Desired', '.status.desired'],
    ['Phase', '.status.phase'],
    ['Age', '.metadata.creationTimestamp']
  ])
})

t.test('validation and defaults the API server applies at kubectl apply', async t => {
  const spec = prop(root, 'spec')
  t.same(spec.required, ['version'])
  t.equal(prop(spec, 'version').pattern, VERSION_PATTERN)
  t.same(prop(spec, 'nodeSelector').default, { 'gtp5g.gthulhu.io/enabled': 'true' })
  t.same(prop(spec, 'nodeSelector').additionalProperties, { type: 'string', maxLength: 63, pattern: '^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$' }, 'values are label values')
  t.match(JSON.stringify(prop(spec, 'nodeSelector')['x-kubernetes-validations']), /self\.all\(k, k\.matches/, 'keys are label keys (CEL)')
  t.match(JSON.stringify(prop(spec, 'kernelVersion')['x-kubernetes-validations']), KERNEL_RELEASE_PATTERN.replaceAll('\\', '\\\\'), 'kernelVersion: the contract\'s kernel release, in CEL')
  t.equal(prop(spec, 'kernelVersion').maxLength, KERNEL_RELEASE_MAX)
  t.match(JSON.stringify(prop(spec, 'maxUnavailable')['x-kubernetes-validations']), /self >= 1/, 'maxUnavailable 0 is refused')
  t.equal(prop(spec, 'unloadOnDelete').default, true)
  t.same([prop(spec, 'btf').type, prop(spec, 'btf').default], ['boolean', false], 'btf is opt-in')
  t.equal(prop(spec, 'maxUnavailable').default, 1)
  t.equal(prop(spec, 'maxUnavailable')['x-kubernetes-int-or-string'], true)
  t.match(JSON.stringify(prop(spec, 'maxUnavailable')['x-kubernetes-validations']), /type\(self\) == int/)
  t.equal(prop(spec, 'source', 'url').default, 'https://github.com/free5gc/gtp5g/archive/refs/tags/{version}.tar.gz')
  t.same(prop(spec, 'source').default, {}, 'an absent source still gets its nested defaults')
  t.same((prop(spec, 'tolerations').items as JsonSchema).type, 'object')
  t.same(prop(root, 'status', 'conditions')['x-kubernetes-list-map-keys'], ['type'])
  t.ok(prop(root, 'status', 'observedGeneration'), 'Metacontroller writes status.observedGeneration: it must be in the schema')
  const version = new RegExp(VERSION_PATTERN)
  for (const ok of ['v0.9.14', 'v0.9.12a', 'v1.0.0', 'v10.20.30rc1']) t.match(ok, version)
  for (const bad of ['latest', '0.9.14', 'v0.9', 'v0.9.14-rc1', 'V0.9.14']) t.notMatch(bad, version)
})
