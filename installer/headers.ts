// What kbuild needs from the node before a build: the kernel's headers tree, the build tools
// those headers point at, and (spec.btf) the running kernel's BTF as the base for gtp5g's.
//
// Debian's linux-headers-<release> link their `scripts` and `tools` to
// /usr/lib/linux-kbuild-<x.y> (6.1) or /usr/lib/linux-kbuild-<version> (6.12: one per kernel
// update). The pod mounts the node's /usr/lib read-only at HOST_LIB.mount; linkHostKbuild()
// makes the container's /usr/lib/linux-kbuild-* point there, so the relative links in the
// headers resolve to the node's own tools, always the ones its headers were made with. The image
// carries none: it would need a rebuild for every Debian kernel update.
import { access, copyFile, mkdir, readdir, readFile, readlink, realpath, symlink } from 'node:fs/promises'
import path from 'node:path'
import { MODULE_NAME } from '../contract/index.js'
import { InstallerError } from './errors.js'
import { exists, type HostPaths } from './paths.js'

const KBUILD_DIR = /^linux-kbuild-[A-Za-z0-9._+~-]+$/

/**
 * Links each linux-kbuild-* directory of the node's /usr/lib (mounted at HOST_LIB.mount) into the
 * container's /usr/lib, unless the container already has one by that name. Nothing mounted (a
 * distribution whose headers carry their tools, or an old DaemonSet) links nothing.
 */
export async function linkHostKbuild (paths: HostPaths): Promise<string[]> {
  let names: string[]
  try {
    names = (await readdir(paths.hostLib)).filter(n => KBUILD_DIR.test(n)).sort()
  } catch {
    return []
  }
  const linked: string[] = []
  for (const name of names) {
    const at = path.join(paths.containerLib, name)
    if (await exists(at)) continue
    try {
      await symlink(path.join(paths.hostLib, name), at)
      linked.push(name)
    } catch (err) {
      // Another installer in the same container (an operator's `unload` by hand) won the race,
      // or a link by that name is left dangling: either way it is not ours to replace.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
  return linked
}

/** What to tell an operator to install: Debian and Ubuntu name headers after `uname -r`. */
const headersPackage = (kernel: string): string =>
  `linux-headers-${kernel} (Debian, Ubuntu: apt-get install linux-headers-$(uname -r)) or kernel-devel-${kernel} (RHEL and derivatives)`

/**
 * The headers tree must hold a kbuild Makefile and reach kbuild's scripts; a dangling
 * /lib/modules/<kernel>/build link, or headers without their linux-kbuild package, are the
 * common failures, and each names what the node lacks.
 */
export async function requireHeaders (kdir: string, kernel: string): Promise<void> {
  try {
    await access(path.join(kdir, 'Makefile'))
  } catch {
    throw new InstallerError('KernelHeadersMissing',
      `no kernel headers for ${kernel} at ${kdir}: the node needs the package ${headersPackage(kernel)}, ` +
      'which populates /lib/modules/<kernel>/build and /usr/src')
  }
  const scripts = path.join(kdir, 'scripts')
  try {
    await access(path.join(scripts, 'Kbuild.include'))
  } catch {
    let target = scripts
    try {
      target = path.resolve(await realpath(kdir), await readlink(scripts))
    } catch {
      // not a link: the tree itself lacks its scripts
    }
    const pkg = /\/linux-kbuild-([^/]+)\//.exec(`${target}/`)?.[1]
    throw new InstallerError('KernelHeadersMissing',
      `the headers of ${kernel} at ${kdir} find kbuild's scripts at ${target}, which is missing` +
      (pkg === undefined
        ? `: reinstall ${headersPackage(kernel)}`
        : `: the node needs the package linux-kbuild-${pkg} (a dependency of linux-headers-${kernel}); the installer pod reads it from the node's /usr/lib`))
  }
}

/** What a BTF build runs make with: the linked headers tree, and the kbuild settings it needs. */
export interface BtfBuild {
  kdir: string
  makeVars: string[]
  /** resolve_btfids was not run (the node's kbuild lacks it): a module with .BTF_ids is refused. */
  withoutResolveBtfids: boolean
}

/** kbuild's resolve_btfids, relative to the headers tree (Debian ships it in 6.12's kbuild, not 6.1's). */
const RESOLVE_BTFIDS = 'tools/bpf/resolve_btfids/resolve_btfids'

/**
 * The headers tree the BTF build uses: a directory of links to every entry of the real one, with
 * `vmlinux` replaced by the running kernel's BTF (/sys/kernel/btf/vmlinux). kbuild attaches BTF
 * to a module only when the objtree holds a vmlinux to split it from (Debian's 6.1 headers have
 * none; its 6.12 headers carry one, but the running kernel's own is the exact base), and the
 * node's tree is read-only here. After pahole, kbuild runs resolve_btfids, which only fills the
 * .BTF_ids sections of modules that declare BTF ids; Debian's 6.1 kbuild does not ship it, so
 * there it is replaced by `true`, and the built module is checked for such sections instead.
 */
export async function btfHeadersTree (paths: HostPaths, kdir: string, kernel: string, running: string, into: string): Promise<BtfBuild> {
  const unavailable = (why: string): InstallerError => new InstallerError('BTFUnavailable', `spec.btf asks for BTF in ${MODULE_NAME}, but ${why}`)
  if (kernel !== running) throw unavailable(`it is built for ${kernel} and only the running kernel's BTF (${running}) is at hand`)
  const vmlinux = paths.sysBtf('vmlinux')
  if (!(await exists(vmlinux))) throw unavailable(`kernel ${kernel} exposes no /sys/kernel/btf/vmlinux (it was built without CONFIG_DEBUG_INFO_BTF)`)
  let config = ''
  try {
    config = await readFile(path.join(kdir, '.config'), 'utf8')
  } catch {
    // judged below: no configuration, no BTF for modules
  }
  if (!/^CONFIG_DEBUG_INFO_BTF_MODULES=y$/m.test(config)) {
    throw unavailable(`the headers of ${kernel} are not configured with CONFIG_DEBUG_INFO_BTF_MODULES=y, so kbuild attaches no BTF to modules`)
  }
  const real = await realpath(kdir)
  await mkdir(into, { recursive: true })
  for (const name of await readdir(real)) {
    if (name !== 'vmlinux') await symlink(path.join(real, name), path.join(into, name))
  }
  await copyFile(vmlinux, path.join(into, 'vmlinux'))
  const withoutResolveBtfids = !(await exists(path.join(real, RESOLVE_BTFIDS)))
  return { kdir: into, makeVars: withoutResolveBtfids ? ['RESOLVE_BTFIDS=true'] : [], withoutResolveBtfids }
}
