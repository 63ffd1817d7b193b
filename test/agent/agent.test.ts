// The scheduling agent's loop on a fake clock against an in-memory Manager (fakemanager.ts, a
// fixture keeping the real Manager's observed rules): what it creates, updates, re-creates and
// deletes, its tokens, its backoff, and when it gives up and says why. The real Manager is the
// judge in e2e/scheduling.test.ts.
import t from 'tap'
import { strategyTag, type AgentRule } from '../../contract/index.js'
import { bodyOf } from '../../agent/reconcile.js'
import { type AgentReport, BACKOFF_MAX_MS, runAgent } from '../../agent/run.js'
import { AgentFailure, REFRESH_MARGIN_MS, Session } from '../../agent/session.js'
import { parseAgentConfig } from '../../agent/config.js'
import { FakeClock, FakeManager, TOKEN_LIFE_MS } from './fakemanager.js'

const GNB: AgentRule = { name: 'gnb', commandRegex: '^nr-gnb', podSelector: { app: 'gnb' }, namespaces: ['ran'], priority: 10, executionTimeNs: 20_000_000 }
const UPF: AgentRule = { name: 'upf', commandRegex: '^upf', podSelector: { app: 'upf', tier: 'core' }, namespaces: [], priority: 5, executionTimeNs: 5_000_000 }

interface Run {
  manager: FakeManager
  clock: FakeClock
  reports: AgentReport[]
  logs: string[]
  run: (rules?: AgentRule[], mode?: 'apply' | 'cleanup') => Promise<unknown>
}

function setup (untilMs: number, options: { password?: string, owner?: string } = {}): Run {
  const clock = new FakeClock(untilMs)
  const manager = new FakeManager(clock.now)
  manager.podsFor.add('app=gnb')
  manager.podsFor.add('app=upf,tier=core')
  const reports: AgentReport[] = []
  const logs: string[] = []
  return {
    manager,
    clock,
    reports,
    logs,
    run: async (rules = [GNB], mode = 'apply') => await runAgent(
      { owner: options.owner ?? 'sample', mode, rules, resyncSeconds: 10, unreachableExitSeconds: 60 },
      {
        api: manager,
        credentials: async () => ({ username: 'admin', password: options.password ?? 'secret' }),
        now: clock.now,
        sleep: clock.sleep,
        report: async r => { reports.push(r) },
        log: (event, fields) => { logs.push(`${event} ${JSON.stringify(fields ?? {})}`) },
        stopped: clock.stopped
      }
    ).catch((error: unknown) => error)
  }
}

const last = (r: Run): AgentReport | undefined => r.reports[r.reports.length - 1]

t.test('creates one strategy per rule with exactly the rule\'s fields, then only checks', async t => {
  const r = setup(120_000)
  t.equal(await r.run([GNB, UPF]), undefined, 'runs until stopped')
  t.same(r.manager.strategies.map(s => s.StrategyNamespace).sort(), [strategyTag('sample', 'gnb'), strategyTag('sample', 'upf')])
  const gnb = r.manager.strategies.find(s => s.StrategyNamespace === strategyTag('sample', 'gnb'))
  t.same(gnb, { ID: gnb?.ID, StrategyNamespace: 'gtp5g-operator/sample/gnb', LabelSelectors: [{ key: 'app', value: 'gnb' }], K8sNamespace: ['ran'], CommandRegex: '^nr-gnb', Priority: 10, ExecutionTime: 20_000_000 })
  t.equal(r.manager.calls.filter(c => c === 'create').length, 2, 'created once each, never again')
  t.equal(r.manager.calls.filter(c => c === 'update').length, 0, 'nothing to update')
  t.same(last(r), { ready: true, reason: 'Applied', message: '2 strategy(ies) in place' })
})

t.test('tokens: refreshed before their 60 s run out, never a call with an expired one, one login in ten minutes', async t => {
  const r = setup(600_000)
  await r.run()
  t.equal(r.manager.refusedTokens, 0, 'no call was refused for its token')
  t.equal(r.manager.calls.filter(c => c === 'login').length, 1, 'logged in once')
  const refreshes = r.manager.calls.filter(c => c === 'refresh').length
  // A token is refreshed when less than REFRESH_MARGIN_MS of its life is left, at the next 10 s pass.
  const life = TOKEN_LIFE_MS - REFRESH_MARGIN_MS
  t.ok(refreshes >= Math.floor(600_000 / (life + 10_000)) && refreshes <= Math.ceil(600_000 / life), `refreshed ${refreshes} times`)
})

t.test('a failed refresh (the refresh token died) means a new login, and the strategy stays', async t => {
  const r = setup(300_000)
  r.clock.at(100_000, () => { r.manager.refreshTokens.clear() })
  await r.run()
  t.equal(r.manager.calls.filter(c => c === 'login').length, 2, 'logged in again once')
  t.equal(r.manager.refusedTokens, 0)
  t.equal(r.manager.strategies.length, 1)
  t.equal(last(r)?.reason, 'Applied')
})

t.test('a call answered 401 (token revoked) gets one new login and is retried', async t => {
  const r = setup(60_000)
  r.clock.at(25_000, () => { (r.manager as unknown as { access: Map<string, number> }).access.clear() })
  await r.run()
  t.equal(r.manager.calls.filter(c => c === 'login').length, 2)
  t.equal(last(r)?.reason, 'Applied')
})

t.test('backoff while the Manager is unreachable: 1, 2, 4, 8, 16 s; then it recovers by itself', async t => {
  const r = setup(120_000)
  r.clock.at(20_001, () => { r.manager.unreachable = true })
  r.clock.at(55_000, () => { r.manager.unreachable = false })
  t.equal(await r.run(), undefined, 'did not give up within 60 s')
  const backoffs = r.logs.filter(l => l.startsWith('manager error')).map(l => (JSON.parse(l.slice('manager error '.length)) as { backoffMs: number }).backoffMs / 1000)
  t.same(backoffs, [1, 2, 4, 8, 16], 'waits between failed passes (s)')
  t.ok(r.reports.some(x => x.reason === 'ManagerUnreachable' && !x.ready), 'not ready while unreachable')
  t.equal(last(r)?.reason, 'Applied', 'ready again')
  t.equal(r.manager.strategies.length, 1, 'still exactly one strategy')
})

t.test('backoff is capped, and 60 s unreachable ends the agent with ManagerUnreachable', async t => {
  const r = setup(600_000)
  r.clock.at(1, () => { r.manager.unreachable = true })
  const error = await r.run()
  t.type(error, AgentFailure)
  t.equal((error as AgentFailure).reason, 'ManagerUnreachable')
  t.match((error as AgentFailure).message, /failed for 6\d s: .*ECONNREFUSED/)
  t.ok(BACKOFF_MAX_MS >= 30_000)
})

t.test('deleted behind our back: re-created, exactly one', async t => {
  const r = setup(60_000)
  r.clock.at(30_000, () => { r.manager.strategies = [] })
  await r.run()
  t.equal(r.manager.strategies.length, 1)
  t.equal(r.manager.calls.filter(c => c === 'create').length, 2)
})

t.test('a changed rule: updated in place with the full body (PUT replaces everything), no duplicate', async t => {
  const r = setup(30_000)
  // What an agent of the previous spec left: priority 10, same rule name.
  r.manager.strategies.push({ ID: '65f00000000000000000aaaa', ...pascal(bodyOf('sample', GNB)) })
  // Someone else's strategy with the same selector: never touched.
  r.manager.strategies.push({ ID: '65f00000000000000000bbbb', ...pascal({ ...bodyOf('sample', GNB), strategyNamespace: 'ops' }) })
  const changed = { ...GNB, priority: 15 }
  const bodies: unknown[] = []
  const update = r.manager.updateStrategy.bind(r.manager)
  r.manager.updateStrategy = async (token, id, body) => { bodies.push({ id, ...body }); await update(token, id, body) }
  await r.run([changed])
  t.same(bodies, [{ id: '65f00000000000000000aaaa', ...bodyOf('sample', changed) }], 'one PUT with every field')
  t.same(r.manager.strategies.map(s => [s.ID, s.Priority]), [['65f00000000000000000aaaa', 15], ['65f00000000000000000bbbb', 10]])
})

t.test('duplicates and strategies of removed rules are deleted; other owners\' are not', async t => {
  const r = setup(30_000)
  const id = (n: number): string => `65f0000000000000000000${String(90 + n)}`
  r.manager.strategies.push(
    { ID: id(1), ...pascal(bodyOf('sample', GNB)) },
    { ID: id(2), ...pascal(bodyOf('sample', GNB)) },
    { ID: id(3), ...pascal(bodyOf('sample', UPF)) },
    { ID: id(4), ...pascal(bodyOf('other', GNB)) },
    { ID: id(5), ...pascal(bodyOf('sample-2', GNB)) }
  )
  await r.run([GNB])
  t.same(r.manager.strategies.map(s => s.ID), [id(1), id(4), id(5)])
})

t.test('no matching pod: WaitingForPods (not ready, no strategy), then Applied once pods appear', async t => {
  const r = setup(60_000)
  r.manager.podsFor.clear()
  r.clock.at(22_000, () => { r.manager.podsFor.add('app=gnb') })
  await r.run()
  t.same(r.reports[0], { ready: false, reason: 'WaitingForPods', message: 'no pod matches rule(s) gnb yet' })
  t.equal(last(r)?.reason, 'Applied')
  t.equal(r.manager.strategies.length, 1)
})

t.test('a rule changed to select no pod: its old strategy goes (it would keep boosting the old pods), and comes back once a pod matches', async t => {
  const r = setup(60_000)
  r.manager.strategies.push({ ID: '65f00000000000000000aaaa', ...pascal(bodyOf('sample', GNB)) })
  const moved = { ...GNB, podSelector: { app: 'gnb-2' } }
  r.clock.at(30_000, () => { r.manager.podsFor.add('app=gnb-2') })
  await r.run([moved])
  t.same(r.reports[0], { ready: false, reason: 'WaitingForPods', message: 'no pod matches rule(s) gnb yet' })
  t.equal(r.manager.calls.filter(c => c === 'delete').length, 1, 'the stale strategy was deleted')
  t.same(r.manager.strategies.map(s => s.LabelSelectors), [[{ key: 'app', value: 'gnb-2' }]], 'one strategy, for the new pods')
  t.equal(last(r)?.reason, 'Applied')
})

t.test('wrong password: AuthFailed at once, nothing created', async t => {
  const r = setup(60_000, { password: 'wrong' })
  const error = await r.run()
  t.equal((error as AgentFailure).reason, 'AuthFailed')
  t.match((error as AgentFailure).message, /refused the login of "admin".*401/)
  t.equal(r.manager.strategies.length, 0)
})

t.test('a body the Manager refuses (400): Rejected, naming the rule', async t => {
  const r = setup(60_000)
  r.manager.rejectRegex = '^nr-gnb'
  const error = await r.run()
  t.equal((error as AgentFailure).reason, 'Rejected')
  t.match((error as AgentFailure).message, /^rule gnb: .*400/)
})

t.test('cleanup removes exactly this module\'s strategies, reports ready, and stays so', async t => {
  const r = setup(60_000)
  r.manager.strategies.push(
    { ID: '65f000000000000000000001', ...pascal(bodyOf('sample', GNB)) },
    { ID: '65f000000000000000000002', ...pascal(bodyOf('sample', UPF)) },
    { ID: '65f000000000000000000003', ...pascal(bodyOf('sample-2', GNB)) },
    { ID: '65f000000000000000000004', ...pascal({ ...bodyOf('sample', GNB), strategyNamespace: 'ops' }) }
  )
  r.clock.at(30_000, () => { r.manager.unreachable = true })
  t.equal(await r.run([], 'cleanup'), undefined)
  t.same(r.manager.strategies.map(s => s.ID), ['65f000000000000000000003', '65f000000000000000000004'])
  t.same(r.reports, [{ ready: true, reason: 'Removed', message: 'removed 2 strategy(ies)' }], 'one report, still ready while the Manager is gone')
})

t.test('stopping (SIGTERM) leaves the strategies in place', async t => {
  const r = setup(15_000)
  await r.run()
  t.equal(r.manager.strategies.length, 1)
  t.notOk(r.manager.calls.includes('delete'))
})

t.test('config: the pod\'s env, and a clear error naming the variable', async t => {
  const env = { GTHULHU_MANAGER_URL: 'http://m:8080', GTHULHU_OWNER: 'sample', GTHULHU_RULES: JSON.stringify([GNB]) }
  t.match(parseAgentConfig([], env), { command: 'run', mode: 'apply', rules: [GNB], credentialsDir: '/etc/gthulhu-credentials', stateDir: '/run/scheduling-agent', resyncSeconds: 10, unreachableExitSeconds: 60 })
  t.equal(parseAgentConfig(['check'], {}).command, 'check', 'the probe needs nothing but the state dir')
  const rows: Array<[Record<string, string>, RegExp]> = [
    [{ ...env, GTHULHU_MANAGER_URL: 'm:8080' }, /GTHULHU_MANAGER_URL must be an http\(s\) URL/],
    [{ ...env, GTHULHU_OWNER: '' }, /GTHULHU_OWNER must be the module name/],
    [{ ...env, GTHULHU_AGENT_MODE: 'nuke' }, /GTHULHU_AGENT_MODE must be one of apply, cleanup/],
    [{ ...env, GTHULHU_RULES: '{' }, /GTHULHU_RULES is not JSON/],
    [{ ...env, GTHULHU_RULES: '[{"name":"x"}]' }, /GTHULHU_RULES must be a JSON array of rules/],
    [{ ...env, GTHULHU_RULES: '[]' }, /GTHULHU_RULES holds no rule/],
    [{ ...env, GTHULHU_RESYNC_SECONDS: '0' }, /GTHULHU_RESYNC_SECONDS must be an integer from 1 to 3600/]
  ]
  for (const [e, message] of rows) t.throws(() => parseAgentConfig([], e), { reason: 'InvalidConfig', message }, String(message))
})

function pascal (b: ReturnType<typeof bodyOf>): Omit<import('../../agent/manager.js').Strategy, 'ID'> {
  return {
    StrategyNamespace: b.strategyNamespace,
    LabelSelectors: b.labelSelectors.map(s => ({ key: s.key, value: s.value })),
    K8sNamespace: b.k8sNamespace.length === 0 ? null : b.k8sNamespace,
    CommandRegex: b.commandRegex,
    Priority: b.priority,
    ExecutionTime: b.executionTime
  }
}

t.test('concurrent calls near expiry share one refresh: no second refresh with a dead token, no login', async t => {
  const clock = new FakeClock()
  const manager = new FakeManager(clock.now)
  const session = new Session(manager, async () => ({ username: 'admin', password: manager.password }), clock.now)
  await session.call(async token => await manager.listStrategies(token))
  await clock.sleep(TOKEN_LIFE_MS - REFRESH_MARGIN_MS + 1)
  await Promise.all([1, 2, 3].map(async () => await session.call(async token => await manager.listStrategies(token))))
  t.same(session.counts, { logins: 1, refreshes: 1, failedRefreshes: 0 }, 'one login at the start, one refresh for the three calls')
  t.equal(manager.refusedTokens, 0, 'no call with a refused token')
})
