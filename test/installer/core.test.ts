// The installer's decisions (installer/core/) as tables: no files, no kernel, no build. The
// install table covers every combination of what is loaded × its refcnt × its BTF × what
// spec.btf asks × the cache entry's verdict, each matched by exactly one row.
import t from 'tap'
import { type ModuleState, readiness } from '../../installer/core/module.js'
import { type CacheVerdict, checkBtfSections, makeRoom, plan, removal, resolveKernel, type Step, verifyLoad } from '../../installer/core/plan.js'
import { type EntryFiles, judgeEntry, type Provenance, sidecarLine, type Wanted } from '../../installer/core/provenance.js'

const WANT = 'v0.9.14'
/** What /sys/module/gtp5g/version can say: gtp5g reports the tag without its "v"; an old build may report none. */
const LOADED = { wanted: ['0.9.14', 'v0.9.14'], other: ['0.9.13', undefined] } as const
const VERDICTS: CacheVerdict[] = ['hit', 'missing', 'corrupt', 'foreign', 'stale']
const MISSES = VERDICTS.filter(v => v !== 'hit')
/** /sys/module/gtp5g/refcnt of a module something uses (a UPF's sockets, a module linked against it). */
const BUSY = [1, 3]

type Loaded = 'none' | keyof typeof LOADED
type Any<T> = T | readonly T[] | '*'
interface Row {
  loaded: Loaded
  refcnt?: Any<number>
  /** /sys/kernel/btf/gtp5g published. */
  btf?: Any<boolean>
  /** spec.btf */
  wantBtf: Any<boolean>
  cache: Any<CacheVerdict>
  steps: string[]
}

const LOOK = 'look-up-cache'
const BUILD = ['build', 'load', 'done built-and-loaded']
const BUILD_BTF = ['build+btf', 'load', 'done built-and-loaded']
const HIT = ['load', 'done loaded-from-cache']
const replace = (steps: string[]): string[] => steps.map(s => s === 'load' ? 'unload-other+load' : s)

// One row per situation; '*' is any value, a list is any of its values.
const TABLE: Row[] = [
  { loaded: 'none', wantBtf: '*', cache: 'hit', steps: [LOOK, ...HIT] },
  { loaded: 'none', wantBtf: false, cache: MISSES, steps: [LOOK, ...BUILD] },
  { loaded: 'none', wantBtf: true, cache: MISSES, steps: [LOOK, ...BUILD_BTF] },
  // The desired version, with BTF when asked: a restart does nothing, whoever uses it.
  { loaded: 'wanted', refcnt: '*', btf: true, wantBtf: '*', cache: '*', steps: ['done already-loaded'] },
  { loaded: 'wanted', refcnt: '*', btf: false, wantBtf: false, cache: '*', steps: ['done already-loaded'] },
  // Loaded without the BTF spec.btf now asks for: reloaded, but only when idle, and never before it is cached.
  { loaded: 'wanted', refcnt: BUSY, btf: false, wantBtf: true, cache: '*', steps: ['fail ModuleInUse at unload-other'] },
  { loaded: 'wanted', refcnt: 0, btf: false, wantBtf: true, cache: 'hit', steps: [LOOK, ...replace(HIT)] },
  { loaded: 'wanted', refcnt: 0, btf: false, wantBtf: true, cache: MISSES, steps: [LOOK, ...replace(BUILD_BTF)] },
  // Another version: a busy one refuses before any download; an idle one goes once the new one is cached.
  { loaded: 'other', refcnt: BUSY, btf: '*', wantBtf: '*', cache: '*', steps: ['fail ModuleInUse at unload-other'] },
  { loaded: 'other', refcnt: 0, btf: '*', wantBtf: '*', cache: 'hit', steps: [LOOK, ...replace(HIT)] },
  { loaded: 'other', refcnt: 0, btf: '*', wantBtf: false, cache: MISSES, steps: [LOOK, ...replace(BUILD)] },
  { loaded: 'other', refcnt: 0, btf: '*', wantBtf: true, cache: MISSES, steps: [LOOK, ...replace(BUILD_BTF)] }
]

function render (s: Step): string {
  switch (s.do) {
    case 'fail': return `fail ${s.failure.reason} at ${s.step}`
    case 'build': return s.btf ? 'build+btf' : 'build'
    case 'load': return s.unloadOther ? 'unload-other+load' : 'load'
    case 'done': return `done ${s.outcome}`
  }
}

/** The steps of a whole install on a node that does not change meanwhile: as flow.ts asks, before the lock and after the lookup. */
function install (wantBtf: boolean, node: ModuleState, cache: CacheVerdict): string[] {
  const want = { version: WANT, btf: wantBtf }
  const first = plan(want, node)
  if (first !== LOOK) return first.map(render)
  return [LOOK, ...plan(want, node, cache).map(render)]
}

const matches = <T>(cell: Any<T> | undefined, value: T | undefined): boolean =>
  cell === undefined ? value === undefined : cell === '*' || (Array.isArray(cell) ? (cell as readonly T[]).includes(value as T) : cell === value)

t.test('install: every loaded version × refcnt × BTF × spec.btf × cache verdict has exactly one row, and the plan is that row', async t => {
  const nodes: Array<{ loaded: Loaded, refcnt?: number, btf?: boolean, state: ModuleState }> = [{ loaded: 'none', state: { loaded: false } }]
  for (const loaded of ['wanted', 'other'] as const) {
    for (const version of LOADED[loaded]) {
      for (const refcnt of [0, ...BUSY]) {
        for (const btf of [false, true]) {
          nodes.push({ loaded, refcnt, btf, state: { loaded: true, version, refcnt, holders: refcnt > 0 ? ['upf'] : [], btf } })
        }
      }
    }
  }
  let combinations = 0
  for (const node of nodes) {
    for (const wantBtf of [false, true]) {
      for (const cache of VERDICTS) {
        combinations++
        const name = `${node.loaded} ${JSON.stringify(node.state)} spec.btf=${wantBtf} cache=${cache}`
        const rows = TABLE.filter(r => r.loaded === node.loaded && matches(r.refcnt, node.refcnt) && matches(r.btf, node.btf) && matches(r.wantBtf, wantBtf) && matches(r.cache, cache))
        if (rows.length !== 1) {
          t.fail(`${name}: ${rows.length} rows match`)
          continue
        }
        t.same(install(wantBtf, node.state, cache), rows[0]?.steps, name)
      }
    }
  }
  t.equal(combinations, 1 * 2 * 5 + 4 * 3 * 2 * 2 * 5, 'nothing loaded, or 4 versions × 3 refcnts × BTF or not; × spec.btf × 5 verdicts')
})

t.test('ModuleInUse says what is waiting, on which holder, and that nothing is forced', async t => {
  const busy = (version: string | undefined): ModuleState => ({ loaded: true, version, refcnt: 2, holders: ['gtp5g_holder', 'upf'], btf: false })
  const cases: Array<[string, boolean, ModuleState, string]> = [
    ['upgrade', false, busy('0.9.13'), 'gtp5g 0.9.13 is in use (refcnt 2 by gtp5g_holder, upf); upgrade to v0.9.14 waits until it is released, it is never forced'],
    ['reload with BTF', true, busy('0.9.14'), 'gtp5g 0.9.14 is in use (refcnt 2 by gtp5g_holder, upf); reloading v0.9.14 with BTF (spec.btf) waits until it is released, it is never forced'],
    ['no version, no holders', false, { loaded: true, version: undefined, refcnt: 1, holders: [], btf: false }, 'gtp5g (unknown version) is in use (refcnt 1); upgrade to v0.9.14 waits until it is released, it is never forced']
  ]
  for (const [name, btf, node, message] of cases) {
    t.same(plan({ version: WANT, btf }, node), [{ do: 'fail', step: 'unload-other', failure: { reason: 'ModuleInUse', message } }], name)
  }
})

t.test('just before loading, with the node read again: remove the other module only when idle and not already the wanted one', async t => {
  const want = { version: WANT, btf: false }
  const cases: Array<[string, ModuleState, ReturnType<typeof makeRoom>]> = [
    ['taken out meanwhile', { loaded: false }, 'nothing'],
    ['the wanted one loaded meanwhile', { loaded: true, version: '0.9.14', refcnt: 0, holders: [], btf: false }, 'nothing'],
    ['still the idle old one', { loaded: true, version: '0.9.13', refcnt: 0, holders: [], btf: false }, 'remove'],
    ['taken into use while we built', { loaded: true, version: '0.9.13', refcnt: 1, holders: [], btf: false },
      { reason: 'ModuleInUse', message: 'gtp5g 0.9.13 is in use (refcnt 1); upgrade to v0.9.14 waits until it is released, it is never forced' }]
  ]
  for (const [name, node, expected] of cases) t.same(makeRoom(want, node), expected, name)
})

t.test('unload: nothing, remove, or refuse; never forced', async t => {
  t.equal(removal({ loaded: false }, 'unload'), 'nothing')
  t.equal(removal({ loaded: true, version: '0.9.14', refcnt: 0, holders: [], btf: true }, 'unload'), 'remove')
  t.same(removal({ loaded: true, version: '0.9.14', refcnt: 1, holders: ['holder'], btf: false }, 'unload'),
    { reason: 'ModuleInUse', message: 'gtp5g 0.9.14 is in use (refcnt 1 by holder); unload waits until it is released, it is never forced' })
})

t.test('after insmod: the node must show the wanted module; a wrong version is taken back, a refused BTF is not', async t => {
  const ko = '/var/lib/gtp5g/v0.9.14/6.1.0-28-amd64/gtp5g.ko'
  const loaded = (version: string | undefined, btf: boolean): ModuleState => ({ loaded: true, version, refcnt: 0, holders: [], btf })
  const cases: Array<[string, boolean, ModuleState, ReturnType<typeof verifyLoad>]> = [
    ['loaded', false, loaded('0.9.14', false), undefined],
    ['loaded with its BTF', true, loaded('0.9.14', true), undefined],
    ['not in /sys/module', false, { loaded: false }, { failure: { reason: 'LoadFailed', message: `insmod ${ko} returned but gtp5g is not in /sys/module` }, takeBack: false }],
    ['another version', false, loaded('0.9.15', false), { failure: { reason: 'VersionMismatch', message: `${ko} reports version 0.9.15, expected v0.9.14` }, takeBack: true }],
    ['no version', true, loaded(undefined, true), { failure: { reason: 'VersionMismatch', message: `${ko} reports version (none), expected v0.9.14` }, takeBack: true }],
    ['BTF refused by the kernel', true, loaded('0.9.14', false), {
      failure: { reason: 'BTFUnavailable', message: 'gtp5g v0.9.14 is loaded, but the kernel published no BTF for it at /sys/kernel/btf/gtp5g (it refused the module\'s BTF; see the kernel log); the module stays loaded without it' },
      takeBack: false
    }]
  ]
  for (const [name, btf, after, expected] of cases) t.same(verifyLoad({ version: WANT, btf }, ko, after), expected, name)
})

t.test('a module built for spec.btf carries .BTF, and no unfilled .BTF_ids', async t => {
  const log = '/var/lib/gtp5g/v0.9.14/k/build.log'
  t.equal(checkBtfSections(['.modinfo', '.BTF'], false, log), undefined)
  t.equal(checkBtfSections(['.modinfo', '.BTF', '.BTF_ids'], false, log), undefined, 'resolve_btfids ran: its ids are filled')
  t.match(checkBtfSections(['.modinfo'], false, log), { reason: 'BTFUnavailable', message: /without a \.BTF section \(pahole missing or skipped; see \/var\/lib\/gtp5g\/v0\.9\.14\/k\/build\.log\)/ })
  t.match(checkBtfSections(['.modinfo', '.BTF', '.BTF_ids'], true, log), { reason: 'BTFUnavailable', message: /declares BTF ids/ })
  t.equal(checkBtfSections(['.modinfo', '.BTF'], true, log), undefined, 'no ids, nothing to resolve')
})

t.test('the kernel release: plain and at least 5.0', async t => {
  t.match(resolveKernel('6.1.0-28-amd64'), { raw: '6.1.0-28-amd64', major: 6, minor: 1, patch: 0 })
  t.match(resolveKernel('5.0'), { raw: '5.0', major: 5, minor: 0 })
  t.match(resolveKernel('4.19.0-27-amd64'), { reason: 'UnsupportedKernel', message: 'kernel 4.19.0-27-amd64 is older than 5.0, the oldest gtp5g supports' })
  t.match(resolveKernel('6.1.0-$(id)'), { reason: 'UnsupportedKernel', message: /^cannot parse kernel release "6\.1\.0-\$\(id\)"/ })
})

t.test('readiness follows the action, the version and BTF', async t => {
  const on = (version: string, btf: boolean): ModuleState => ({ loaded: true, version, refcnt: 0, holders: [], btf })
  const cases: Array<[string, 'install' | 'unload', boolean, ModuleState, { ready: boolean, detail: string }]> = [
    ['installed', 'install', false, on('0.9.14', false), { ready: true, detail: 'gtp5g 0.9.14 loaded' }],
    ['not loaded', 'install', false, { loaded: false }, { ready: false, detail: 'gtp5g not loaded' }],
    ['another version', 'install', false, on('0.9.13', false), { ready: false, detail: 'gtp5g 0.9.13 loaded, want v0.9.14' }],
    ['without the BTF asked for', 'install', true, on('0.9.14', false), { ready: false, detail: 'gtp5g 0.9.14 loaded without BTF (spec.btf wants /sys/kernel/btf/gtp5g)' }],
    ['unloaded', 'unload', false, { loaded: false }, { ready: true, detail: 'gtp5g not loaded' }],
    ['still loaded', 'unload', false, on('0.9.14', false), { ready: false, detail: 'gtp5g 0.9.14 still loaded' }]
  ]
  for (const [name, action, btf, state, expected] of cases) t.same(readiness({ action, version: WANT, btf }, state), expected, name)
})

t.test('the cache entry\'s verdict from its files: the sidecar commits, the provenance must describe the file and answer the pod', async t => {
  const KO = 'b'.repeat(64)
  const want: Wanted = { version: WANT, kernel: '6.1.0-28-amd64', installer: '1.0.0', btf: false, sourceUrl: 'https://example.org/gtp5g.tgz', sourceSha256: undefined }
  const provenance = (change: Partial<Provenance> = {}): string => JSON.stringify({
    format: 1,
    version: WANT,
    kernel: '6.1.0-28-amd64',
    installer: '1.0.0',
    btf: false,
    source: { url: 'https://example.org/gtp5g.tgz', sha256: 'a'.repeat(64), resolvedUrl: 'https://example.org/gtp5g.tgz', bytes: 1 },
    module: { sha256: KO },
    ...change
  })
  const entry = (files: Partial<EntryFiles>): EntryFiles => ({ dir: '/cache/e', sidecar: sidecarLine(KO), koSha256: KO, provenance: provenance(), ...files })
  const cases: Array<[string, EntryFiles, Partial<Wanted>, object]> = [
    ['complete and answering', entry({}), {}, { hit: true, sha256: KO }],
    ['pinned to the recorded tarball', entry({}), { sourceSha256: 'a'.repeat(64) }, { hit: true }],
    ['nothing there', entry({ sidecar: undefined, koSha256: undefined, provenance: undefined }), {}, { hit: false, why: 'missing', detail: 'no cache entry at /cache/e' }],
    ['a module without its sidecar', entry({ sidecar: undefined }), {}, { hit: false, why: 'corrupt', detail: /interrupted write/ }],
    ['a provenance alone', entry({ sidecar: undefined, koSha256: undefined }), {}, { hit: false, why: 'corrupt' }],
    ['a module that changed', entry({ koSha256: 'c'.repeat(64) }), {}, { hit: false, why: 'corrupt', detail: /checksum mismatch/ }],
    ['a sidecar without its module', entry({ koSha256: undefined }), {}, { hit: false, why: 'corrupt', detail: 'gtp5g.ko missing' }],
    ['no provenance', entry({ provenance: undefined }), {}, { hit: false, why: 'foreign', detail: /no readable provenance/ }],
    ['provenance of another module', entry({ provenance: provenance({ module: { sha256: 'd'.repeat(64) } }) }), {}, { hit: false, why: 'foreign', detail: /describes another module/ }],
    ['built before spec.btf existed, BTF now wanted', entry({ provenance: provenance({ btf: undefined }) }), { btf: true }, { hit: false, why: 'stale', detail: 'built with no BTF, wanted BTF' }],
    ['another pin', entry({}), { sourceSha256: 'f'.repeat(64) }, { hit: false, why: 'stale', detail: /tarball sha256 a{64}, pinned f{64}/ }],
    ['every difference named', entry({}), { version: 'v0.9.15', installer: '1.1.0' }, { hit: false, why: 'stale', detail: 'built with version v0.9.14, wanted v0.9.15; installer 1.0.0, this is 1.1.0' }]
  ]
  for (const [name, files, change, verdict] of cases) t.match(judgeEntry(files, { ...want, ...change }), verdict, name)
})
