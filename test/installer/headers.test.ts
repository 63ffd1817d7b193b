// What the installer prepares before kbuild runs (installer/headers.ts), on a temporary host root
// laid out like a pod sees a Debian node: /lib/modules and /usr/src at their paths, the node's
// /usr/lib at /host/usr/lib, the container's own /usr/lib beside it.
import { lstat, mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { elfSectionNames } from '../../installer/elf.js'
import { btfHeadersTree, linkHostKbuild, requireHeaders } from '../../installer/headers.js'
import { hostPaths } from '../../installer/paths.js'
import { fakeElf, tempDir } from './helpers.js'

const KERNEL = '6.12.117+deb12-amd64'
const KBUILD = 'linux-kbuild-6.12.117+deb12'

/** Debian's layout: headers whose scripts and tools are relative links into /usr/lib/<kbuild>. */
async function debianNode (root: string, opts: { kbuildOnNode?: boolean, config?: string } = {}): Promise<string> {
  const headers = path.join(root, 'usr/src', `linux-headers-${KERNEL}`)
  await mkdir(headers, { recursive: true })
  await writeFile(path.join(headers, 'Makefile'), 'include /usr/src/linux-headers-common/Makefile\n')
  await writeFile(path.join(headers, '.config'), opts.config ?? 'CONFIG_DEBUG_INFO_BTF=y\nCONFIG_DEBUG_INFO_BTF_MODULES=y\n')
  await writeFile(path.join(headers, 'vmlinux'), 'the headers\' own vmlinux')
  await symlink(`../../lib/${KBUILD}/scripts`, path.join(headers, 'scripts'))
  await symlink(`../../lib/${KBUILD}/tools`, path.join(headers, 'tools'))
  await mkdir(path.join(root, 'lib/modules', KERNEL), { recursive: true })
  await symlink(headers, path.join(root, 'lib/modules', KERNEL, 'build'))
  await mkdir(path.join(root, 'usr/lib'), { recursive: true })
  if (opts.kbuildOnNode !== false) {
    await mkdir(path.join(root, 'host/usr/lib', KBUILD, 'scripts'), { recursive: true })
    await writeFile(path.join(root, 'host/usr/lib', KBUILD, 'scripts/Kbuild.include'), '# kbuild\n')
    await mkdir(path.join(root, 'host/usr/lib/x86_64-linux-gnu'), { recursive: true })
  }
  return path.join(root, 'lib/modules', KERNEL, 'build')
}

t.test('the node\'s linux-kbuild-* are linked into the container, so the headers\' relative links resolve', async t => {
  const root = await tempDir(t)
  const kdir = await debianNode(root)
  const paths = hostPaths(root)
  await t.rejects(requireHeaders(kdir, KERNEL), { reason: 'KernelHeadersMissing', message: /which is missing/ }, 'before linking, the scripts link dangles')
  t.same(await linkHostKbuild(paths), [KBUILD], 'only linux-kbuild-* directories, not the rest of the node\'s /usr/lib')
  t.equal(await readlink(path.join(root, 'usr/lib', KBUILD)), path.join(root, 'host/usr/lib', KBUILD))
  await requireHeaders(kdir, KERNEL)
  t.same(await linkHostKbuild(paths), [], 'idempotent: a second install links nothing')
})

t.test('the image\'s own directory of the same name is kept', async t => {
  const root = await tempDir(t)
  await debianNode(root)
  await mkdir(path.join(root, 'usr/lib', KBUILD))
  t.same(await linkHostKbuild(hostPaths(root)), [])
  t.ok((await lstat(path.join(root, 'usr/lib', KBUILD))).isDirectory())
})

t.test('no node /usr/lib mounted (another distribution, an older DaemonSet): nothing to link, no error', async t => {
  const root = await tempDir(t)
  t.same(await linkHostKbuild(hostPaths(root)), [])
})

t.test('KernelHeadersMissing names the package the node lacks', async t => {
  await t.test('no headers: linux-headers-<uname -r>', async t => {
    const root = await tempDir(t)
    await t.rejects(requireHeaders(path.join(root, 'lib/modules', KERNEL, 'build'), KERNEL), {
      reason: 'KernelHeadersMissing',
      message: new RegExp(`no kernel headers for ${KERNEL.replaceAll('.', '\\.').replace('+', '\\+')} .*the node needs the package linux-headers-${KERNEL.replaceAll('.', '\\.').replace('+', '\\+')} \\(Debian, Ubuntu: apt-get install linux-headers-\\$\\(uname -r\\)\\)`)
    })
  })
  await t.test('headers without their kbuild: linux-kbuild-<version>', async t => {
    const root = await tempDir(t)
    const kdir = await debianNode(root, { kbuildOnNode: false })
    await linkHostKbuild(hostPaths(root))
    await t.rejects(requireHeaders(kdir, KERNEL), {
      reason: 'KernelHeadersMissing',
      message: /find kbuild's scripts at \S+\/usr\/lib\/linux-kbuild-6\.12\.117\+deb12\/scripts, which is missing: the node needs the package linux-kbuild-6\.12\.117\+deb12 \(a dependency of linux-headers-6\.12\.117\+deb12-amd64\)/
    })
  })
})

t.test('the BTF headers tree: every entry of the node\'s, with the running kernel\'s BTF as vmlinux', async t => {
  const root = await tempDir(t)
  const kdir = await debianNode(root)
  const paths = hostPaths(root)
  const into = path.join(root, 'work/headers')
  await t.rejects(btfHeadersTree(paths, kdir, KERNEL, KERNEL, into), { reason: 'BTFUnavailable', message: /exposes no \/sys\/kernel\/btf\/vmlinux \(it was built without CONFIG_DEBUG_INFO_BTF\)/ })
  await mkdir(path.join(root, 'sys/kernel/btf'), { recursive: true })
  await writeFile(path.join(root, 'sys/kernel/btf/vmlinux'), 'the running kernel\'s BTF')
  await t.rejects(btfHeadersTree(paths, kdir, '6.1.0-28-amd64', KERNEL, into), { reason: 'BTFUnavailable', message: /built for 6\.1\.0-28-amd64 and only the running kernel's BTF/ })

  t.same(await btfHeadersTree(paths, kdir, KERNEL, KERNEL, into), { kdir: into, makeVars: ['RESOLVE_BTFIDS=true'], withoutResolveBtfids: true },
    'a kbuild without resolve_btfids (Debian\'s 6.1) runs `true` instead')
  t.equal(await readFile(path.join(into, 'vmlinux'), 'utf8'), 'the running kernel\'s BTF', 'the running kernel\'s BTF, not the headers\' copy')
  t.equal(await readFile(path.join(into, 'Makefile'), 'utf8'), 'include /usr/src/linux-headers-common/Makefile\n')
  t.equal(await readlink(path.join(into, 'scripts')), path.join(root, 'usr/src', `linux-headers-${KERNEL}`, 'scripts'), 'links to the entry itself: its own relative link still resolves')
  t.equal(await readFile(path.join(root, 'usr/src', `linux-headers-${KERNEL}`, 'vmlinux'), 'utf8'), 'the headers\' own vmlinux', 'the node\'s tree is untouched')
})

t.test('a kbuild that has resolve_btfids (Debian\'s 6.12) runs it', async t => {
  const root = await tempDir(t)
  const kdir = await debianNode(root)
  const tool = path.join(root, 'host/usr/lib', KBUILD, 'tools/bpf/resolve_btfids/resolve_btfids')
  await mkdir(path.dirname(tool), { recursive: true })
  await writeFile(tool, '')
  await mkdir(path.join(root, 'sys/kernel/btf'), { recursive: true })
  await writeFile(path.join(root, 'sys/kernel/btf/vmlinux'), 'btf')
  const paths = hostPaths(root)
  await linkHostKbuild(paths)
  t.match(await btfHeadersTree(paths, kdir, KERNEL, KERNEL, path.join(root, 'w')), { makeVars: [], withoutResolveBtfids: false })
})

t.test('BTF needs CONFIG_DEBUG_INFO_BTF_MODULES in the headers\' configuration', async t => {
  const root = await tempDir(t)
  const kdir = await debianNode(root, { config: 'CONFIG_DEBUG_INFO_BTF=y\n# CONFIG_DEBUG_INFO_BTF_MODULES is not set\n' })
  await mkdir(path.join(root, 'sys/kernel/btf'), { recursive: true })
  await writeFile(path.join(root, 'sys/kernel/btf/vmlinux'), 'btf')
  await t.rejects(btfHeadersTree(hostPaths(root), kdir, KERNEL, KERNEL, path.join(root, 'w')), { reason: 'BTFUnavailable', message: /not configured with CONFIG_DEBUG_INFO_BTF_MODULES=y/ })
})

t.test('ELF section names', async t => {
  const dir = await tempDir(t)
  const file = path.join(dir, 'm.ko')
  await writeFile(file, fakeElf(['.modinfo', '.BTF'], 'version=0.0.1'))
  t.same(await elfSectionNames(file), ['', '.modinfo', '.BTF', '.shstrtab'])
  await writeFile(file, 'FAKE-KO version=0.0.1\n')
  await t.rejects(elfSectionNames(file), /truncated ELF|not a 64-bit/)
  await writeFile(file, Buffer.concat([fakeElf(['.text'], 'x').subarray(0, 64)]))
  await t.rejects(elfSectionNames(file), /truncated ELF/, 'a section table past the end of the file')
})

// Issue 14 finding 8: the names table's size came from the file and went straight into
// Buffer.alloc and a read; a crafted .ko claiming 4 GiB aborted the process (SIGABRT).
t.test('ELF sizes and offsets are bounded by the file size', async t => {
  const dir = await tempDir(t)
  const file = path.join(dir, 'm.ko')
  const elf = fakeElf(['.modinfo'], 'x')
  const shoff = Number(elf.readBigUInt64LE(0x28))
  const strtab = shoff + 64 * 2 // the header of .shstrtab, the last of three sections
  const rows: Array<[string, (b: Buffer) => void, RegExp]> = [
    ['a names table claiming 4 GiB', b => { b.writeBigUInt64LE(0xFFFFFFFFn, strtab + 0x20) }, /truncated ELF \(wanted 4294967295 bytes at \d+ of a \d+-byte file\)/],
    ['a names table claiming 2^63 bytes', b => { b.writeBigUInt64LE(1n << 63n, strtab + 0x20) }, /truncated ELF/],
    ['a names table far past the end', b => { b.writeBigUInt64LE(0xFFFFFFFFFFn, strtab + 0x18) }, /truncated ELF/],
    ['a section table offset past 2^53', b => { b.writeBigUInt64LE(1n << 60n, 0x28) }, /truncated ELF/]
  ]
  for (const [name, corrupt, message] of rows) {
    const bad = Buffer.from(elf)
    corrupt(bad)
    await writeFile(file, bad)
    await t.rejects(elfSectionNames(file), message, name)
  }
})
