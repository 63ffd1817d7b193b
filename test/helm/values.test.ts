// values.yaml, values.schema.json and the README's values table describe the same keys: every
// leaf of values.yaml has a row with its default and a schema, and the schema refuses unknown
// keys at every level. No helm needed.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { CHART_DIR, values } from './chart.js'

interface Schema {
  type?: string | string[]
  description?: string
  properties?: Record<string, Schema>
  additionalProperties?: boolean | Schema
  items?: Schema
}

const schema = JSON.parse(readFileSync(path.join(CHART_DIR, 'values.schema.json'), 'utf8')) as Schema
const readme = readFileSync(path.join(CHART_DIR, 'README.md'), 'utf8')

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Leaves of values.yaml by dotted path: scalars, lists and empty maps (non-empty maps are walked). */
function leaves (v: Record<string, unknown>, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>()
  for (const [k, child] of Object.entries(v)) {
    const key = `${prefix}${k}`
    if (isMap(child) && Object.keys(child).length > 0) for (const [kk, vv] of leaves(child, `${key}.`)) out.set(kk, vv)
    else out.set(key, child)
  }
  return out
}

/** Rows of the README's "## Values" table: `key` → default (parsed from its JSON). */
function tableRows (): Map<string, { default: unknown, description: string }> {
  const section = readme.split(/^## /m).find(s => s.startsWith('Values'))
  if (section === undefined) throw new Error('README.md has no "## Values" section')
  const rows = new Map<string, { default: unknown, description: string }>()
  for (const line of section.split('\n')) {
    const m = /^\| `([^`]+)` \| `(.*?)` \| (.*) \|$/.exec(line)
    if (m === null) continue
    const [, key = '', json = '', description = ''] = m
    if (rows.has(key)) throw new Error(`README.md lists ${key} twice`)
    rows.set(key, { default: JSON.parse(json), description: description.trim() })
  }
  return rows
}

/** The schema node of a dotted values path, through properties and map schemas. */
function schemaAt (key: string): Schema | undefined {
  let at: Schema | undefined = schema
  for (const part of key.split('.')) {
    if (at === undefined) return undefined
    at = at.properties?.[part] ?? (typeof at.additionalProperties === 'object' ? at.additionalProperties : undefined)
  }
  return at
}

const valueLeaves = leaves(values)
const rows = tableRows()

t.test('the README values table lists every leaf of values.yaml with its default, and nothing else', async t => {
  t.ok(valueLeaves.size > 20, 'values.yaml parsed')
  for (const [key, value] of valueLeaves) {
    const row = rows.get(key)
    if (row === undefined) {
      t.fail(`README.md has no row for ${key}`)
      continue
    }
    t.same(row.default, value, `${key}: the README's default is values.yaml's`)
    t.ok(row.description.length > 10, `${key}: described`)
  }
  for (const key of rows.keys()) t.ok(valueLeaves.has(key), `README row ${key} is a key of values.yaml`)
})

t.test('every key of values.yaml has a described schema', async t => {
  for (const key of valueLeaves.keys()) {
    const s = schemaAt(key)
    t.ok(s?.type !== undefined, `${key}: typed in values.schema.json`)
  }
  const described = (s: Schema, at: string): void => {
    for (const [k, child] of Object.entries(s.properties ?? {})) {
      t.ok(child.description, `${at}${k}: has a description`)
      described(child, `${at}${k}.`)
    }
  }
  described(schema, '')
})

t.test('the schema refuses unknown keys at every object level', async t => {
  // Objects with named properties refuse anything else; free-form maps (labels, annotations,
  // nodeSelector, resource lists) type their values instead.
  const walk = (s: Schema, at: string): void => {
    if (s.type === 'object') {
      if (s.properties !== undefined) t.equal(s.additionalProperties, false, `${at}: additionalProperties: false`)
      else t.ok(isMap(s.additionalProperties) && s.additionalProperties.type !== undefined, `${at}: a map with typed values`)
    }
    for (const [k, child] of Object.entries(s.properties ?? {})) walk(child, at === '' ? k : `${at}.${k}`)
    if (s.items !== undefined) walk(s.items, `${at}[]`)
  }
  walk(schema, '')
  t.equal(schema.additionalProperties, false, 'top level')
})
