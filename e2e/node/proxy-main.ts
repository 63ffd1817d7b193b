// The CONNECT proxy of proxy.ts as a process of its own (e2e/node/realnode.ts starts it):
//   node --import @tapjs/typescript/import e2e/node/proxy-main.ts <socket> <routes.json>
import { rmSync } from 'node:fs'
import { serve } from './proxy.js'

const [socketPath, routesFile] = process.argv.slice(2)
if (socketPath === undefined || routesFile === undefined) throw new Error('usage: proxy-main.ts <socket> <routes.json>')
const log = (line: string): void => { console.log(`${new Date().toISOString()} ${line}`) }
serve(socketPath, routesFile, log).on('listening', () => { log(`listening on ${socketPath}, routes from ${routesFile}`) })
process.on('SIGTERM', () => { rmSync(socketPath, { force: true }); process.exit(0) })
