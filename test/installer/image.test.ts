// The installer image built from installer/Dockerfile (scripts/installer-test-deps.sh, buildah, local
// stand-ins for the Node and Debian bases): its config, what it ships and what it leaves out, and
// its size against the budget of 250 MB (du of the exported filesystem, as the issue measures it).
// Everything runs from the exported filesystem in a chroot, never from the host's tools.
import { spawnSync } from 'node:child_process'
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { ENV_FILE, readEnvFile } from '../support/realenv.js'
import { prerequisiteMet } from '../support/prerequisite.js'
import { bundleImports } from './helpers.js'

const SIZE_BUDGET_MB = 250
const { values } = readEnvFile()
const rootfs = values.IMAGE_ROOTFS
const dir = rootfs === undefined ? undefined : path.dirname(rootfs)

if (rootfs === undefined || dir === undefined || !existsSync(path.join(dir, '.done'))) {
  prerequisiteMet(`no installer image export (IMAGE_ROOTFS in ${ENV_FILE}); run: bash scripts/installer-test-deps.sh`)
} else if (process.getuid?.() !== 0) {
  prerequisiteMet('running the image filesystem needs root (chroot)')
} else {
  const inspect = JSON.parse(readFileSync(path.join(dir, 'inspect.json'), 'utf8')) as { OCIv1: { config: { User?: string, Cmd?: string[], Entrypoint?: string[], Labels?: Record<string, string> } } }
  const config = inspect.OCIv1.config
  const inImage = (...p: string[]): string => path.join(rootfs, ...p)

  /** A command run in the image: its environment only (tap would otherwise inject NODE_OPTIONS). */
  const chroot = (argv: string[], input?: string): { status: number | null, stdout: string, stderr: string } => {
    const res = spawnSync('/usr/sbin/chroot', [rootfs, '/usr/bin/env', '-i', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...argv],
      { encoding: 'utf8', input, timeout: 60_000 })
    return { status: res.status, stdout: res.stdout, stderr: res.stderr }
  }
  const which = (cmd: string): string | undefined => {
    const res = chroot(['sh', '-c', 'command -v "$1"', 'sh', cmd])
    return res.status === 0 ? res.stdout.trim() : undefined
  }

  t.test('image config: the installer as entrypoint, no default command (the pod\'s GTP5G_ACTION decides), OCI labels', async t => {
    t.same(config.Entrypoint, ['/usr/local/bin/gtp5g-installer'])
    // A CMD would be the command line of every pod without args and win over GTP5G_ACTION: the
    // unload DaemonSet's pods installed under a real kubelet while the image had CMD ["install"].
    t.same(config.Cmd ?? [], [], 'no CMD')
    t.notOk(config.User, 'root: it loads kernel modules')
    for (const label of ['title', 'description', 'source', 'licenses', 'version', 'base.name']) {
      t.ok(config.Labels?.[`org.opencontainers.image.${label}`], `label org.opencontainers.image.${label}`)
    }
    t.equal(config.Labels?.['org.opencontainers.image.title'], 'gtp5g-installer')
    if (values.RUNTIME_REF !== undefined) t.equal(config.Labels?.['org.opencontainers.image.base.name'], values.RUNTIME_REF, 'built on the plain Debian base')
  })

  t.test(`the exported filesystem is within the ${SIZE_BUDGET_MB} MB budget`, async t => {
    const du = spawnSync('du', ['-sm', rootfs], { encoding: 'utf8' })
    t.equal(du.status, 0, du.stderr)
    const mb = Number(du.stdout.split('\t')[0])
    t.comment(`installer image filesystem: ${mb} MB (du -sm ${rootfs})`)
    t.ok(mb > 0 && mb <= SIZE_BUDGET_MB, `${mb} MB <= ${SIZE_BUDGET_MB} MB`)
  })

  t.test('Node 20 runs, with no package manager beside it', async t => {
    const v = chroot(['node', '-p', 'process.versions.node'])
    t.equal(v.status, 0, v.stderr)
    t.match(v.stdout.trim(), /^20\./, `node ${v.stdout.trim()}`)
    for (const cmd of ['npm', 'npx', 'corepack', 'yarn']) t.equal(which(cmd), undefined, `no ${cmd}`)
    t.notOk(existsSync(inImage('usr/local/lib/node_modules')), 'no global node_modules')
  })

  t.test('the installer: its launcher, one bundled entry script and its chunks, the start-up snapshot\'s script and key but no blob, no node_modules', async t => {
    const dir = inImage('opt/gtp5g-installer')
    t.equal(readlinkSync(inImage('usr/local/bin/gtp5g-installer')), '/opt/gtp5g-installer/gtp5g-installer')
    const launcher = path.join(dir, 'gtp5g-installer')
    t.ok(lstatSync(launcher).mode & 0o111, 'the launcher is executable')
    t.match(readFileSync(launcher, 'utf8'), /^#!\/bin\/sh\n[^]*\ndir='\/opt\/gtp5g-installer'\n/, 'the launcher runs the bundle in /opt/gtp5g-installer')
    const main = path.join(dir, 'main.mjs')
    t.ok(lstatSync(main).mode & 0o111, 'main.mjs is executable')
    t.match(readFileSync(main, 'utf8'), /^#!\/usr\/bin\/env node\n/, 'main.mjs starts node')
    const chunks = readdirSync(path.join(dir, 'chunks'))
    t.same(readdirSync(dir).sort(), ['THIRD-PARTY-LICENSES', 'chunks', 'gtp5g-installer', 'main.mjs', 'package.json', 'snapshot.cjs', 'snapshot.key'],
      'the launcher, the bundle, the snapshot\'s script and key, the package.json and the bundled packages\' licenses, nothing else: no blob (the node builds it)')
    t.notOk(spawnSync('find', [inImage('opt'), inImage('var/lib'), '-name', '*.blob'], { encoding: 'utf8' }).stdout, 'no snapshot blob anywhere in the image')
    // The key names the node binary the image ships (stripped), snapshot.cjs and the Node.js version.
    const formula = '{ sha256sum </usr/local/bin/node | cut -c1-64; sha256sum </opt/gtp5g-installer/snapshot.cjs | cut -c1-64; node -p "$1"; } | sha256sum | cut -c1-16'
    const key = chroot(['sh', '-c', formula, 'sh', 'process.version + " " + process.arch'])
    t.equal(readFileSync(path.join(dir, 'snapshot.key'), 'utf8'), key.stdout, 'snapshot.key: the image\'s own node binary and snapshot.cjs')
    t.ok(chunks.length > 0 && chunks.every(c => c.endsWith('.mjs')), `chunks: ${chunks.join(', ')}`)
    t.notOk(spawnSync('find', [inImage('opt'), inImage('usr/local/lib'), '-name', 'node_modules'], { encoding: 'utf8' }).stdout, 'no node_modules anywhere')
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string, version?: string, dependencies?: unknown }
    t.match(pkg, { name: 'gtp5g-operator', version: /^\d+\.\d+\.\d+/ }, 'the release cache entries record')
    t.equal(pkg.dependencies, undefined, 'no dependencies to install')
    const licenses = readFileSync(path.join(dir, 'THIRD-PARTY-LICENSES'), 'utf8')
    for (const p of ['pino', 'tar', 'sonic-boom']) t.match(licenses, new RegExp(`^${p}@\\d`, 'm'), `${p}'s license`)

    // Everything the bundle imports is Node's own or one of its chunks: no package to resolve.
    const { specifiers, outside } = bundleImports(dir)
    t.same(outside, [], `${specifiers.length} imports, all node: built-ins or chunks`)
    t.notOk(existsSync(inImage('opt/gtp5g-installer/installer')), 'no TypeScript sources')

    // Every chunk loads (main.mjs runs on import: it is started below instead).
    const load = chroot(['sh', '-c', 'cd /opt/gtp5g-installer && exec node --input-type=module -e "$1"', 'sh',
      `for (const c of ${JSON.stringify(chunks)}) await import('./chunks/' + c)`])
    t.equal(load.status, 0, `${chunks.length} chunks load: ${load.stderr}`)

    // Through the entrypoint: without its environment the installer reports itself not ready.
    const check = chroot(['gtp5g-installer', 'check'])
    t.equal(check.status, 1, 'check exits 1 (not ready), not 126/127')
    t.match(check.stderr, /^not ready: /)
    t.notMatch(check.stdout + check.stderr, /ERR_MODULE_NOT_FOUND|Cannot find|SyntaxError/)

    // Through the entrypoint, with no blob on this "node": main.mjs. Without GTP5G_VERSION the
    // installer answers InvalidConfig in its own log line. The termination message goes nowhere
    // (a directory that does not exist): the exported image stays as built.
    const noLog = 'GTP5G_TERMINATION_LOG=/nonexistent/termination-log'
    const entry = chroot(['env', noLog, 'gtp5g-installer', 'install'])
    t.equal(entry.status, 1, `through the entrypoint: exit 1 ${entry.stderr}`)
    t.match(entry.stdout, /"reason":"InvalidConfig"/, 'through the entrypoint: the installer\'s log line')
  })

  t.test('the kernel-module toolchain runs', async t => {
    for (const [cmd, ...args] of [['gcc', '--version'], ['make', '--version'], ['ld', '--version'], ['as', '--version'],
      ['objcopy', '--version'], ['pahole', '--version'], ['modprobe', '--version'], ['flock', '--version']]) {
      const res = chroot([cmd as string, ...args])
      t.equal(res.status, 0, `${cmd} ${args.join(' ')}: ${(res.stdout.split('\n')[0] ?? '') + res.stderr}`)
    }
    for (const cmd of ['insmod', 'rmmod', 'modinfo']) t.ok(which(cmd), `${cmd} on PATH`)
    // cc1 and libc6-dev's headers (which include linux-libc-dev's): C to assembly on stdout.
    const cc = chroot(['gcc', '-O2', '-S', '-o', '-', '-x', 'c', '-'], '#include <stdio.h>\n#include <linux/types.h>\nint main (void) { return puts("ok"); }\n')
    t.equal(cc.status, 0, cc.stderr)
    t.match(cc.stdout, /\b(call|jmp)\s+puts\b/)
    // What the node's kbuild tools (objtool, resolve_btfids, sign-file) are linked against.
    for (const lib of ['libelf.so.1', 'libz.so.1', 'libcrypto.so.3']) t.ok(existsSync(inImage('usr/lib/x86_64-linux-gnu', lib)), lib)
  })

  t.test('no apt lists, downloaded packages or kbuild trees', async t => {
    t.same(readdirSync(inImage('var/lib/apt/lists')).filter(f => f !== 'partial' && f !== 'lock'), [], 'no apt lists')
    const debs = spawnSync('find', [inImage('var'), inImage('tmp'), '-name', '*.deb'], { encoding: 'utf8' })
    t.equal(debs.stdout, '', 'no .deb archives')
    t.same(readdirSync(inImage('usr/lib')).filter(f => f.startsWith('linux-kbuild-')), [], 'kbuild comes from the node (/host/usr/lib), not the image')
    t.notOk(existsSync(inImage('usr/share/doc/gcc-12/changelog.Debian.gz')), 'no package docs')
  })
}
