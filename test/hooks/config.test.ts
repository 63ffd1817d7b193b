// Environment configuration: defaults, and a clear refusal of bad values.
import t from 'tap'
import { DEFAULT_BODY_LIMIT_BYTES, DEFAULT_INSTALLER_IMAGE, loadConfig } from '../../hooks/server/config.js'

t.test('defaults', async t => {
  t.same(loadConfig({}), {
    port: 8080,
    host: '0.0.0.0',
    logLevel: 'info',
    bodyLimit: DEFAULT_BODY_LIMIT_BYTES,
    hooks: { targetNamespace: 'gtp5g-installers', installerImage: DEFAULT_INSTALLER_IMAGE, finalizeTimeoutSeconds: 600 }
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
})

t.test('bad values fail the start, naming the variable', async t => {
  t.throws(() => loadConfig({ PORT: 'eighty' }), /PORT/)
  t.throws(() => loadConfig({ TARGET_NAMESPACE: 'Not_A_Namespace' }), /TARGET_NAMESPACE/)
  t.throws(() => loadConfig({ LOG_LEVEL: 'loud' }), /LOG_LEVEL/)
  t.throws(() => loadConfig({ BODY_LIMIT_BYTES: '10' }), /BODY_LIMIT_BYTES/)
})
