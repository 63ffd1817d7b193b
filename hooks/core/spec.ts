// Validates and defaults a parent's spec. The CRD normally rejects bad objects at apply time;
// this catches the rest (a CRD installed without its schema, an older CRD) so sync can answer
// InvalidSpec instead of acting on garbage.
import { Value } from '@sinclair/typebox/value'
import type { TSchema } from '@sinclair/typebox'
import { DEFAULT_NODE_SELECTOR } from '../../contract/index.js'
import { type CelRule, GTP5GModuleSpec } from './api.js'
import { isObject, type KubeObject } from './k8s.js'
import { fieldError, fieldName, rulesOf, schemaError } from './schemaerror.js'

type SpecResult =
  | { ok: true, spec: GTP5GModuleSpec }
  | { ok: false, field: string, message: string }

/**
 * What the API server does to an object of a structural schema before validating it: unknown
 * fields and nulls are pruned, then a field that is absent gets its default, and the defaults
 * inside that. A value the user gave is never merged with the default (TypeBox's Value.Default
 * merges a default map into a given one, so `nodeSelector: {role: upf}` would also require the
 * default label). Walks only the schema's own fields, so its depth is the schema's whatever the
 * input, and nothing unknown reaches the DaemonSet.
 */
function withDefaults (schema: TSchema, value: unknown): unknown {
  if (schema.type === 'object' && isObject(value) && isObject(schema.properties)) {
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
  if (!isObject(raw)) return { ok: false, ...fieldError('spec', 'must be an object with at least spec.version') }
  const spec = withDefaults(GTP5GModuleSpec, raw)
  // Value.Check first: walking the error iterator of a valid spec cost every sync more than the check.
  const error = Value.Check(GTP5GModuleSpec, spec) ? undefined : Value.Errors(GTP5GModuleSpec, spec).First()
  if (error !== undefined) return { ok: false, ...schemaError(error, spec, 'spec') }
  const broken = brokenRule(GTP5GModuleSpec, spec, [])
  if (broken !== undefined) return { ok: false, ...fieldError(fieldName(spec, broken.path, 'spec'), broken.rule.message) }
  return { ok: true, spec: spec as GTP5GModuleSpec }
}

/**
 * Any module's node selector as the API server would default it, valid spec or not: customize,
 * the conflicts between modules and the node labels all read it. A malformed one counts as the
 * default.
 */
export function nodeSelectorOf (module: KubeObject): Record<string, string> {
  return asSelector(isObject(module.spec) ? module.spec.nodeSelector : undefined) ?? { ...DEFAULT_NODE_SELECTOR }
}

/** The value as a node selector (an object of strings), or undefined when it is none. */
export function asSelector (value: unknown): Record<string, string> | undefined {
  return isObject(value) && Object.values(value).every(v => typeof v === 'string') ? value as Record<string, string> : undefined
}

/** The first CEL rule of the CRD the value breaks, checked by its TypeScript twin, and where. */
function brokenRule (schema: TSchema, value: unknown, path: Array<string | number>): { rule: CelRule, path: Array<string | number> } | undefined {
  for (const rule of rulesOf(schema)) {
    if (rule.check !== undefined && !rule.check(value)) return { rule, path }
  }
  if (schema.type === 'object' && isObject(value) && isObject(schema.properties)) {
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
