// How the qemu suite reads the guest's "@@GTP5G key=value ..." lines (test/support/vm.ts).
import t from 'tap'
import { parseRecords } from '../support/vm.js'

t.test('fields, values with spaces, and a termination message that holds "key=" text', async t => {
  const term = '{"reason":"BuildFailed","message":"make exit 2: x.c:1:2: error: y; last lines:\\nmake -C /tmp/h M=/tmp/src modules"}'
  const records = parseRecords([
    'noise @@GTP5G boot kernel=6.12.117+deb12-amd64 mode=full',
    `@@GTP5G step=lltx exit=1 version=0.0.1 entry1=yes term=${term}`,
    '@@GTP5G step=cold-steps download=364 extract=1262 ',
    'a line without a record'
  ].join('\r\n'))
  t.same([...records.keys()], ['boot', 'lltx', 'cold-steps'])
  t.same(records.get('boot'), { kernel: '6.12.117+deb12-amd64', mode: 'full' })
  t.same(records.get('lltx'), { step: 'lltx', exit: '1', version: '0.0.1', entry1: 'yes', term })
  t.same(records.get('cold-steps'), { step: 'cold-steps', download: '364', extract: '1262' })
})
