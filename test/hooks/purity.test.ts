// The functional core must stay pure: it imports only types, schemas and the contract, and
// reads no env and no clock. Checked with the TypeScript parser (test/support/purity.ts), so a
// convenient import cannot creep in, however it is written.
import { readdirSync, readFileSync } from 'node:fs'
import t from 'tap'
import { moduleFacts } from '../support/purity.js'

const coreDir = new URL('../../hooks/core/', import.meta.url)
const ALLOWED = [/^\.\/[\w-]+\.js$/, /^\.\.\/\.\.\/contract\/index\.js$/, /^@sinclair\/typebox(\/value)?$/, /^node:util$/]

for (const file of readdirSync(coreDir).filter(f => f.endsWith('.ts'))) {
  t.test(`hooks/core/${file}`, async t => {
    const facts = moduleFacts(file, readFileSync(new URL(file, coreDir), 'utf8'))
    t.same(facts.imports.filter(spec => !ALLOWED.some(re => re.test(spec))), [], 'imports only siblings, the contract, typebox and node:util')
    t.same(facts.processReads, [], 'reads no environment or process state')
    t.same(facts.clockReads, [], 'reads no clock (now is a parameter)')
  })
}
