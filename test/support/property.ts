// A fast-check property as one tap assertion: it fails with fast-check's own report (the
// shrunk counterexample and the seed to replay it) instead of a pass counted after `fc.assert`.
import fc from 'fast-check'
import type { Test } from 'tap'

export function holds<Ts> (t: Test, property: fc.IProperty<Ts>, parameters: fc.Parameters<Ts>, what: string): void {
  const details = fc.check(property, parameters)
  t.ok(!details.failed, details.failed ? `${what}\n${fc.defaultReportMessage(details) ?? ''}` : what)
}
