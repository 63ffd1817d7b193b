// spec.scheduling end to end against the REAL Gthulhu Manager (commit c969a96, provided as
// GTHULHU_MANAGER_DIR) on FerretDB, with the local cluster's real kube-apiserver, the real
// Metacontroller, this repository's hook server and chart. The gNB pods are kwok pods labelled
// as a user would label UERANSIM's gNB. The agent is the real program: its pod is run by
// AgentKubelet (e2e/lib/agentkubelet.ts) as a process with the pod's own env and Secret, and its
// readiness and termination message reach the hooks through the pod status, as a kubelet's would.
// What this does not prove: the agent inside its container on a real kubelet (the real-node
// suite's VM is where that pod will run), and Gthulhu's scheduler acting on the strategy (it
// needs sched_ext, Linux >= 6.12, on the node).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { parse } from 'yaml'
import { strategyTag } from '../contract/index.js'
import { AgentKubelet } from './lib/agentkubelet.js'
import { GthulhuManager, gthulhuMissing } from './lib/gthulhu.js'
import { type Harness, startHarness, whyNot } from './lib/harness.js'
import { CHART, HOOK_NAMESPACE, INSTALLER_NAMESPACE, RELEASE, SAMPLE } from '../test/support/release.js'
import { condition, getJson, type Obj, waitFor, waitForModule } from './lib/kube.js'
import { REPO } from './cluster/cluster.js'
import { prerequisiteMet } from '../test/support/prerequisite.js'

const builtAgent = existsSync(path.join(REPO, 'dist/agent/main.js')) ? undefined : 'the agent is not built: run `npm run build`'
const ready = prerequisiteMet(whyNot() ?? gthulhuMissing() ?? builtAgent)

let h: Harness
let manager: GthulhuManager
let kubelet: AgentKubelet
let dir: string

const NAME = 'sched'
const GNB_LABELS = { 'app.kubernetes.io/name': 'ueransim-gnb', 'app.kubernetes.io/component': 'gnb' }
const sample = parse(readFileSync(SAMPLE, 'utf8')) as Obj

interface Strategy { ID: string, StrategyNamespace: string, LabelSelectors: Array<{ key: string, value: string }> | null, K8sNamespace: string[] | null, CommandRegex: string, Priority: number, ExecutionTime: number }
interface Intent { StrategyID: string, PodID: string, K8sNamespace: string, CommandRegex: string, Priority: number, ExecutionTime: number }

const ours = async (): Promise<Strategy[]> => {
  const res = await manager.api<{ strategies: Strategy[] }>('GET', '/api/v1/strategies/self')
  return (res.body.data?.strategies ?? []).filter(s => s.StrategyNamespace.startsWith(strategyTag(NAME)))
}
const intents = async (): Promise<Intent[]> => (await manager.api<{ intents: Intent[] }>('GET', '/api/v1/intents/self')).body.data?.intents ?? []

function moduleSpec (rule: Record<string, unknown> = {}, secret = 'gthulhu-manager'): Record<string, unknown> {
  return {
    ...sample.spec,
    scheduling: {
      managerUrl: manager.url,
      credentialsSecret: { name: secret },
      rules: [{ name: 'gnb', podSelector: GNB_LABELS, namespaces: ['ran'], ...rule }]
    }
  }
}
const applyModule = async (spec: Record<string, unknown>): Promise<void> => {
  await h.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: sample.apiVersion, kind: sample.kind, metadata: { name: NAME }, spec }))
}
const scheduling = async (reason: string, timeoutMs = 120_000): Promise<Obj> =>
  await waitForModule(h, NAME, `Scheduling reason ${reason}`, m => condition(m, 'Scheduling')?.reason === reason, timeoutMs)

async function gnbPod (name: string, labels: Record<string, string> = GNB_LABELS): Promise<void> {
  await h.kubectl(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'ran', labels },
    spec: { containers: [{ name: 'gnb', image: 'docker.io/towards5gs/ueransim-gnb:v3.2.3', command: ['nr-gnb', '-c', '/etc/ueransim/gnb.yaml'] }] }
  }))
}

if (ready) {
  t.before(async () => {
    h = await startHarness({ nodes: 2, name: 'sched' })
    await h.helm(['install', RELEASE, CHART, '-n', HOOK_NAMESPACE, '--create-namespace', '--set', `hooks.url=${String(h.hooksUrl)}`, '--wait', '--timeout=2m'])
    await h.kubectl(['wait', '--for=condition=Established', 'crd/gtp5gmodules.operator.gthulhu.io', '--timeout=60s'])
    dir = mkdtempSync(path.join(tmpdir(), 'gtp5g-gthulhu-'))
    manager = new GthulhuManager(path.join(dir, 'manager'), { kubeconfig: h.kubeconfig, kubectl: h.kubectl })
    await manager.start()
    kubelet = new AgentKubelet(h, INSTALLER_NAMESPACE, path.join(dir, 'agents'))
    kubelet.start()
    await h.kubectl(['create', 'namespace', 'ran'])
  })
  t.teardown(async () => {
    await kubelet?.stop()
    if (!t.passing()) {
      const comment = (text: string): string => text.split('\n').map(l => `# ${l}`).join('\n')
      console.error(`# ---- gthulhu manager ----\n${comment(manager?.logTail('manager', 40) ?? '')}`)
      for (const r of kubelet?.all() ?? []) console.error(`# ---- agent ${r.name} ----\n${comment(r.output.slice(-30).join('\n'))}`)
    }
    await manager?.stop()
    await h?.stop({ failed: !t.passing() })
    if (dir !== undefined && process.env.E2E_KEEP !== '1') rmSync(dir, { recursive: true, force: true })
  })
}

// Without a prerequisite the file is skipped with its reason (failed under CI=true), no tests defined.
const scenario = (name: string, fn: (t: Test) => Promise<void>): void => {
  if (ready) t.test(name, fn)
}

scenario('the Manager\'s API as the agent relies on it (Gthulhu c969a96)', async t => {
  const login = await fetch(`${manager.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: manager.adminUser, password: manager.adminPassword }) })
  const pair = await login.json() as { success: boolean, data: { token: string, accessToken: string, refreshToken: string }, timestamp: string }
  t.equal(pair.success, true)
  t.ok(pair.data.token === pair.data.accessToken && pair.data.refreshToken.length > 0, 'token, accessToken and refreshToken')
  const claims = JSON.parse(Buffer.from(pair.data.accessToken.split('.')[1] ?? '', 'base64url').toString()) as { exp: number, iat?: number }
  const header = JSON.parse(Buffer.from(pair.data.accessToken.split('.')[0] ?? '', 'base64url').toString()) as { alg: string }
  t.equal(header.alg, 'RS256')
  t.comment(`access token life: ${claims.exp - (claims.iat ?? Math.floor(Date.now() / 1000))} s`)
  const refresh = async (token: string): Promise<number> => (await fetch(`${manager.url}/api/v1/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: token }) })).status
  t.equal(await refresh(pair.data.refreshToken), 200, 'refresh works once')
  t.equal(await refresh(pair.data.refreshToken), 401, 'the old refresh token died with the rotation')
  const noPods = await manager.api('POST', '/api/v1/strategies', { strategyNamespace: 'probe', labelSelectors: [{ key: 'nothing', value: 'here' }], k8sNamespace: ['ran'], commandRegex: '^x', priority: 1, executionTime: 1000000 })
  t.equal(noPods.status, 404)
  t.match(noPods.body.error, /no pods match the strategy criteria/)
  const badId = await manager.api('DELETE', '/api/v1/strategies', { strategyId: 'not-an-object-id' })
  t.equal(badId.status, 500, 'a non-ObjectID id is a 500 (the agent only deletes ids it listed)')
  const wrong = await fetch(`${manager.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: manager.adminUser, password: 'wrong' }) })
  t.equal(wrong.status, 401, 'a wrong password is a 401')
})

let created = 0
scenario('a module with scheduling: the strategy has exactly the spec\'s fields, intents for the gNB pods, Scheduling=True', async t => {
  await gnbPod('gnb-0')
  await gnbPod('gnb-1')
  await h.kubectl(['create', 'secret', 'generic', 'gthulhu-manager', '-n', INSTALLER_NAMESPACE, `--from-literal=username=${manager.adminUser}`, `--from-literal=password=${manager.adminPassword}`])
  created = Date.now()
  await applyModule(moduleSpec())
  const m = await scheduling('Applied')
  t.comment(`spec applied → Scheduling=Applied in ${((Date.now() - created) / 1000).toFixed(1)} s`)
  t.equal(condition(m, 'Scheduling')?.status, 'True')
  t.equal(m.status.phase, 'Installed', 'gtp5g is Installed as before')
  t.equal(condition(m, 'Ready')?.status, 'True')
  const strategies = await ours()
  t.equal(strategies.length, 1, 'exactly one strategy')
  t.match(strategies[0], {
    StrategyNamespace: `gtp5g-operator/${NAME}/gnb`,
    LabelSelectors: [{ key: 'app.kubernetes.io/component', value: 'gnb' }, { key: 'app.kubernetes.io/name', value: 'ueransim-gnb' }],
    K8sNamespace: ['ran'],
    CommandRegex: '^nr-gnb',
    Priority: 10,
    ExecutionTime: 20_000_000
  })
  const pods = await Promise.all(['gnb-0', 'gnb-1'].map(async n => (await getJson(h, ['pod', '-n', 'ran', n]))?.metadata.uid))
  const mine = (await intents()).filter(i => i.StrategyID === strategies[0]?.ID)
  t.same(mine.map(i => i.PodID).sort(), [...pods].sort(), 'one intent per gNB pod')
  t.ok(mine.every(i => i.Priority === 10 && i.ExecutionTime === 20_000_000 && i.CommandRegex === '^nr-gnb' && i.K8sNamespace === 'ran'))
  const agentDeployment = await getJson(h, ['deployment', '-n', INSTALLER_NAMESPACE, `gtp5g-scheduling-${NAME}`])
  t.equal(agentDeployment?.spec.template.spec.automountServiceAccountToken, false)
})

scenario('priority changed: the same strategy updated in place, no duplicate', async t => {
  const before = await ours()
  const changed = Date.now()
  await applyModule(moduleSpec({ priority: 15 }))
  const after = await waitFor('the strategy at priority 15', async () => {
    const s = await ours()
    return s.length === 1 && s[0]?.Priority === 15 ? s : undefined
  }, { timeoutMs: 120_000, intervalMs: 200 })
  t.comment(`spec change → strategy updated in the Manager: ${((Date.now() - changed) / 1000).toFixed(1)} s`)
  t.equal(after[0]?.ID, before[0]?.ID, 'same id: updated, not re-created')
  await scheduling('Applied')
  t.equal((await ours()).length, 1)
})

scenario('strategy deleted behind our back: re-created', async t => {
  const [s] = await ours()
  t.equal((await manager.api('DELETE', '/api/v1/strategies', { strategyId: s?.ID })).status, 200)
  const deleted = Date.now()
  const back = await waitFor('the strategy re-created', async () => {
    const now = await ours()
    return now.length === 1 && now[0]?.ID !== s?.ID ? now : undefined
  }, { timeoutMs: 60_000, intervalMs: 200 })
  t.comment(`deleted → re-created in ${((Date.now() - deleted) / 1000).toFixed(1)} s`)
  t.equal(back[0]?.Priority, 15)
})

/** Requests the Manager logged as completed, by method and URL (its console log, colours removed). */
const managerRequests = (method: string, url: string): number =>
  // eslint-disable-next-line no-control-regex
  readFileSync(path.join(manager.dir, 'logs', 'manager.log'), 'utf8').replace(/\u001b\[[0-9;]*m/g, '').split('\n')
    .filter(l => l.includes('Request completed') && l.includes(` method=${method} `) && (l.endsWith(` url=${url}`) || l.includes(` url=${url} `))).length

// Before the Manager's restart: a restarted Manager may not know the refresh token the agent
// holds, and then a new login is the right answer, not a lost session.
scenario('longer than the 60 s token life: refreshed, never logged in again, nothing rewritten while nothing changes', async t => {
  const [puts, logins] = [managerRequests('PUT', '/api/v1/strategies'), managerRequests('POST', '/api/v1/auth/login')]
  const quiet = Date.now()
  const elapsed = Date.now() - created
  await new Promise(resolve => setTimeout(resolve, Math.max(75_000 - elapsed, 30_000)))
  t.ok(managerRequests('POST', '/api/v1/auth/refresh') > 0, 'the Manager saw refresh calls')
  t.equal(managerRequests('PUT', '/api/v1/strategies'), puts, `no PUT in ${Math.round((Date.now() - quiet) / 1000)} s without changes`)
  // The test itself never logs in while the agent runs (GthulhuManager.api signs its own tokens):
  // a login of the same user can drop the agent's session in the Manager (a lost update).
  t.equal(managerRequests('POST', '/api/v1/auth/login') - logins, 0, 'no new login: the refresh kept the session')
  const m = await getJson(h, ['gtp5gmodule', NAME])
  t.equal(condition(m as Obj, 'Scheduling')?.reason, 'Applied', `still Applied after ${Math.round((Date.now() - created) / 1000)} s`)
  const [running] = kubelet.running()
  const rss = running?.child?.pid === undefined ? undefined : /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${running.child.pid}/status`, 'utf8'))?.[1]
  t.comment(`agent memory (RSS): ${rss === undefined ? '?' : (Number(rss) / 1024).toFixed(1)} MiB`)
})

scenario('Manager restarted: the agent recovers by itself, still one strategy', async t => {
  await manager.stopManager()
  await new Promise(resolve => setTimeout(resolve, 8_000))
  await manager.startManagerAgain()
  await waitFor('the agent to reconcile again', async () => {
    const m = await getJson(h, ['gtp5gmodule', NAME])
    return m !== undefined && condition(m, 'Scheduling')?.reason === 'Applied' && (await ours()).length === 1 ? m : undefined
  }, { timeoutMs: 120_000 })
  t.equal((await ours()).length, 1)
  t.equal(kubelet.all().filter(r => r.restarts > 0).length, 0, 'no agent restart was needed')
})

scenario('wrong password: AuthFailed, while the module stays Installed; fixed, Applied again', async t => {
  await h.kubectl(['create', 'secret', 'generic', 'wrong-password', '-n', INSTALLER_NAMESPACE, `--from-literal=username=${manager.adminUser}`, '--from-literal=password=wrong'])
  await applyModule(moduleSpec({ priority: 15 }, 'wrong-password'))
  const m = await scheduling('AuthFailed')
  t.equal(condition(m, 'Scheduling')?.status, 'False')
  t.match(condition(m, 'Scheduling')?.message, /refused the login/)
  t.equal(m.status.phase, 'Installed', 'gtp5g is not affected')
  t.equal(condition(m, 'Ready')?.status, 'True')
  t.equal(condition(m, 'Degraded')?.status, 'False')
  t.equal((await ours()).length, 1, 'the strategy stays as it was')
  await applyModule(moduleSpec({ priority: 15 }))
  await scheduling('Applied')
})

scenario('no matching pods: WaitingForPods, then a pod appears: Applied', async t => {
  const other = { 'app.kubernetes.io/name': 'ueransim-gnb', 'app.kubernetes.io/component': 'gnb-2' }
  await applyModule(moduleSpec({ priority: 15, podSelector: other }))
  const m = await scheduling('WaitingForPods')
  t.equal(condition(m, 'Scheduling')?.status, 'False')
  t.equal(m.status.phase, 'Installed')
  await waitFor('the stale strategy gone', async () => (await ours()).length === 0 ? true : undefined, { timeoutMs: 60_000 })
  await gnbPod('gnb-2', other)
  await scheduling('Applied')
  const s = await ours()
  t.equal(s.length, 1)
  t.same(s[0]?.LabelSelectors?.map(l => l.value).sort(), ['gnb-2', 'ueransim-gnb'])
})

scenario('module deleted: strategy gone first, then finalized', async t => {
  let strategiesGoneAt: number | undefined
  let moduleGoneAt: number | undefined
  await h.kubectl(['delete', 'gtp5gmodule', NAME, '--wait=false'])
  await waitFor('the module to go', async () => {
    if (strategiesGoneAt === undefined && (await ours()).length === 0) strategiesGoneAt = Date.now()
    if (await getJson(h, ['gtp5gmodule', NAME]) === undefined) moduleGoneAt = Date.now()
    return moduleGoneAt
  }, { timeoutMs: 180_000, intervalMs: 200 })
  if (strategiesGoneAt === undefined && (await ours()).length === 0) strategiesGoneAt = Date.now()
  t.ok(strategiesGoneAt !== undefined && moduleGoneAt !== undefined && strategiesGoneAt <= moduleGoneAt, 'the strategies were gone before the module was')
  t.equal((await ours()).length, 0)
})
