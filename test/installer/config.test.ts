import t from 'tap'
import { DEFAULT_SOURCE_URL, ENV, ENV_TERMINATION_LOG, TERMINATION_LOG } from '../../contract/index.js'
import { parseConfig } from '../../installer/config.js'
import { DEFAULT_LIMITS } from '../../installer/limits.js'

const base = { [ENV.version]: 'v0.9.12a' }

// Found by the real kubelet: the unload DaemonSet's pod (GTP5G_ACTION=unload, no args) ran the
// image's default command and installed instead. Without a command, the pod's action decides.
t.test('without a command, GTP5G_ACTION decides; a command wins over it', async t => {
  t.equal(parseConfig([], { ...base, [ENV.action]: 'unload' }).action, 'unload')
  t.equal(parseConfig([], { ...base, [ENV.action]: 'unload' }).command, 'unload')
  t.equal(parseConfig(['install'], { ...base, [ENV.action]: 'unload' }).action, 'install')
  t.equal(parseConfig(['unload'], base).action, 'unload')
  t.equal(parseConfig(['check'], { ...base, [ENV.action]: 'unload' }).action, 'unload')
  t.equal(parseConfig(['check'], { ...base, [ENV.action]: 'unload' }).command, 'check')
  t.throws(() => parseConfig([], { ...base, [ENV.action]: 'remove' }), /GTP5G_ACTION must be one of install, unload/)
})

t.test('defaults', async t => {
  const c = parseConfig([], base)
  t.equal(c.command, 'install')
  t.equal(c.action, 'install')
  t.equal(c.sourceUrl, DEFAULT_SOURCE_URL.replace('{version}', 'v0.9.12a'))
  t.equal(c.sourceSha256, undefined)
  t.equal(c.kernel, undefined)
  t.equal(c.hostRoot, '')
  t.equal(c.watchIntervalMs, 10_000)
  t.equal(c.terminationLog, TERMINATION_LOG)
  t.same(c.limits, DEFAULT_LIMITS, 'the limits are not configurable from the pod')
})

t.test('the KERNEL_VERSION refusal names the rule', async t => {
  t.throws(() => parseConfig([], { ...base, [ENV.kernelVersion]: '6.1.0-$(shell id)' }),
    { reason: 'InvalidConfig', message: /KERNEL_VERSION must be a kernel release like 6\.1\.0-28-amd64 \(\^\[0-9\]\+.*at most 64 characters\); got "6\.1\.0-\$\(shell id\)"/ })
})

t.test('valid settings', async t => {
  const rows: Array<[string, string[], Record<string, string>, Record<string, unknown>]> = [
    ['check follows GTP5G_ACTION', ['check'], { [ENV.action]: 'unload' }, { command: 'check', action: 'unload' }],
    ['check defaults to install', ['check'], {}, { command: 'check', action: 'install' }],
    ['the command line wins over the action', ['unload'], { [ENV.action]: 'install' }, { action: 'unload' }],
    ['unload needs no version', ['unload'], { [ENV.version]: '' }, { action: 'unload', version: '' }],
    ['kernel override', [], { [ENV.kernelVersion]: '5.15.0-91-generic' }, { kernel: '5.15.0-91-generic' }],
    ['empty kernel = running kernel', [], { [ENV.kernelVersion]: '' }, { kernel: undefined }],
    ['sha is normalised', [], { [ENV.sourceSha256]: 'A'.repeat(64) }, { sourceSha256: 'a'.repeat(64) }],
    ['{version} substituted', [], { [ENV.sourceUrl]: 'file:///src/{version}.tgz' }, { sourceUrl: 'file:///src/v0.9.12a.tgz' }],
    ['interval in seconds', [], { [ENV.watchIntervalSeconds]: '0.5' }, { watchIntervalMs: 500 }],
    ['host root without trailing slash', [], { [ENV.hostRoot]: '/host/' }, { hostRoot: '/host' }],
    ['termination log override', [], { [ENV_TERMINATION_LOG]: '/tmp/t' }, { terminationLog: '/tmp/t' }],
    ['BTF off by default', [], {}, { btf: false }],
    ['no source policy by default', [], {}, { allowedSourcePrefixes: [] }],
    ['the hook server\'s source policy', [], { [ENV.allowedSourcePrefixes]: 'https://github.com/free5gc/gtp5g/archive/refs/tags/, https://codeload.github.com/free5gc/gtp5g/tar.gz/refs/tags/' }, { allowedSourcePrefixes: ['https://github.com/free5gc/gtp5g/archive/refs/tags/', 'https://codeload.github.com/free5gc/gtp5g/tar.gz/refs/tags/'] }],
    ['BTF on', [], { [ENV.btf]: 'true' }, { btf: true }],
    ['BTF off explicitly', [], { [ENV.btf]: 'false' }, { btf: false }]
  ]
  for (const [name, argv, env, want] of rows) t.match(parseConfig(argv, { ...base, ...env }), want, name)
})

t.test('invalid settings are InvalidConfig', async t => {
  const rows: Array<[string, string[], Record<string, string>]> = [
    ['unknown command', ['reload'], {}],
    ['two commands', ['install', 'check'], {}],
    ['missing version', [], { [ENV.version]: '' }],
    ['not a tag', [], { [ENV.version]: '0.9.12' }],
    ['bad action for check', ['check'], { [ENV.action]: 'remove' }],
    ['short sha', [], { [ENV.sourceSha256]: 'abc' }],
    ['ftp source', [], { [ENV.sourceUrl]: 'ftp://x/y.tgz' }],
    ['zero interval', [], { [ENV.watchIntervalSeconds]: '0' }],
    ['text interval', [], { [ENV.watchIntervalSeconds]: 'often' }],
    // KERNEL_VERSION reaches paths and make's command line: only a plain release passes.
    ['make function in the kernel', [], { [ENV.kernelVersion]: '6.1.0-$(shell touch /tmp/pwned)' }],
    ['shell separator in the kernel', [], { [ENV.kernelVersion]: '6.1.0-28-amd64;id' }],
    ['path in the kernel', [], { [ENV.kernelVersion]: '6.1.0/../../etc' }],
    ['space in the kernel', [], { [ENV.kernelVersion]: '6.1.0 -28' }],
    ['kernel too long', [], { [ENV.kernelVersion]: `6.1.0-${'a'.repeat(59)}` }],
    ['BTF neither true nor false', [], { [ENV.btf]: 'yes' }]
  ]
  for (const [name, argv, env] of rows) {
    t.throws(() => parseConfig(argv, { ...base, ...env }), { name: 'InstallerError', reason: 'InvalidConfig' }, name)
  }
})
