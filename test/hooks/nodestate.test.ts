// Per-node status from the related pods, one row per situation an installer pod can be in.
import t from 'tap'
import { nodeState } from '../../hooks/core/nodestate.js'
import { pod, type PodState } from '../support/hookfixtures.js'

const CURRENT = 'aaaaaaaaaa'
const OLD = 'bbbbbbbbbb'

const cases: Array<{ name: string, pods: Array<[hash: string, state: PodState]>, want: ReturnType<typeof nodeState> }> = [
  { name: 'no pod yet', pods: [], want: { state: 'progressing' } },
  { name: 'ready pod of the current template', pods: [[CURRENT, 'ready']], want: { state: 'done' } },
  { name: 'running but not ready yet (building)', pods: [[CURRENT, 'running']], want: { state: 'progressing' } },
  { name: 'container still being created', pods: [[CURRENT, 'creating']], want: { state: 'progressing' } },
  { name: 'ready pod of an OLD template during a rollout', pods: [[OLD, 'ready']], want: { state: 'progressing' } },
  { name: 'old ready pod beside a new one still building', pods: [[OLD, 'ready'], [CURRENT, 'running']], want: { state: 'progressing' } },
  {
    name: 'installer exited with its JSON termination message',
    pods: [[CURRENT, { terminated: 'BuildFailed', message: 'gtp5g.c:42: error: unknown type name' }]],
    want: { state: 'failed', reason: 'BuildFailed', message: 'gtp5g.c:42: error: unknown type name' }
  },
  {
    name: 'CrashLoopBackOff with the installer\'s reason in lastState',
    pods: [[CURRENT, { crashed: 'ModuleInUse', message: 'gtp5g v0.9.13 is in use (refcnt 2)' }]],
    want: { state: 'failed', reason: 'ModuleInUse', message: 'gtp5g v0.9.13 is in use (refcnt 2)' }
  },
  {
    name: 'spec.btf on a node that cannot provide BTF',
    pods: [[CURRENT, { terminated: 'BTFUnavailable', message: '/sys/kernel/btf/vmlinux is missing: the kernel was built without CONFIG_DEBUG_INFO_BTF' }]],
    want: { state: 'failed', reason: 'BTFUnavailable', message: '/sys/kernel/btf/vmlinux is missing: the kernel was built without CONFIG_DEBUG_INFO_BTF' }
  },
  {
    name: 'ImagePullBackOff',
    pods: [[CURRENT, { waiting: 'ImagePullBackOff', message: 'Back-off pulling image "x"' }]],
    want: { state: 'failed', reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"' }
  },
  {
    name: 'ErrImagePull',
    pods: [[CURRENT, { waiting: 'ErrImagePull', message: 'rpc error: not found' }]],
    want: { state: 'failed', reason: 'ErrImagePull', message: 'rpc error: not found' }
  },
  { name: 'exit without a termination message', pods: [[CURRENT, { exited: 137 }]], want: { state: 'failed', reason: 'Error', message: 'installer exited with code 137' } },
  { name: 'a failing OLD pod is the rollout\'s business, not a failure', pods: [[OLD, { waiting: 'ImagePullBackOff' }]], want: { state: 'progressing' } }
]

for (const c of cases) {
  t.test(c.name, async t => {
    const pods = c.pods.map(([hash, state], i) => pod('node-a', hash, state, 'sample', `p${i}`))
    t.same(nodeState(pods, CURRENT), c.want)
  })
}

t.test('a pod being deleted does not count', async t => {
  const p = pod('node-a', CURRENT, 'ready')
  p.metadata = { ...p.metadata, deletionTimestamp: '2026-11-20T09:59:00Z' }
  t.same(nodeState([p], CURRENT), { state: 'progressing' })
})

t.test('a CrashLoopBackOff whose log tail holds the installer\'s JSON line (FallbackToLogsOnError)', async t => {
  const p = pod('node-a', CURRENT, { waiting: 'CrashLoopBackOff', message: 'back-off' })
  const status = p.status?.containerStatuses?.[0]
  if (status === undefined) throw new Error('fixture has no container status')
  status.lastState = { terminated: { exitCode: 1, message: '{"level":30,"msg":"fetch"}\n{"reason":"SourceUnavailable","message":"HTTP 404"}\n' } }
  t.same(nodeState([p], CURRENT), { state: 'failed', reason: 'SourceUnavailable', message: 'HTTP 404' })
})
