import t from 'tap'
import { compareKernel, isSupportedKernel, parseKernelRelease } from '../../installer/kernel.js'

t.test('parses real kernel release strings (not semver)', async t => {
  const rows: Array<[string, [number, number, number] | undefined, boolean | undefined]> = [
    ['5.15.0-91-generic', [5, 15, 0], true], // Ubuntu
    ['4.18.0-513.el8.x86_64', [4, 18, 0], false], // RHEL 8
    ['6.1.0-28-amd64', [6, 1, 0], true], // Debian 12
    ['5.14.0-427.13.1.el9_4.x86_64', [5, 14, 0], true], // RHEL 9
    ['6.8.0-1015-aws', [6, 8, 0], true], // Ubuntu cloud flavour
    ['5.10.223-212.873.amzn2.x86_64', [5, 10, 223], true], // Amazon Linux 2
    ['6.12.12+bpo-amd64', [6, 12, 12], true], // Debian backports
    ['6.6.56+', [6, 6, 56], true], // a bare trailing "+" (Container-Optimized OS, dirty upstream trees)
    ['5.0', [5, 0, 0], true], // exactly the minimum
    ['4.19.0-27-amd64', [4, 19, 0], false], // Debian 10
    ['3.10.0-1160.el7.x86_64', [3, 10, 0], false], // CentOS 7
    ['', undefined, undefined],
    ['generic', undefined, undefined],
    ['v6.1.0', undefined, undefined],
    ['6', undefined, undefined],
    ['6.1.0/../../etc', undefined, undefined], // used as a directory name: never a path
    [' 6.1.0-28-amd64', undefined, undefined],
    // It becomes a directory name and a make argument: nothing make or a shell would expand.
    ['6.1.0-$(shell id)', undefined, undefined],
    ['6.1.0-28-amd64;id', undefined, undefined],
    ['6.1.0-`id`', undefined, undefined],
    ['6.1.0-28 amd64', undefined, undefined],
    ['6.1.0-28-amd64\n', undefined, undefined],
    [`6.1.0-${'x'.repeat(58)}`, [6, 1, 0], true], // 64 characters, the maximum
    [`6.1.0-${'x'.repeat(59)}`, undefined, undefined]
  ]
  for (const [raw, numbers, supported] of rows) {
    const k = parseKernelRelease(raw)
    if (numbers === undefined) {
      t.equal(k, undefined, `"${raw}" is rejected`)
      continue
    }
    t.same(k && [k.major, k.minor, k.patch], numbers, raw)
    t.equal(k && isSupportedKernel(k), supported, `${raw} supported=${String(supported)}`)
    t.equal(k?.raw, raw, 'keeps the raw string for paths')
  }
})

t.test('orders by numbers, never by string', async t => {
  const k = (s: string) => parseKernelRelease(s)!
  t.ok(compareKernel(k('5.10.0-1-amd64'), k('5.9.0-1-amd64')) > 0, '5.10 > 5.9')
  t.ok(compareKernel(k('6.1.0-28-amd64'), k('6.1.0-9-amd64')) === 0, 'the ABI suffix does not decide')
  t.ok(compareKernel(k('4.18.0-513.el8.x86_64'), k('5.0')) < 0)
})
