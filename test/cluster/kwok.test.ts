// `up` calls a cluster ready only when kwok really acts, not when it merely answers its health
// check. A kwok that manages no node is made here with a flag (its node selector matches no
// node), which is what a kwok whose Stage cache went stale looks like from outside: healthy,
// logging, and no node ever Ready. Runs the real binaries of the local cluster.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { LocalCluster, missingPrerequisite } from '../../e2e/cluster/cluster.js'
import { prerequisiteMet } from '../support/prerequisite.js'

const problem = missingPrerequisite()
if (problem !== undefined) prerequisiteMet(problem)
else {
  t.test('a kwok that is healthy but manages no node is restarted with its log shown, then refused', async t => {
    const cluster = new LocalCluster(mkdtempSync(path.join(tmpdir(), 'gtp5g-kwok-')), {
      kwokArgs: ['--manage-nodes-with-annotation-selector=e2e.gtp5g.gthulhu.io/no-such-node=true']
    })
    t.teardown(async () => { await cluster.down({ purge: true }) })
    const lines: string[] = []
    const started = Date.now()
    await t.rejects(cluster.up({ nodes: 0, kwokStarts: 2, log: line => { lines.push(line) } }),
      /^kwok does not initialise nodes \(the canary node never turned Ready\), after 2 start\(s\); the end of .*kwok\.log:\n[^]*Starting HTTP server/)
    t.match(lines.join('\n'), /kwok does not initialise nodes[^\n]*; restarting it \(start 2 of 2\)\. The end of its log:\n/)
    t.notMatch(lines.join('\n'), /cluster up/, 'never called up')
    t.equal(cluster.status().find(c => c.name === 'metacontroller')?.running, false, 'nothing after kwok was started')
    t.comment(`refused in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  })
}
