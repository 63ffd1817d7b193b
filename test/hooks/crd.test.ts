// The CRD is generated from the TypeBox schema; these tests keep crds/ honest and structural.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { parse } from 'yaml'
import { API_GROUP, KIND, VERSION_PATTERN } from '../../contract/index.js'
import { buildCrd } from '../../hooks/crd/crd.js'
import { crdFile, renderCrd } from '../../hooks/crd/render.js'
import { structuralViolations, type JsonSchema } from '../../hooks/crd/structural.js'

const crd = buildCrd() as { spec: { versions: Array<Record<string, unknown>>, names: Record<string, unknown>, scope: string, group: string } }
const version = crd.spec.versions[0] as { schema: { openAPIV3Schema: JsonSchema }, subresources: unknown, additionalPrinterColumns: Array<{ name: string, jsonPath: string }> }
const root = version.schema.openAPIV3Schema
const prop = (s: JsonSchema, ...path: string[]): JsonSchema => path.reduce((at, p) => (at.properties as Record<string, JsonSchema>)[p] as JsonSchema, s)

t.test('crds/ is what `npm run gen` writes today', async t => {
  t.equal(readFileSync(crdFile, 'utf8'), renderCrd(), 'crds/ is stale: run `npm run gen` and commit the result')
  t.same(parse(readFileSync(crdFile, 'utf8')), crd)
})

t.test('the generated schema is structural, described everywhere', async t => {
  t.same(structuralViolations(root), [])
})

t.test('the walker rejects what Kubernetes refuses', async t => {
  const described = (s: JsonSchema): JsonSchema => ({ description: 'd', ...s })
  const rows: Array<[string, JsonSchema, RegExp]> = [
    ['anyOf with types', described({ anyOf: [{ type: 'string' }, { type: 'integer' }] }), /"anyOf" is not allowed/],
    ['oneOf', described({ type: 'string', oneOf: [{ type: 'string' }] }), /"oneOf" is not allowed/],
    ['const', described({ type: 'string', const: 'x' }), /"const" is not allowed/],
    ['patternProperties', described({ type: 'object', patternProperties: { '^.*$': { type: 'string' } } }), /"patternProperties" is not allowed/],
    ['untyped node', described({ properties: {} }), /every node needs a type/],
    ['untyped nested node', described({ type: 'object', properties: { a: { description: 'a' } } }), /properties\.a: every node needs a type/],
    ['additionalProperties: false', described({ type: 'object', additionalProperties: false }), /additionalProperties: false is not allowed/],
    ['properties beside additionalProperties', described({ type: 'object', properties: { a: described({ type: 'string' }) }, additionalProperties: { type: 'string' } }), /mutually exclusive/],
    ['int-or-string with a type', described({ type: 'string', 'x-kubernetes-int-or-string': true }), /must not carry a type/],
    ['$ref', described({ type: 'object', $ref: '#/x' }), /"\$ref" is not allowed/],
    ['array without items', described({ type: 'array' }), /needs a single items schema/],
    ['missing description', { type: 'object', properties: { a: { type: 'string' } } }, /missing description/]
  ]
  for (const [name, schema, problem] of rows) {
    t.match(structuralViolations(schema).join('\n'), problem, name)
  }
  t.same(structuralViolations(described({ 'x-kubernetes-int-or-string': true })), [], 'int-or-string is the one untyped node allowed')
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
  t.same(prop(spec, 'nodeSelector').additionalProperties, { type: 'string' })
  t.equal(prop(spec, 'unloadOnDelete').default, true)
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
