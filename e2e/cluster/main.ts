// `npm run cluster -- up|down|status`: the local cluster from the command line.
//   up [--nodes N]   start (or complete) the cluster; N simulated nodes (default 3, up to 1,000)
//   down [--purge]   stop what `up` started; --purge also deletes the cluster directory
//   status           which components run, their pids and logs; how to use kubectl with it
// GTP5G_CLUSTER_DIR picks the cluster directory (default: the demo's, in the cache).
import { parseArgs } from 'node:util'
import { LocalCluster, MissingPrerequisite } from './cluster.js'
import { TOOLS_BIN } from './tools.js'

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { nodes: { type: 'string', default: '3' }, purge: { type: 'boolean', default: false } }
})
const cluster = new LocalCluster()

async function main (command: string | undefined): Promise<void> {
  switch (command) {
    case 'up': {
      const nodes = Number(values.nodes)
      if (!Number.isInteger(nodes) || nodes < 0 || nodes > 1000) throw new Error(`--nodes must be a whole number from 0 to 1000, not ${String(values.nodes)}`)
      await cluster.up({ nodes, log: line => { console.log(line) } })
      console.log(`\nkubectl: export KUBECONFIG=${cluster.kubeconfigPath} PATH=${TOOLS_BIN}:$PATH`)
      return
    }
    case 'down':
      await cluster.down({ purge: values.purge })
      console.log(`stopped the cluster in ${cluster.dir}${values.purge ? ' and removed it' : ''}`)
      return
    case 'status':
      for (const c of cluster.status()) console.log(`${c.name.padEnd(24)} ${c.running ? `running (pid ${String(c.pid)})` : 'stopped'}  ${c.log}`)
      console.log(`\nkubectl: export KUBECONFIG=${cluster.kubeconfigPath} PATH=${TOOLS_BIN}:$PATH`)
      return
    default:
      throw new Error('usage: npm run cluster -- up [--nodes N] | down [--purge] | status')
  }
}

try {
  await main(positionals[0])
} catch (error) {
  console.error(error instanceof MissingPrerequisite ? `cannot start the local cluster: ${error.message}` : (error as Error).message)
  process.exitCode = 1
}
