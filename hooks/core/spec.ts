// Validates and defaults a parent's spec. The CRD normally rejects bad objects at apply time;
// this catches the rest (a CRD installed without its schema, an older CRD) so sync can answer
// InvalidSpec instead of acting on garbage.
import { Value } from '@sinclair/typebox/value'
import type { TSchema } from '@sinclair/typebox'
import { GTP5GModuleSpec, INT_OR_STRING } from './api.js'

export type SpecResult =
  | { ok: true, spec: GTP5GModuleSpec }
  | { ok: false, field: string, message: string }

export function parseSpec (raw: unknown): SpecResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, field: 'spec', message: 'spec: must be an object with at least spec.version' }
  }
  const spec: unknown = Value.Default(GTP5GModuleSpec, structuredClone(raw))
  const error = Value.Errors(GTP5GModuleSpec, spec).First()
  if (error === undefined) return { ok: true, spec: spec as GTP5GModuleSpec }
  const field = 'spec' + error.path.split('/').map(part => part === '' ? '' : /^\d+$/.test(part) ? `[${part}]` : `.${part}`).join('')
  return { ok: false, field, message: `${field}: ${describe(error.schema, error.value, error.message)}` }
}

function describe (schema: TSchema, value: unknown, fallback: string): string {
  if (value === undefined) return 'required'
  const literals: unknown[] | undefined = Array.isArray(schema.anyOf) ? schema.anyOf.map((s: TSchema) => s.const) : undefined
  if (literals !== undefined && literals.every(l => typeof l === 'string')) return `expected one of ${literals.join(', ')}`
  if (schema[INT_OR_STRING] === true) return 'expected a non-negative integer or a percentage such as "25%"'
  if (typeof schema.pattern === 'string') return `expected a string matching ${schema.pattern}`
  return fallback.charAt(0).toLowerCase() + fallback.slice(1)
}
