// Turns a TypeBox schema into an OpenAPI v3 schema Kubernetes accepts as "structural", and
// checks that it is. Kubernetes refuses (or silently prunes around) anything else, so the CRD
// generator runs both and fails loudly instead of writing a CRD the API server would reject.
import type { TSchema } from '@sinclair/typebox'
import { INT_OR_STRING } from '../core/api.js'

export type JsonSchema = Record<string, unknown>

/** Keywords copied as they are: all are allowed in a structural schema. */
const PASSTHROUGH = ['type', 'description', 'format', 'pattern', 'minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'enum', 'default'] as const

const isLiteralUnion = (s: TSchema): boolean =>
  Array.isArray(s.anyOf) && s.anyOf.length > 0 && s.anyOf.every((m: TSchema) => typeof m.const === 'string')

export function toStructural (schema: TSchema): JsonSchema {
  if (schema[INT_OR_STRING] === true) {
    const out: JsonSchema = { [INT_OR_STRING]: true }
    if (schema.description !== undefined) out.description = schema.description
    if (schema.default !== undefined) out.default = schema.default
    const [integer, string] = schema.anyOf as TSchema[]
    // A pattern cannot sit on an untyped node, so the rule for both branches is CEL.
    out['x-kubernetes-validations'] = [{
      rule: `type(self) == int ? self >= ${String(integer?.minimum ?? 0)} : self.matches('${String(string?.pattern)}')`,
      message: 'must be a non-negative integer or a percentage such as "25%"'
    }]
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

const FORBIDDEN = ['anyOf', 'oneOf', 'allOf', 'not', 'const', 'patternProperties', '$ref', 'definitions', '$defs', 'dependencies', 'additionalItems', 'uniqueItems'] as const

/**
 * Every violation of Kubernetes' structural schema rules found under `schema`, as
 * `<path>: <problem>`. Empty means the API server will accept it.
 */
export function structuralViolations (schema: unknown, path = 'openAPIV3Schema'): string[] {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return [`${path}: not a schema object`]
  const s = schema as JsonSchema
  const problems: string[] = []
  for (const key of FORBIDDEN) {
    if (key in s) problems.push(`${path}: "${key}" is not allowed in a structural schema`)
  }
  const intOrString = s[INT_OR_STRING] === true
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true
  if (intOrString && 'type' in s) problems.push(`${path}: x-kubernetes-int-or-string must not carry a type`)
  if (!intOrString && !preserve && typeof s.type !== 'string') problems.push(`${path}: every node needs a type`)
  if (s.additionalProperties === false) problems.push(`${path}: additionalProperties: false is not allowed (unknown fields are pruned instead)`)
  if (s.additionalProperties !== undefined && s.properties !== undefined) problems.push(`${path}: properties and additionalProperties are mutually exclusive`)
  if (s.type === 'array' && (typeof s.items !== 'object' || s.items === null || Array.isArray(s.items))) problems.push(`${path}: an array needs a single items schema`)
  if (typeof s.description !== 'string' && !path.endsWith('.items') && !path.endsWith('.additionalProperties') && !/\.(apiVersion|kind|metadata)$/.test(path)) {
    problems.push(`${path}: missing description`)
  }
  for (const [name, child] of Object.entries((s.properties ?? {}) as Record<string, unknown>)) {
    problems.push(...structuralViolations(child, `${path}.properties.${name}`))
  }
  if (typeof s.additionalProperties === 'object') problems.push(...structuralViolations(s.additionalProperties, `${path}.additionalProperties`))
  if (s.items !== undefined) problems.push(...structuralViolations(s.items, `${path}.items`))
  return problems
}
