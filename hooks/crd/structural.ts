// Turns a TypeBox schema into an OpenAPI v3 schema Kubernetes accepts as "structural", and
// checks that it is. Kubernetes refuses (or silently prunes around) anything else, so the CRD
// generator runs both and fails loudly instead of writing a CRD the API server would reject.
import type { TSchema } from '@sinclair/typebox'
import { INT_OR_STRING } from '../core/api.js'
import { isObject } from '../core/k8s.js'

export type JsonSchema = Record<string, unknown>

/** Keywords copied as they are: all are allowed in a structural schema. */
const PASSTHROUGH = ['type', 'description', 'format', 'pattern', 'minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'enum', 'default'] as const

const isLiteralUnion = (s: TSchema): boolean =>
  Array.isArray(s.anyOf) && s.anyOf.length > 0 && s.anyOf.every((m: TSchema) => typeof m.const === 'string')

export function toStructural (schema: TSchema): JsonSchema {
  if (schema[INT_OR_STRING] === true) {
    const out: JsonSchema = { [INT_OR_STRING]: true }
    if (schema.description !== undefined) out.description = schema.description
    if (schema.default !== undefined) out.default = schema.default
    // A pattern or minimum cannot sit on an untyped node: the schema must say it in CEL.
    if (schema['x-kubernetes-validations'] === undefined) throw new Error('an int-or-string field needs x-kubernetes-validations for its two branches')
    out['x-kubernetes-validations'] = schema['x-kubernetes-validations']
    return out
  }
  if (isLiteralUnion(schema)) {
    const out: JsonSchema = { type: 'string', enum: (schema.anyOf as TSchema[]).map(m => m.const) }
    if (schema.description !== undefined) out.description = schema.description
    if (schema.default !== undefined) out.default = schema.default
    return out
  }
  const out: JsonSchema = {}
  for (const key of PASSTHROUGH) {
    if (schema[key] !== undefined) out[key] = schema[key]
  }
  if (schema.type === 'object' && schema.patternProperties !== undefined) {
    // TypeBox spells Record<string, V> as patternProperties; Kubernetes wants additionalProperties.
    const [valueSchema] = Object.values(schema.patternProperties as Record<string, TSchema>)
    if (valueSchema !== undefined) out.additionalProperties = toStructural(valueSchema)
  }
  if (schema.properties !== undefined && Object.keys(schema.properties as object).length > 0) {
    const properties: Record<string, JsonSchema> = {}
    for (const [name, child] of Object.entries(schema.properties as Record<string, TSchema>)) {
      properties[name] = toStructural(child)
    }
    out.properties = properties
    // Fields with a default are filled in by the API server before validation; listing them
    // as required too would only confuse `kubectl explain`.
    const required = ((schema.required ?? []) as string[]).filter(name => (schema.properties as Record<string, TSchema>)[name]?.default === undefined)
    if (required.length > 0) out.required = required
  }
  if (schema.type === 'array' && schema.items !== undefined) out.items = toStructural(schema.items as TSchema)
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-kubernetes-')) out[key] = value
  }
  return out
}

const FORBIDDEN = ['anyOf', 'oneOf', 'allOf', 'not', 'const', 'patternProperties', '$ref', 'definitions', '$defs', 'dependencies', 'additionalItems', 'id', 'title', 'nullable'] as const

/** The value types apiextensions knows (validation.go, openapiV3Types). */
const TYPES = new Set(['array', 'boolean', 'integer', 'number', 'object', 'string'])

/** With the status subresource on, the root may hold only these (validation.go, allowedFieldsAtRootSchema). */
const ROOT_FIELDS = new Set(['metadata', 'apiVersion', 'kind', 'spec', 'status'])

type Level = 'root' | 'field' | 'item'

const isSchema: (v: unknown) => v is JsonSchema = isObject
const propertiesOf = (s: JsonSchema): Record<string, unknown> => isSchema(s.properties) ? s.properties : {}

/**
 * The root's `metadata` is implicitly ObjectMeta: the API server accepts `type: object` there
 * and, at most, `name`/`generateName` typed as strings; a description or anything else is
 * refused ("must not specify anything other than name and generateName").
 */
function rootMetadataViolations (metadata: unknown, path: string): string[] {
  if (!isSchema(metadata)) return [`${path}: not a schema object`]
  const problems: string[] = []
  for (const key of Object.keys(metadata)) {
    if (key !== 'type' && key !== 'properties') problems.push(`${path}: "${key}" is not allowed: metadata may only be typed as object (the API server owns its schema)`)
  }
  if (metadata.type !== 'object') problems.push(`${path}: must be of type object`)
  for (const [name, child] of Object.entries(propertiesOf(metadata))) {
    if (name !== 'name' && name !== 'generateName') problems.push(`${path}.properties.${name}: only name and generateName may be specified`)
    else if (!isSchema(child) || child.type !== 'string') problems.push(`${path}.properties.${name}: must be of type string`)
  }
  return problems
}

/** A default must be a value of the node it sits on, or the API server refuses the CRD. */
function defaultViolations (value: unknown, s: JsonSchema, path: string): string[] {
  const actual = Array.isArray(value) ? 'array' : value === null ? 'null' : Number.isInteger(value) ? 'integer' : typeof value
  if (s['x-kubernetes-int-or-string'] === true) {
    return actual === 'integer' || actual === 'string' ? [] : [`${path}: default must be an integer or a string`]
  }
  const fits = actual === s.type || (s.type === 'number' && actual === 'integer')
  if (typeof s.type === 'string' && !fits) return [`${path}: default is ${actual}, the node is ${String(s.type)}`]
  if (Array.isArray(s.enum) && !s.enum.includes(value)) return [`${path}: default ${JSON.stringify(value)} is not in enum`]
  if (actual === 'object') {
    const problems: string[] = []
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      const child = propertiesOf(s)[key] ?? s.additionalProperties
      if (isSchema(child)) problems.push(...defaultViolations(v, child, `${path}.${key}`))
    }
    return problems
  }
  if (actual === 'array' && isSchema(s.items)) {
    return (value as unknown[]).flatMap((v, i) => defaultViolations(v, s.items as JsonSchema, `${path}[${i}]`))
  }
  return []
}

/** List and map semantics (x-kubernetes-list-type and friends) as apiextensions validates them. */
function listTypeViolations (s: JsonSchema, path: string): string[] {
  const problems: string[] = []
  const listType = s['x-kubernetes-list-type']
  const mapKeys = s['x-kubernetes-list-map-keys']
  if (s['x-kubernetes-map-type'] !== undefined) {
    if (s.type !== 'object') problems.push(`${path}: x-kubernetes-map-type needs type object`)
    if (!['atomic', 'granular'].includes(String(s['x-kubernetes-map-type']))) problems.push(`${path}: x-kubernetes-map-type must be atomic or granular`)
  }
  if (listType !== undefined) {
    if (s.type !== 'array') problems.push(`${path}: x-kubernetes-list-type needs type array`)
    if (!['atomic', 'set', 'map'].includes(String(listType))) problems.push(`${path}: x-kubernetes-list-type must be atomic, set or map`)
  }
  if (mapKeys !== undefined && listType !== 'map') problems.push(`${path}: x-kubernetes-list-map-keys needs x-kubernetes-list-type: map`)
  if (listType === 'map') {
    const item = isSchema(s.items) ? s.items : {}
    const required = Array.isArray(item.required) ? item.required as unknown[] : []
    if (!Array.isArray(mapKeys) || mapKeys.length === 0) problems.push(`${path}: x-kubernetes-list-type map needs x-kubernetes-list-map-keys`)
    if (item.type !== 'object') problems.push(`${path}.items: items of a map list must be objects`)
    for (const key of Array.isArray(mapKeys) ? mapKeys : []) {
      const prop = propertiesOf(item)[String(key)]
      if (!isSchema(prop)) {
        problems.push(`${path}: map key "${String(key)}" is not a property of the items`)
        continue
      }
      if (!['string', 'integer', 'number', 'boolean'].includes(String(prop.type))) problems.push(`${path}: map key "${String(key)}" must be a scalar`)
      if (!required.includes(key) && prop.default === undefined) problems.push(`${path}: map key "${String(key)}" must be required or have a default`)
    }
  }
  return problems
}

function celViolations (s: JsonSchema, path: string): string[] {
  const rules = s['x-kubernetes-validations']
  if (rules === undefined) return []
  if (!Array.isArray(rules)) return [`${path}: x-kubernetes-validations must be a list`]
  return rules.flatMap((r: unknown, i) => {
    const at = `${path}.x-kubernetes-validations[${i}]`
    if (!isSchema(r) || typeof r.rule !== 'string' || r.rule.trim() === '') return [`${at}: rule is not specified`]
    if (r.message !== undefined && (typeof r.message !== 'string' || r.message.trim() === '' || /[\r\n]/.test(r.message))) return [`${at}: message must be one non-empty line`]
    if (/[\r\n]/.test(r.rule) && r.message === undefined) return [`${at}: a rule with line breaks needs a message`]
    return []
  })
}

/** Patterns run on the API server's RE2: it has no lookaround and no backreferences. */
function patternViolations (pattern: unknown, path: string): string[] {
  if (pattern === undefined) return []
  if (typeof pattern !== 'string') return [`${path}: pattern must be a string`]
  try {
    new RegExp(pattern, 'u') // eslint-disable-line no-new
  } catch (error) {
    return [`${path}: pattern is not a valid regular expression: ${(error as Error).message}`]
  }
  return /\(\?[=!<]|\\[1-9]/.test(pattern) ? [`${path}: pattern uses lookaround or a backreference, which RE2 (the API server) lacks`] : []
}

/**
 * Every reason the API server would refuse this schema in a CustomResourceDefinition (the
 * structural rules of apiextensions-apiserver's schema/validation.go plus the CRD checks of
 * apis/apiextensions/validation), and our own rule that every field is described, as
 * `<path>: <problem>`. Empty means the API server will accept it.
 */
export function structuralViolations (schema: unknown, path = 'openAPIV3Schema', level: Level = 'root'): string[] {
  if (!isSchema(schema)) return [`${path}: not a schema object`]
  const s = schema
  const problems: string[] = []
  for (const key of FORBIDDEN) {
    if (key in s) problems.push(`${path}: "${key}" is not allowed in a structural schema`)
  }
  if (s.uniqueItems === true) problems.push(`${path}: uniqueItems: true is not allowed (quadratic to check)`)
  const intOrString = s['x-kubernetes-int-or-string'] === true
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true
  if (intOrString && 'type' in s) problems.push(`${path}: x-kubernetes-int-or-string must not carry a type`)
  if (intOrString && preserve) problems.push(`${path}: x-kubernetes-int-or-string and x-kubernetes-preserve-unknown-fields exclude each other`)
  if (!intOrString && !preserve && typeof s.type !== 'string') problems.push(`${path}: every node needs a type`)
  if (typeof s.type === 'string' && !TYPES.has(s.type)) problems.push(`${path}: type "${s.type}" is not one of ${[...TYPES].join(', ')}`)
  if (s.additionalProperties === false) problems.push(`${path}: additionalProperties: false is not allowed (unknown fields are pruned instead)`)
  if (s.additionalProperties !== undefined && s.properties !== undefined) problems.push(`${path}: properties and additionalProperties are mutually exclusive`)
  if (s.type === 'array' && !isSchema(s.items)) problems.push(`${path}: an array needs a single items schema`)
  if (level !== 'root' && typeof s.description !== 'string' && !/\.(items|additionalProperties|apiVersion|kind)$/.test(path)) {
    problems.push(`${path}: missing description`)
  }
  problems.push(...patternViolations(s.pattern, path), ...listTypeViolations(s, path), ...celViolations(s, path))
  if (s.default !== undefined) problems.push(...defaultViolations(s.default, s, `${path}.default`))

  const properties = propertiesOf(s)
  if (level === 'root') {
    if (typeof s.description !== 'string') problems.push(`${path}: missing description`)
    if (s.type !== 'object') problems.push(`${path}: the root must be of type object`)
    if (s.additionalProperties !== undefined) problems.push(`${path}: additionalProperties is not allowed at the root`)
    for (const name of Object.keys(properties)) {
      if (!ROOT_FIELDS.has(name)) problems.push(`${path}.properties.${name}: with the status subresource the root holds only ${[...ROOT_FIELDS].join(', ')}`)
    }
    for (const name of ['apiVersion', 'kind']) {
      const child = properties[name]
      if (child !== undefined && (!isSchema(child) || child.type !== 'string')) problems.push(`${path}.properties.${name}: must be of type string`)
    }
  }
  for (const [name, child] of Object.entries(properties)) {
    problems.push(...(level === 'root' && name === 'metadata'
      ? rootMetadataViolations(child, `${path}.properties.metadata`)
      : structuralViolations(child, `${path}.properties.${name}`, 'field')))
  }
  if (isSchema(s.additionalProperties)) problems.push(...structuralViolations(s.additionalProperties, `${path}.additionalProperties`, 'field'))
  if (s.items !== undefined) problems.push(...structuralViolations(s.items, `${path}.items`, 'item'))
  return problems
}
