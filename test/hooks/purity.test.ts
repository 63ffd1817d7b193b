// The functional core must stay pure: it imports only types, schemas and the contract, and
// reads no env and no clock. Checked here so a convenient import cannot creep in.
import { readdirSync, readFileSync } from 'node:fs'
import t from 'tap'

const coreDir = new URL('../../hooks/core/', import.meta.url)
const ALLOWED = [/^\.\/[\w-]+\.js$/, /^\.\.\/\.\.\/contract\/index\.js$/, /^@sinclair\/typebox(\/value)?$/, /^node:util$/]

for (const file of readdirSync(coreDir).filter(f => f.endsWith('.ts'))) {
  t.test(`hooks/core/${file}`, async t => {
    const source = readFileSync(new URL(file, coreDir), 'utf8')
    const imports = [...source.matchAll(/^import .* from '([^']+)'/gm)].map(m => m[1] ?? '')
    for (const spec of imports) t.ok(ALLOWED.some(re => re.test(spec)), `imports ${spec}`)
    t.notMatch(source, /process\.env/, 'reads no environment')
    t.notMatch(source, /Date\.now\(\)|new Date\(\)/, 'reads no clock (now is a parameter)')
    t.notMatch(source, /fastify|pino|prom-client/, 'knows nothing of the server')
  })
}
