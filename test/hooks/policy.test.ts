// The installer policy: a hook-server setting that limits the images and sources a module may
// use. A refused spec is applied in no part: the running DaemonSet stays as it is and
// Degraded=True/PolicyDenied names the rule, like an invalid spec.
import t from 'tap'
import { ENV } from '../../contract/index.js'
import type { HookConfig, InstallerPolicy } from '../../hooks/core/config.js'
import { finalize, sync } from '../../hooks/core/hooks.js'
import type { KubeObject } from '../../hooks/core/k8s.js'
import { buildApp } from '../../hooks/server/app.js'
import { CONFIG, gtp5gModule, node, NOW, observedDaemonSet, syncRequest } from '../support/hookfixtures.js'

const SHA = 'a'.repeat(64)
const POLICY: InstallerPolicy = {
  allowedImagePrefixes: ['ghcr.io/gthulhu/', 'registry.example/installer@sha256:'],
  allowedSourcePrefixes: ['https://github.com/free5gc/gtp5g/archive/refs/tags/', 'https://mirror.example/gtp5g/'],
  requireSourceSha256: true
}
const GUARDED: HookConfig = { ...CONFIG, policy: POLICY }

const nodes = [node('node-a')]
const running = observedDaemonSet(sync(syncRequest({ nodes }), CONFIG, NOW).children[0] ?? {})
const degraded = (status: { conditions?: Array<{ type: string, reason: string, status: string, message: string }> }): { reason: string, status: string, message: string } | undefined =>
  status.conditions?.find(c => c.type === 'Degraded')
const envOf = (ds: KubeObject | undefined, name: string): string | undefined =>
  (ds as { spec: { template: { spec: { containers: Array<{ env: Array<{ name: string, value: string }> }> } } } }).spec.template.spec.containers[0]?.env.find(e => e.name === name)?.value

const pinned = { url: 'https://github.com/free5gc/gtp5g/archive/refs/tags/{version}.tar.gz', sha256: SHA }
const rows: Array<{ name: string, spec: Record<string, unknown>, rule?: string, message?: RegExp }> = [
  { name: 'the default image and source, pinned', spec: { source: pinned } },
  { name: 'an image under an allowed prefix', spec: { image: 'ghcr.io/gthulhu/gtp5g-installer:0.2.0', source: pinned } },
  { name: 'an image pinned by digest under a digest prefix', spec: { image: `registry.example/installer@sha256:${'b'.repeat(64)}`, source: pinned } },
  { name: 'the configured installer image, spelled out', spec: { image: CONFIG.installerImage, source: pinned } },
  { name: 'an image elsewhere', spec: { image: 'docker.io/evil/installer:latest', source: pinned }, rule: 'ALLOWED_IMAGE_PREFIXES', message: /^spec\.image "docker\.io\/evil\/installer:latest" is not under an allowed prefix \(hook server setting ALLOWED_IMAGE_PREFIXES: ghcr\.io\/gthulhu\/, registry/ },
  { name: 'an image by tag where a digest prefix is allowed', spec: { image: 'registry.example/installer:1.0', source: pinned }, rule: 'ALLOWED_IMAGE_PREFIXES' },
  { name: 'an image on a look-alike registry path', spec: { image: 'ghcr.io/gthulhu-evil/installer:1', source: pinned }, rule: 'ALLOWED_IMAGE_PREFIXES' },
  { name: 'a source on an allowed mirror', spec: { source: { url: 'https://mirror.example/gtp5g/gtp5g-{version}.tgz', sha256: SHA } } },
  { name: 'a source elsewhere', spec: { source: { url: 'https://evil.example/gtp5g.tgz', sha256: SHA } }, rule: 'ALLOWED_SOURCE_PREFIXES', message: /^spec\.source\.url "https:\/\/evil\.example\/gtp5g\.tgz" is not under an allowed prefix \(hook server setting ALLOWED_SOURCE_PREFIXES/ },
  { name: 'a source that climbs out of an allowed path', spec: { source: { url: 'https://mirror.example/gtp5g/../evil/gtp5g.tgz', sha256: SHA } }, rule: 'ALLOWED_SOURCE_PREFIXES', message: /"https:\/\/mirror\.example\/evil\/gtp5g\.tgz"/ },
  { name: 'a source that climbs out with encoded dots', spec: { source: { url: 'https://mirror.example/gtp5g/%2e%2e/evil/gtp5g.tgz', sha256: SHA } }, rule: 'ALLOWED_SOURCE_PREFIXES' },
  // Issue 14 finding 1: the WHATWG parser keeps these as they are, so the URL starts with the
  // prefix, but servers that decode before resolving (or split on "\" or ";") serve a file
  // from outside it.
  { name: 'a source that climbs out with an encoded slash', spec: { source: { url: 'https://mirror.example/gtp5g/..%2fevil/gtp5g.tgz', sha256: SHA } }, rule: 'ALLOWED_SOURCE_PREFIXES', message: /^spec\.source\.url "https:\/\/mirror\.example\/gtp5g\/\.\.%2fevil\/gtp5g\.tgz" has the encoded character %2f in its path, which servers resolve differently; it is refused while hook server setting ALLOWED_SOURCE_PREFIXES is set$/ },
  { name: 'a source that climbs out with an upper-case encoded slash', spec: { source: { url: 'https://mirror.example/gtp5g/..%2Fevil/gtp5g.tgz', sha256: SHA } }, rule: 'ALLOWED_SOURCE_PREFIXES', message: /%2F/ },
  { name: 'a source that climbs out with encoded dots and slash', spec: { source: { url: 'https://mirror.example/gtp5g/%2e%2e%2fevil/gtp5g.tgz', sha256: SHA } }, rule: 'ALLOWED_SOURCE_PREFIXES', message: /encoded character %2e/ },
  { name: 'a source that climbs out with a half-encoded dot segment', spec: { source: { url: 'https://mirror.example/gtp5g/.%2e%2fevil/gtp5g.tgz', sha256: SHA } }, rule: 'ALLOWED_SOURCE_PREFIXES' },
  { name: 'a source that climbs out with an encoded backslash', spec: { source: { url: 'https://mirror.example/gtp5g/..%5cevil/gtp5g.tgz', sha256: SHA } }, rule: 'ALLOWED_SOURCE_PREFIXES', message: /%5c/ },
  { name: 'a source that climbs out with a double-encoded slash', spec: { source: { url: 'https://mirror.example/gtp5g/..%252fevil/gtp5g.tgz', sha256: SHA } }, rule: 'ALLOWED_SOURCE_PREFIXES', message: /%25/ },
  { name: 'a source with a backslash', spec: { source: { url: 'https://mirror.example/gtp5g/..\\evil/gtp5g.tgz', sha256: SHA } }, rule: 'ALLOWED_SOURCE_PREFIXES', message: /a backslash/ },
  { name: 'a source with a ";" path parameter', spec: { source: { url: 'https://mirror.example/gtp5g/..;/evil/gtp5g.tgz', sha256: SHA } }, rule: 'ALLOWED_SOURCE_PREFIXES', message: /a ";" path parameter/ },
  { name: 'a source with an encoded ";"', spec: { source: { url: 'https://mirror.example/gtp5g/..%3b/evil/gtp5g.tgz', sha256: SHA } }, rule: 'ALLOWED_SOURCE_PREFIXES' },
  { name: 'a source with an encoded slash in the query only (signed URLs have them)', spec: { source: { url: 'https://mirror.example/gtp5g/gtp5g.tgz?sig=a%2Fb', sha256: SHA } } },
  { name: 'a source with an ordinary escape in its path', spec: { source: { url: 'https://mirror.example/gtp5g/gtp5g%20{version}.tgz', sha256: SHA } } },
  // Finding 2: under the tags-only prefix, a fork's commit or a pull request's head is refused.
  { name: 'an upstream commit archive (any fork\'s commit is served there)', spec: { source: { url: 'https://github.com/free5gc/gtp5g/archive/0123456789abcdef0123456789abcdef01234567.tar.gz', sha256: SHA } }, rule: 'ALLOWED_SOURCE_PREFIXES' },
  { name: 'a pull request head archive', spec: { source: { url: 'https://github.com/free5gc/gtp5g/archive/refs/pull/7/head.tar.gz', sha256: SHA } }, rule: 'ALLOWED_SOURCE_PREFIXES' },
  { name: 'a source on a look-alike host', spec: { source: { url: 'https://mirror.example.evil.example/gtp5g/x.tgz', sha256: SHA } }, rule: 'ALLOWED_SOURCE_PREFIXES' },
  { name: 'a source with user info before the host', spec: { source: { url: 'https://github.com@evil.example/free5gc/gtp5g/x.tgz', sha256: SHA } }, rule: 'ALLOWED_SOURCE_PREFIXES' },
  { name: 'a file:// source', spec: { source: { url: 'file:///opt/gtp5g.tgz', sha256: SHA } }, rule: 'ALLOWED_SOURCE_PREFIXES' },
  { name: 'no sha256', spec: {}, rule: 'REQUIRE_SOURCE_SHA256', message: /^spec\.source\.sha256 is empty, and the hook server requires one \(hook server setting REQUIRE_SOURCE_SHA256\)$/ }
]

for (const row of rows) {
  t.test(`${row.name}: ${row.rule === undefined ? 'applied' : `refused by ${row.rule}`}`, async t => {
    const parent = gtp5gModule({ generation: 4, spec: { version: 'v0.9.14', ...row.spec } })
    const res = sync(syncRequest({ parent, nodes, children: [running] }), GUARDED, NOW)
    const d = degraded(res.status)
    if (row.rule === undefined) {
      t.not(d?.reason, 'PolicyDenied')
      t.equal(res.children.length, 1)
      t.not(res.children[0], running, 'the DaemonSet the spec asks for')
      // Issue 16: the installer holds every redirect to the same prefixes.
      t.equal(envOf(res.children[0], ENV.allowedSourcePrefixes), POLICY.allowedSourcePrefixes.join(','), 'the installer gets the source policy')
      return
    }
    t.match(d, { status: 'True', reason: 'PolicyDenied' })
    t.match(d?.message, row.rule, 'the message names the rule')
    if (row.message !== undefined) t.match(d?.message, row.message)
    t.match(res.status.message, /refused by the hook server's installer policy and was not applied/)
    t.equal(res.children.length, 1, 'the running DaemonSet is kept')
    t.same(res.children[0]?.spec, running.spec, 'unchanged: nothing of the refused spec reaches the nodes')
  })
}

t.test('without a policy every image and source is allowed', async t => {
  const parent = gtp5gModule({ spec: { version: 'v0.9.14', image: 'docker.io/anyone/installer:1', source: { url: 'https://anywhere.example/x.tgz' } } })
  const res = sync(syncRequest({ parent, nodes, children: [running] }), CONFIG, NOW)
  t.equal(degraded(res.status)?.reason, 'AsExpected')
  t.equal(envOf(res.children[0], ENV.allowedSourcePrefixes), undefined, 'no policy variable: the pod template is as before')
})

t.test('a refused spec while deleting: let go, nothing unloaded, the running DaemonSet kept (an unload DaemonSet would run the refused image)', async t => {
  const parent = gtp5gModule({ deletionTimestamp: '2026-11-20T09:59:00Z', spec: { version: 'v0.9.14', image: 'docker.io/evil/installer:1', source: pinned } })
  const res = finalize(syncRequest({ parent, nodes, children: [running], finalizing: true }), GUARDED, NOW)
  t.equal(res.finalized, true)
  t.equal(degraded(res.status)?.reason, 'PolicyDenied')
  t.equal(envOf(res.children[0], ENV.action), 'install', 'not switched to unload')
})

t.test('over HTTP: a 200 with Degraded=PolicyDenied, children kept', async t => {
  const { app } = buildApp({ hooks: GUARDED, bodyLimit: 1 << 20, logLevel: 'silent', now: () => NOW })
  t.teardown(async () => await app.close())
  const parent = gtp5gModule({ spec: { version: 'v0.9.14' } })
  const res = await app.inject({ method: 'POST', url: '/sync', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(syncRequest({ parent, nodes, children: [running] })) })
  t.equal(res.statusCode, 200)
  t.equal(degraded(res.json().status)?.reason, 'PolicyDenied')
  t.equal(res.json().children.length, 1)
})
