// The import checker both purity tests rely on (test/support/purity.ts), on probes: every form an
// import can be written in, type imports told from value imports, and the process and clock reads
// it must see. The purity tests of hooks/core and installer/ assert nothing more than it sees.
import t from 'tap'
import { moduleFacts } from './purity.js'

t.test('the checker sees every form an import or a read can take', async t => {
  const facts = moduleFacts('probe.ts', [
    "import {\n  a,\n  b\n} from 'node:fs'",
    "export { c } from 'fastify'",
    "export * from './x.js'",
    "const d = await import('node:os')",
    "const e = require('pino')",
    'const f = process.env.HOME',
    'const { env } = process',
    'const g = Date.now()',
    'const h = new Date()',
    "const i = new Date('2026-01-01')"
  ].join('\n'))
  t.same(facts.imports, ['node:fs', 'fastify', './x.js', 'node:os', 'pino'])
  t.same(facts.processReads.map(r => r.split(':')[0]), ['9', '10'])
  t.same(facts.clockReads.map(r => r.split(':')[0]), ['11', '12'], 'a Date of a given time is no clock read')
})

t.test('the checker tells erased type imports from imports that load the module', async t => {
  const probe = moduleFacts('probe.ts', [
    "import { type A, type B } from './types.js'",
    "import type C from './c.js'",
    "import { type D, e } from './mixed.js'",
    "import './side-effect.js'",
    "import f from './default.js'",
    "export type { G } from './g.js'",
    "export { h } from './h.js'",
    "const i = await import('./dynamic.js')"
  ].join('\n'))
  t.same(probe.imports, ['./types.js', './c.js', './mixed.js', './side-effect.js', './default.js', './g.js', './h.js', './dynamic.js'])
  // Under verbatimModuleSyntax `import { type A, type B }` is emitted as `import {}`: it loads ./types.js.
  t.same(probe.valueImports, ['./types.js', './mixed.js', './side-effect.js', './default.js', './h.js', './dynamic.js'])
})
