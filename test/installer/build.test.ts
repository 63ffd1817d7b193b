// What make does with values on its command line, and why kbuild() checks them instead of
// quoting them: real make, the fixture's Makefile (gtp5g's interface), no kernel headers needed.
import { execFile } from 'node:child_process'
import { cp, mkdir, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { kbuild } from '../../installer/build.js'
import { run } from '../../installer/exec.js'
import { FIXTURE_SRC, tempDir } from './helpers.js'

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
