// One wording for every schema error a user reads: the 400 of a request that is not a
// Metacontroller request (server/answer.ts) and the InvalidSpec condition (spec.ts). TypeBox
// finds the first error; the words are ours, so neither TypeBox nor ajv wording leaks into
// status or tests. A message is always "<field>: <what is wrong>".
import type { TSchema } from '@sinclair/typebox'
import { type ValueError, ValueErrorType } from '@sinclair/typebox/value'
import { type CelRule, VALIDATIONS } from './api.js'
import { isObject } from './k8s.js'

export interface FieldError {
  /** Where, as a user writes it: `spec.tolerations[0].key`, `parent.metadata.name`, or `body` for a whole request. */
  field: string
  /** `<field>: <what is wrong>`. */
  message: string
}

/** The CEL rules of the CRD a schema node carries (api.ts), each with its TypeScript twin. */
export const rulesOf = (schema: TSchema): CelRule[] => Array.isArray(schema[VALIDATIONS]) ? schema[VALIDATIONS] as CelRule[] : []

/**
 * A path into `root` as a field name: `.key` for an object's key, `[i]` for an array's item,
 * after `base` (`spec`); a path to the root itself with no base is `body`.
 */
export function fieldName (root: unknown, path: ReadonlyArray<string | number>, base = ''): string {
  let name = base
  let at: unknown = root
  for (const key of path) {
    name += Array.isArray(at) ? `[${key}]` : name === '' ? String(key) : `.${key}`
    at = isObject(at) || Array.isArray(at) ? (at as Record<string, unknown>)[key] : undefined
  }
  return name === '' ? 'body' : name
}

/** `<field>: <problem>`, the one shape of every message. */
export const fieldError = (field: string, problem: string): FieldError => ({ field, message: `${field}: ${problem}` })

/**
 * What a TypeBox error means, in our words. `root` is the value that was checked (the path is
 * read against it to tell array items from keys); `base` names it within the object the user
 * wrote (`spec`), or is empty for a request body.
 */
export function schemaError (error: ValueError, root: unknown, base = ''): FieldError {
  // A JSON pointer: "/" inside a key (a label key's prefix, "DaemonSet.apps/v1") is "~1".
  const path = error.path.split('/').slice(1).map(p => p.replaceAll('~1', '/').replaceAll('~0', '~'))
  return fieldError(fieldName(root, path, base), problemOf(error))
}

function problemOf ({ type, schema, value }: ValueError): string {
  if (type === ValueErrorType.ObjectRequiredProperty || value === undefined) return 'required'
  const literals: unknown[] | undefined = Array.isArray(schema.anyOf) ? schema.anyOf.map((s: TSchema) => s.const) : undefined
  if (literals !== undefined && literals.length > 0 && literals.every(l => typeof l === 'string')) return `must be one of ${literals.join(', ')}`
  switch (type) {
    case ValueErrorType.Object: return 'must be an object'
    case ValueErrorType.Array: return 'must be an array'
    case ValueErrorType.String: return 'must be a string'
    case ValueErrorType.Boolean: return 'must be a boolean (true or false, not a string)'
    case ValueErrorType.Integer: return 'must be an integer'
    case ValueErrorType.Number: return 'must be a number'
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMinimum: return `must be at least ${String(schema.minimum)}`
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMaximum: return `must be at most ${String(schema.maximum)}`
    case ValueErrorType.StringMinLength: return schema.minLength === 1 ? 'must not be empty' : `must be at least ${String(schema.minLength)} characters long`
    case ValueErrorType.StringMaxLength: return `must be at most ${String(schema.maxLength)} characters long`
    case ValueErrorType.StringPattern: return `must match ${String(schema.pattern)}`
    case ValueErrorType.ArrayMinItems: return `must have at least ${String(schema.minItems)} item(s)`
    case ValueErrorType.ArrayMaxItems: return `must have at most ${String(schema.maxItems)} items`
    case ValueErrorType.ObjectMinProperties: return `must have at least ${String(schema.minProperties)} entry(ies)`
    case ValueErrorType.ObjectMaxProperties: return `must have at most ${String(schema.maxProperties)} entries`
    case ValueErrorType.ObjectAdditionalProperties: return 'is not a known field'
    case ValueErrorType.Literal: return `must be ${JSON.stringify(schema.const)}`
    // A union the CRD checks in CEL (int-or-string): the rule's message says what is expected,
    // as the API server says it.
    case ValueErrorType.Union: return rulesOf(schema)[0]?.message ?? 'matches none of the allowed forms'
    // Kinds our schemas do not use; named, so that a new one shows up in a test as it is.
    default: return `does not match the schema (${ValueErrorType[type]})`
  }
}
