// The installer's layering, read with the TypeScript parser (test/support/purity.ts): the core
// (installer/core/) decides without effects, and flow.ts reaches the node only through its Ports,
// so neither takes a value from a module that does I/O, reads the environment or the clock. Type
// imports are erased at compile time and may come from anywhere.
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { moduleFacts } from '../support/purity.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const INSTALLER = path.join(ROOT, 'installer')
const CONTRACT = path.join(ROOT, 'contract/index.ts')
const rel = (file: string): string => path.relative(ROOT, file)
const facts = (file: string) => moduleFacts(file, readFileSync(file, 'utf8'))
/** A relative specifier as the file it names (`./x.js` is `./x.ts` in the tree). */
const resolve = (from: string, spec: string): string | undefined =>
  spec.startsWith('.') ? path.resolve(path.dirname(from), spec).replace(/\.js$/, '.ts') : undefined

const CORE = readdirSync(path.join(INSTALLER, 'core')).filter(f => f.endsWith('.ts')).map(f => path.join(INSTALLER, 'core', f))

t.test('the core imports only its siblings, the kernel release parser and the contract', async t => {
  t.ok(CORE.length >= 3, `core files: ${CORE.map(rel).join(', ')}`)
  const allowed = new Set([...CORE, path.join(INSTALLER, 'kernel.ts'), CONTRACT])
  for (const file of CORE) {
    const outside = facts(file).imports.filter(spec => !allowed.has(resolve(file, spec) ?? spec))
    t.same(outside, [], `${rel(file)} imports nothing else, not even a type`)
  }
})

t.test('the core and flow.ts take values only from modules without effects, transitively', async t => {
  const seen = new Set<string>()
  const queue = [...CORE, path.join(INSTALLER, 'flow.ts')]
  while (queue.length > 0) {
    const file = queue.shift() as string
    if (seen.has(file) || file === CONTRACT) continue
    seen.add(file)
    const f = facts(file)
    const external = f.valueImports.filter(spec => resolve(file, spec) === undefined)
    t.same(external, [], `${rel(file)}: no node: module or package (the contract is the only shared one)`)
    t.same(f.processReads, [], `${rel(file)}: reads no environment or process state`)
    t.same(f.clockReads, [], `${rel(file)}: reads no clock (flow.ts's is a port)`)
    for (const spec of f.valueImports) {
      const next = resolve(file, spec)
      if (next !== undefined) queue.push(next)
    }
  }
  t.ok(seen.has(path.join(INSTALLER, 'steps.ts')), `walked ${[...seen].map(rel).join(', ')}`)
})

t.test('the installer\'s modules import each other without a cycle', async t => {
  const files = [...readdirSync(INSTALLER).filter(f => f.endsWith('.ts')).map(f => path.join(INSTALLER, f)), ...CORE]
  const edges = new Map(files.map(file => [file, facts(file).imports.map(spec => resolve(file, spec)).filter((f): f is string => f !== undefined && files.includes(f))]))
  const cycles: string[] = []
  const visit = (file: string, trail: string[]): void => {
    const at = trail.indexOf(file)
    if (at >= 0) {
      // One name per cycle, whichever module it is entered from: start at its first in order.
      const loop = trail.slice(at).map(rel)
      const first = loop.indexOf([...loop].sort()[0] as string)
      cycles.push([...loop.slice(first), ...loop.slice(0, first), loop[first]].join(' → '))
      return
    }
    for (const next of edges.get(file) ?? []) visit(next, [...trail, file])
  }
  for (const file of files) visit(file, [])
  t.same([...new Set(cycles)], [], 'no module reaches itself, through type imports either')
})
