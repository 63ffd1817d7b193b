// One rule for every test file that needs something a machine may lack (root, a kernel's
// headers, qemu, the local cluster's binaries, Metacontroller): in CI (CI=true) a missing
// prerequisite FAILS the file with its reason, so a green run cannot hide a suite that never ran;
// elsewhere the file is skipped with the reason, and the test command lists every skip it saw.
import t from 'tap'

/** Starts every reason a file or subtest gives for not running (scripts/test.sh lists them). */
export const SKIP_PREFIX = 'prerequisite missing:'

const inCI = (): boolean => process.env.CI === 'true'

/**
 * Whether this file can run its tests. With a `problem`, the file is failed (CI) or skipped
 * (elsewhere) with that reason, and the caller defines no tests.
 */
export function prerequisiteMet (problem: string | undefined): problem is undefined {
  if (problem === undefined) return true
  if (inCI()) t.fail(`${SKIP_PREFIX} ${problem}`)
  else t.plan(0, `${SKIP_PREFIX} ${problem}`)
  return false
}

/** Options for one subtest that needs something: a skip with the reason, or (CI) none, so it runs and fails. */
export function needs (problem: string | undefined): { skip: string | false } {
  return { skip: problem === undefined || inCI() ? false : `${SKIP_PREFIX} ${problem}` }
}
