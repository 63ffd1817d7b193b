// Environment configuration: defaults, and a clear refusal of bad values.
import t from 'tap'
import { DEFAULT_INSTALLER_POD } from '../../hooks/core/config.js'
import { DEFAULT_AGENT_IMAGE, DEFAULT_BODY_LIMIT_BYTES, DEFAULT_INSTALLER_IMAGE, DEFAULT_SERVER_LIMITS, loadConfig } from '../../hooks/server/config.js'

t.test('defaults', async t => {
  t.same(loadConfig({}), {
    port: 8080,
    host: '0.0.0.0',
    logLevel: 'info',
    bodyLimit: DEFAULT_BODY_LIMIT_BYTES,
    limits: { requestTimeoutMs: 25_000, keepAliveTimeoutMs: 95_000, maxConnections: 64, maxHooksInFlight: 8, hookWorkers: 1 },
    hooks: { targetNamespace: 'gtp5g-installers', installerImage: DEFAULT_INSTALLER_IMAGE, agentImage: DEFAULT_AGENT_IMAGE, finalizeTimeoutSeconds: 600, policy: { allowedImagePrefixes: [], allowedSourcePrefixes: [], requireSourceSha256: false }, installerPod: DEFAULT_INSTALLER_POD, nodeLabels: true }
  })
})

t.test('values from the environment', async t => {
  const c = loadConfig({ PORT: '9000', TARGET_NAMESPACE: 'upf', INSTALLER_IMAGE: 'reg/i:1', LOG_LEVEL: 'debug', BODY_LIMIT_BYTES: '1048576', FINALIZE_TIMEOUT_SECONDS: '30' })
  t.equal(c.port, 9000)
  t.equal(c.hooks.targetNamespace, 'upf')
  t.equal(c.hooks.installerImage, 'reg/i:1')
  t.equal(c.logLevel, 'debug')
  t.equal(c.bodyLimit, 1048576)
  t.equal(c.hooks.finalizeTimeoutSeconds, 30)
  const l = loadConfig({ REQUEST_TIMEOUT_SECONDS: '10', MAX_CONNECTIONS: '16', MAX_HOOKS_IN_FLIGHT: '2', HOOK_WORKERS: '2' }).limits
  t.same(l, { ...DEFAULT_SERVER_LIMITS, requestTimeoutMs: 10_000, maxConnections: 16, maxHooksInFlight: 2, hookWorkers: 2 })
})

t.test('bad values fail the start, naming the variable', async t => {
  t.throws(() => loadConfig({ PORT: 'eighty' }), /PORT/)
  t.throws(() => loadConfig({ TARGET_NAMESPACE: 'Not_A_Namespace' }), /TARGET_NAMESPACE/)
  t.throws(() => loadConfig({ LOG_LEVEL: 'loud' }), /LOG_LEVEL/)
  t.throws(() => loadConfig({ BODY_LIMIT_BYTES: '10' }), /BODY_LIMIT_BYTES/)
  t.throws(() => loadConfig({ REQUEST_TIMEOUT_SECONDS: '0' }), /REQUEST_TIMEOUT_SECONDS/)
  t.throws(() => loadConfig({ MAX_HOOKS_IN_FLIGHT: 'many' }), /MAX_HOOKS_IN_FLIGHT/)
  t.throws(() => loadConfig({ HOOK_WORKERS: '0' }), /HOOK_WORKERS/)
})

t.test('the installer policy from the environment', async t => {
  t.same(loadConfig({}).hooks.policy, { allowedImagePrefixes: [], allowedSourcePrefixes: [], requireSourceSha256: false }, 'open by default')
  t.same(loadConfig({
    ALLOWED_IMAGE_PREFIXES: 'ghcr.io/gthulhu/, registry.example/installer@sha256:',
    ALLOWED_SOURCE_PREFIXES: 'https://github.com/free5gc/gtp5g/archive/refs/tags/,https://codeload.github.com/free5gc/gtp5g/tar.gz/refs/tags/,file:///opt/gtp5g/',
    REQUIRE_SOURCE_SHA256: 'true'
  }).hooks.policy, {
    allowedImagePrefixes: ['ghcr.io/gthulhu/', 'registry.example/installer@sha256:'],
    allowedSourcePrefixes: ['https://github.com/free5gc/gtp5g/archive/refs/tags/', 'https://codeload.github.com/free5gc/gtp5g/tar.gz/refs/tags/', 'file:///opt/gtp5g/'],
    requireSourceSha256: true
  })
  const refused: Array<[Record<string, string>, RegExp]> = [
    [{ ALLOWED_IMAGE_PREFIXES: 'ghcr.io/gthulhu' }, /ALLOWED_IMAGE_PREFIXES: "ghcr\.io\/gthulhu" must end with "\/", ":" or "@"/],
    [{ ALLOWED_IMAGE_PREFIXES: 'ghcr.io/a b/' }, /ALLOWED_IMAGE_PREFIXES/],
    [{ ALLOWED_SOURCE_PREFIXES: 'https://mirror.example' }, /ALLOWED_SOURCE_PREFIXES: "https:\/\/mirror\.example" must be an http\(s\):\/\/ or file:\/\/ URL ending with "\/"/],
    [{ ALLOWED_SOURCE_PREFIXES: 'ftp://mirror.example/' }, /ALLOWED_SOURCE_PREFIXES/],
    [{ ALLOWED_SOURCE_PREFIXES: 'HTTPS://Mirror.Example/gtp5g/' }, /not normalized; write it as "https:\/\/mirror\.example\/gtp5g\/"/],
    // Issue 14 finding 2: a bare repository prefix on GitHub admits every fork's commits.
    [{ ALLOWED_SOURCE_PREFIXES: 'https://github.com/free5gc/gtp5g/' }, /ALLOWED_SOURCE_PREFIXES: "https:\/\/github\.com\/free5gc\/gtp5g\/" admits any commit GitHub serves under that repository, forks' and pull requests' included; allow only tags, e\.g\. "https:\/\/github\.com\/free5gc\/gtp5g\/archive\/refs\/tags\/"/],
    [{ ALLOWED_SOURCE_PREFIXES: 'https://github.com/free5gc/gtp5g/archive/' }, /allow only tags/],
    [{ ALLOWED_SOURCE_PREFIXES: 'https://github.com/' }, /allow only tags/],
    [{ ALLOWED_SOURCE_PREFIXES: 'https://codeload.github.com/free5gc/gtp5g/' }, /"https:\/\/codeload\.github\.com\/free5gc\/gtp5g\/tar\.gz\/refs\/tags\/"/],
    [{ ALLOWED_SOURCE_PREFIXES: 'https://raw.githubusercontent.com/free5gc/gtp5g/' }, /allow only tags/],
    [{ ALLOWED_SOURCE_PREFIXES: 'https://mirror.example/a%2fb/' }, /has the encoded character %2f in its path/],
    [{ REQUIRE_SOURCE_SHA256: 'sometimes' }, /REQUIRE_SOURCE_SHA256/]
  ]
  for (const [env, message] of refused) t.throws(() => loadConfig(env), message, JSON.stringify(env))
})
