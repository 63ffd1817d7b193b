import t from 'tap'
import { INSTALLER_REASONS, parseTerminationMessage, formatTerminationMessage } from '../../contract/index.js'
import { InstallerError, tailLines, toTermination } from '../../installer/errors.js'

t.test('every reason code survives the termination message round trip', async t => {
  for (const reason of INSTALLER_REASONS) {
    const term = toTermination(new InstallerError(reason, `why ${reason}`))
    t.same(parseTerminationMessage(formatTerminationMessage(term.reason, term.message)), { reason, message: `why ${reason}` }, reason)
  }
})

t.test('anything that is not an InstallerError is InternalError', async t => {
  t.same(toTermination(new TypeError('x is undefined')), { reason: 'InternalError', message: 'unexpected error: x is undefined' })
  t.same(toTermination('thrown string'), { reason: 'InternalError', message: 'unexpected error: thrown string' })
})

t.test('tailLines keeps the end, where the compiler error is', async t => {
  t.equal(tailLines('a\nb\nc\nd\n\n', 2), 'c\nd')
  t.equal(tailLines('only', 5), 'only')
})
