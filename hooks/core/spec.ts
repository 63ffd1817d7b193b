// Validates and defaults a parent's spec. The CRD normally rejects bad objects at apply time;
// this catches the rest (a CRD installed without its schema, an older CRD) so sync can answer
// InvalidSpec instead of acting on garbage.
import { Value } from '@sinclair/typebox/value'
import type { TSchema } from '@sinclair/typebox'
import { type CelRule, GTP5GModuleSpec, VALIDATIONS } from './api.js'

export type SpecResult =
  | { ok: true, spec: GTP5GModuleSpec }
  | { ok: false, field: string, message: string }

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * What the API server does to an object of a structural schema before validating it: unknown
 * fields and nulls are pruned, then a field that is absent gets its default, and the defaults
 * inside that. A value the user gave is never merged with the default (TypeBox's Value.Default
 * merges a default map into a given one, so `nodeSelector: {role: upf}` would also require the
 * default label). Walks only the schema's own fields, so its depth is the schema's whatever the
 * input, and nothing unknown reaches the DaemonSet.
 */
export function withDefaults (schema: TSchema, value: unknown): unknown {
  if (schema.type === 'object' && isPlainObject(value) && isPlainObject(schema.properties)) {
    const out: Record<string, unknown> = {}
    for (const [key, field] of Object.entries(schema.properties as Record<string, TSchema>)) {
      const given = Object.hasOwn(value, key) && value[key] !== null ? value[key] : undefined
      if (given !== undefined) out[key] = withDefaults(field, given)
      else if (field.default !== undefined) out[key] = withDefaults(field, structuredClone(field.default))
    }
    return out
  }
  if (schema.type === 'array' && Array.isArray(value) && schema.items !== undefined) {
    return value.map(item => withDefaults(schema.items as TSchema, item))
  }
  return value
}

export function parseSpec (raw: unknown): SpecResult {
  if (!isPlainObject(raw)) {
    return { ok: false, field: 'spec', message: 'spec: must be an object with at least spec.version' }
  }
  const spec = withDefaults(GTP5GModuleSpec, raw)
  // Value.Check first: walking the error iterator of a valid spec cost every sync more than the check.
  const error = Value.Check(GTP5GModuleSpec, spec) ? undefined : Value.Errors(GTP5GModuleSpec, spec).First()
  if (error !== undefined) {
    // A JSON pointer: "/" inside a key (a label key's prefix) is escaped as "~1".
    const parts = error.path.split('/').slice(1).map(p => p.replaceAll('~1', '/').replaceAll('~0', '~'))
    const field = fieldOf(parts)
    return { ok: false, field, message: `${field}: ${describe(error.schema, error.value, error.message)}` }
  }
  const broken = brokenRule(GTP5GModuleSpec, spec, [])
  if (broken !== undefined) {
    const field = fieldOf(broken.path)
    return { ok: false, field, message: `${field}: ${broken.rule.message}` }
  }
  return { ok: true, spec: spec as GTP5GModuleSpec }
}

const fieldOf = (path: ReadonlyArray<string | number>): string =>
  'spec' + path.map(p => typeof p === 'number' || /^\d+$/.test(p) ? `[${p}]` : `.${p}`).join('')

const rulesOf = (schema: TSchema): CelRule[] => Array.isArray(schema[VALIDATIONS]) ? schema[VALIDATIONS] as CelRule[] : []

/** The first CEL rule of the CRD the value breaks, checked by its TypeScript twin, and where. */
function brokenRule (schema: TSchema, value: unknown, path: Array<string | number>): { rule: CelRule, path: Array<string | number> } | undefined {
  for (const rule of rulesOf(schema)) {
    if (rule.check !== undefined && !rule.check(value)) return { rule, path }
  }
  if (schema.type === 'object' && isPlainObject(value) && isPlainObject(schema.properties)) {
    for (const [key, field] of Object.entries(schema.properties as Record<string, TSchema>)) {
      if (value[key] === undefined) continue
      const broken = brokenRule(field, value[key], [...path, key])
      if (broken !== undefined) return broken
    }
  }
  if (schema.type === 'array' && Array.isArray(value) && schema.items !== undefined) {
    for (const [i, item] of value.entries()) {
      const broken = brokenRule(schema.items as TSchema, item, [...path, i])
      if (broken !== undefined) return broken
    }
  }
  return undefined
}

function describe (schema: TSchema, value: unknown, fallback: string): string {
  if (value === undefined) return 'required'
  const literals: unknown[] | undefined = Array.isArray(schema.anyOf) ? schema.anyOf.map((s: TSchema) => s.const) : undefined
  if (literals !== undefined && literals.every(l => typeof l === 'string')) return `expected one of ${literals.join(', ')}`
  if (typeof schema.minProperties === 'number' && isPlainObject(value) && Object.keys(value).length < schema.minProperties) {
    return `expected at least ${schema.minProperties} entry(ies)`
  }
  // A union the CRD checks in CEL (int-or-string): its rule's message says what is expected.
  const [rule] = rulesOf(schema)
  if (rule !== undefined) return rule.message
  if (typeof schema.pattern === 'string') return `expected a string matching ${schema.pattern}`
  return fallback.charAt(0).toLowerCase() + fallback.slice(1)
}
