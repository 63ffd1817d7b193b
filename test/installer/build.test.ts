// What make does with values on its command line, and why kbuild() checks them instead of
// quoting them: real make, the fixture's Makefile (gtp5g's interface), no kernel headers needed.
import { execFile } from 'node:child_process'
import { cp, mkdir, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { formatTerminationMessage, parseTerminationMessage, TERMINATION_MESSAGE_MAX_BYTES } from '../../contract/index.js'
import { firstError, kbuild } from '../../installer/build.js'
import { run } from '../../installer/exec.js'
import { tempDir } from './helpers.js'
import { FIXTURE_SRC } from '../support/fixturesource.js'

const exec = promisify(execFile)
const opts = { timeoutMs: 60_000, maxLogBytes: 1024 * 1024 }

t.test('the hazard: make expands $(shell …) in a variable given on its command line', async t => {
  const dir = await tempDir(t)
  await writeFile(path.join(dir, 'Makefile'), 'all:\n\t@echo "KDIR is $(KDIR)"\n')
  const marker = path.join(dir, 'ran')
  // No shell anywhere on our side (execFile): make itself runs the command.
  const { stdout } = await exec('make', ['-C', dir, `KDIR=/lib/modules/x$(shell touch ${marker})/build`])
  t.ok(existsSync(marker), 'make ran the $(shell) in a command-line value')
  t.match(stdout, 'KDIR is /lib/modules/x/build')
  // `:=` on the command line expands at once, `$$` survives make but the recipe hands the
  // result to /bin/sh: no quoting is safe through both, so values are checked instead.
})

t.test('a malicious kernel release or headers directory never reaches make', async t => {
  const rows: Array<[string, (dir: string, marker: string) => { kernel: string, kdir: string }, RegExp]> = [
    ['$(shell) in the kernel release', (dir, marker) => ({ kernel: `6.1.0-$(shell touch ${marker})`, kdir: path.join(dir, 'headers') }), /the kernel release/],
    ['$(shell) in the headers directory name', (dir, marker) => ({ kernel: '6.1.0-28-amd64', kdir: path.join(dir, `headers-$(shell touch ${marker})`) }), /the headers directory/],
    ['command substitution for the recipe\'s shell', (dir, marker) => ({ kernel: '6.1.0-28-amd64', kdir: path.join(dir, `headers-\`touch ${marker}\``) }), /the headers directory/],
    ['a separator for the recipe\'s shell', (dir, marker) => ({ kernel: `6.1.0;touch ${marker}`, kdir: path.join(dir, 'headers') }), /the kernel release/]
  ]
  for (const [name, make, message] of rows) {
    const dir = await tempDir(t)
    const marker = path.join(dir, 'ran')
    const { kernel, kdir } = make(dir, marker)
    // A headers tree whose Makefile would build nothing: only the expansion could leave a trace.
    await mkdir(kdir, { recursive: true })
    await writeFile(path.join(kdir, 'Makefile'), 'modules:\n\t@true\n')
    const src = path.join(dir, 'src')
    await cp(FIXTURE_SRC, src, { recursive: true })
    let ran = false
    const spy: typeof run = async (cmd, args, o) => { ran = true; return await run(cmd, args, o) }
    await t.rejects(kbuild(spy, src, kernel, kdir, path.join(dir, 'build.log'), opts), { reason: /InvalidConfig/, message }, name)
    t.equal(ran, false, `${name}: make never started`)
    t.notOk(existsSync(marker), `${name}: nothing executed`)
  }
})

t.test('plain values pass and reach make as separate arguments', async t => {
  const dir = await tempDir(t)
  const calls: string[][] = []
  const spy: typeof run = async (cmd, args) => { calls.push([cmd, ...args]); return { code: 2, signal: null, output: 'stop here\n' } }
  await t.rejects(kbuild(spy, path.join(dir, 'gtp5g-0.9.12'), '6.12.12+bpo-amd64', '/lib/modules/6.12.12+bpo-amd64/build', path.join(dir, 'log'), opts), { name: 'InstallerError', reason: 'BuildFailed' })
  t.match(calls, [['make', '-C', path.join(dir, 'gtp5g-0.9.12'), /^-j\d+$/, 'KVER=6.12.12+bpo-amd64', 'KDIR=/lib/modules/6.12.12+bpo-amd64/build']])
})

t.test('BuildFailed leads with the compiler\'s first error, and the whole message fits a termination message', async t => {
  const dir = await tempDir(t)
  // What a failing kbuild prints: the error, then long notes, then make's own lines.
  const noise = Array.from({ length: 80 }, (_, i) => `\t@echo "  note: in expansion of macro NETIF_F_SOMETHING_LONG_ENOUGH_TO_MATTER line ${i} ${'~'.repeat(40)}"`).join('\n')
  await writeFile(path.join(dir, 'Makefile'), `all:\n\t@echo "  CC [M]  gtp5g.o"\n\t@echo "gtp5g.c:42:27: error: 'NETIF_F_LLTX' undeclared (first use in this function)"\n${noise}\n\t@false\n`)
  const err = await kbuild(run, dir, '6.12.117+deb12-amd64', '/lib/modules/x/build', path.join(dir, 'build.log'), opts).then(() => undefined, (e: unknown) => e)
  t.match(err, { reason: 'BuildFailed', message: /^make exit 2: gtp5g\.c:42:27: error: 'NETIF_F_LLTX' undeclared \(first use in this function\); last lines:\n/ })
  const line = formatTerminationMessage('BuildFailed', (err as Error).message)
  t.ok(Buffer.byteLength(line) <= TERMINATION_MESSAGE_MAX_BYTES)
  t.match(parseTerminationMessage(line)?.message, /^make exit 2: gtp5g\.c:42:27: error: 'NETIF_F_LLTX' undeclared/, 'the error line survives the 4 KiB cut')
  t.match(parseTerminationMessage(line)?.message, /line 79/, 'and so does the end of the output')
})

t.test('firstError: compiler errors first, make\'s *** otherwise', async t => {
  t.equal(firstError('a\nb.c:1:2: warning: x\nb.c:3:4: error: y\nmake: *** [all] Error 1\n'), 'b.c:3:4: error: y')
  t.equal(firstError('cc1: fatal error: z.h: No such file\n'), 'cc1: fatal error: z.h: No such file')
  t.equal(firstError('make: *** No rule to make target\n'), 'make: *** No rule to make target')
  t.equal(firstError('all good\n'), undefined)
})
