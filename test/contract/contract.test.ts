import t from 'tap'
import { daemonSetName, formatTerminationMessage, isDnsLabel, kernelReleaseRegExp, parseTerminationMessage, sourceUrlFor, TERMINATION_MESSAGE_MAX_BYTES } from '../../contract/index.js'

t.test('daemonSetName', async t => {
  t.equal(daemonSetName('sample'), 'gtp5g-installer-sample')
  t.equal(daemonSetName('a'.repeat(47)), 'gtp5g-installer-' + 'a'.repeat(47), 'exactly 63 characters fit as they are')
  const dotted = daemonSetName('upf.edge-1')
  t.ok(isDnsLabel(dotted), dotted)
  t.not(dotted, daemonSetName('upf-edge-1'), 'dots are hashed so they cannot collide with dashes')
  const long = 'a'.repeat(200)
  const name = daemonSetName(long)
  t.ok(isDnsLabel(name), name)
  t.equal(name.length, 63)
  t.not(daemonSetName(long + 'b'), name, 'two long names that share a prefix differ')
})

t.test('sourceUrlFor substitutes every {version}', async t => {
  t.equal(sourceUrlFor('https://x/{version}/gtp5g-{version}.tgz', 'v0.9.12a'), 'https://x/v0.9.12a/gtp5g-v0.9.12a.tgz')
})

t.test('termination message round-trips and stays within 4 KiB', async t => {
  const line = formatTerminationMessage('BuildFailed', 'error: x\n'.repeat(2000) + 'the last line')
  t.notMatch(line, /\n/)
  t.ok(Buffer.byteLength(line) <= TERMINATION_MESSAGE_MAX_BYTES)
  const back = parseTerminationMessage(line)
  t.equal(back?.reason, 'BuildFailed')
  t.match(back?.message, /the last line$/)
  t.same(parseTerminationMessage('{"level":30,"msg":"x"}\n' + formatTerminationMessage('ModuleInUse', 'held by upf') + '\n'), { reason: 'ModuleInUse', message: 'held by upf' })
  t.equal(parseTerminationMessage('panic: nothing json here'), undefined)
  t.equal(parseTerminationMessage('{"reason":"NotOurs","message":"x"}'), undefined)
})

t.test('a kernel release is what uname -r prints and nothing a shell or make could expand', async t => {
  for (const ok of ['6.1.0-28-amd64', '5.15.0-91-generic', '4.18.0-513.el8.x86_64', '6.12.12+bpo-amd64', '6.8.0-1015-aws', '6.1.100+', '5.4']) {
    t.ok(kernelReleaseRegExp.test(ok), ok)
  }
  for (const bad of ['6.1.0-$(shell id)', '6.1/../x', '6.1 0', 'latest', '', '6.1.0-28-amd64;reboot', '6.1++', '`id`']) {
    t.notOk(kernelReleaseRegExp.test(bad), JSON.stringify(bad))
  }
})
