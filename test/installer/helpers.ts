// The installer tests' scaffolding: a temporary host root, a fake kernel (sysfs files + a fake
// kmod, a fake make) and the installer's ports over them. Nothing here touches the real host.
// The fixture tarballs and the loopback HTTP server are in test/support (e2e uses them too).
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { isBuiltin } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { MODULE_NAME } from '../../contract/index.js'
import { type Config } from '../../installer/config.js'
import { elfSectionNames } from '../../installer/elf.js'
import { InstallerError } from '../../installer/errors.js'
import { type Runner } from '../../installer/exec.js'
import { type Kmod } from '../../installer/kmod.js'
import { DEFAULT_LIMITS } from '../../installer/limits.js'
import { hostPaths } from '../../installer/paths.js'
import { type Host, hostPorts, type Ports } from '../../installer/ports.js'

/**
 * What the installer's bundle (installer/bundle.mjs's output: main.mjs, chunks/ and snapshot.cjs) imports:
 * static and dynamic imports and esbuild's require() of CommonJS code, and those that are neither
 * a Node.js built-in nor a file of the bundle (which would need a node_modules beside it).
 */
export function bundleImports (dir: string): { specifiers: string[], outside: string[] } {
  const files = [path.join(dir, 'main.mjs'), path.join(dir, 'snapshot.cjs'), ...readdirSync(path.join(dir, 'chunks')).map(c => path.join(dir, 'chunks', c))]
  const specifiers = files.flatMap(f =>
    [...readFileSync(f, 'utf8').matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\b(?:__)?require\(\s*)["']([^"']+)["']/g)].map(m => m[1] as string))
  const outside = [...new Set(specifiers.filter(s => !s.startsWith('./') && !s.startsWith('../') && !isBuiltin(s)))]
  return { specifiers, outside }
}

export interface HasTeardown { teardown: (fn: () => unknown) => void }

export async function tempDir (t: HasTeardown, prefix = 'gtp5g-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Pretends the kernel has `name` loaded, the way /sys/module shows it. */
export async function setLoaded (root: string, name: string, state: { version?: string, refcnt?: number, holders?: string[] }): Promise<void> {
  const dir = path.join(root, 'sys/module', name)
  await mkdir(path.join(dir, 'holders'), { recursive: true })
  await writeFile(path.join(dir, 'initstate'), 'live\n')
  await writeFile(path.join(dir, 'refcnt'), `${state.refcnt ?? 0}\n`)
  if (state.version !== undefined) await writeFile(path.join(dir, 'version'), `${state.version}\n`)
  for (const h of state.holders ?? []) await mkdir(path.join(dir, 'holders', h), { recursive: true })
}

export async function setUnloaded (root: string, name: string): Promise<void> {
  await rm(path.join(root, 'sys/module', name), { recursive: true, force: true })
  await rm(path.join(root, 'sys/kernel/btf', name), { force: true })
}

/**
 * A minimal ELF64 little-endian object with the named sections (each holding `data`), the shape
 * installer/elf.ts reads: what the fake make "links" when kbuild would attach BTF.
 */
export function fakeElf (sections: string[], data: string): Buffer {
  const names = ['', ...sections, '.shstrtab']
  const strtab = Buffer.from(names.join('\0') + '\0', 'latin1')
  const body = Buffer.from(data, 'latin1')
  const bodyAt = 64
  const strAt = bodyAt + body.length
  const shoff = strAt + strtab.length
  const header = Buffer.alloc(64)
  header.writeUInt32LE(0x464c457f, 0)
  header[4] = 2 // ELFCLASS64
  header[5] = 1 // little-endian
  header[6] = 1 // EV_CURRENT
  header.writeUInt16LE(1, 0x10) // ET_REL, like a .ko
  header.writeBigUInt64LE(BigInt(shoff), 0x28)
  header.writeUInt16LE(64, 0x3a)
  header.writeUInt16LE(names.length, 0x3c)
  header.writeUInt16LE(names.length - 1, 0x3e)
  const table = Buffer.alloc(64 * names.length)
  let nameAt = 0
  names.forEach((name, i) => {
    table.writeUInt32LE(nameAt, i * 64)
    nameAt += Buffer.byteLength(name, 'latin1') + 1
    if (i === 0) return
    const isStr = i === names.length - 1
    table.writeBigUInt64LE(BigInt(isStr ? strAt : bodyAt), i * 64 + 0x18)
    table.writeBigUInt64LE(BigInt(isStr ? strtab.length : body.length), i * 64 + 0x20)
  })
  return Buffer.concat([header, body, strtab, table])
}

/** Fake headers: what requireHeaders looks for, `build/Makefile` and kbuild's `scripts/Kbuild.include`. */
export async function fakeHeaders (root: string, kernel: string): Promise<void> {
  const build = path.join(root, 'lib/modules', kernel, 'build')
  await mkdir(path.join(build, 'scripts'), { recursive: true })
  await writeFile(path.join(build, 'Makefile'), '# fake headers\n')
  await writeFile(path.join(build, 'scripts/Kbuild.include'), '# fake kbuild\n')
}

// A fake ".ko" is a text file naming the version it would report once loaded.
export const fakeKo = (version: string): string => `FAKE-KO version=${version}\n`

export interface FakeKmod extends Kmod { calls: string[] }

export function fakeKmod (root: string): FakeKmod {
  const calls: string[] = []
  return {
    calls,
    loadDependency: async kernel => {
      calls.push(`modprobe udp_tunnel ${kernel}`)
      await setLoaded(root, 'udp_tunnel', {})
    },
    insmod: async ko => {
      calls.push(`insmod ${ko}`)
      // Works on fake modules and on real ELF ones (their .modinfo holds `version=...\0`).
      const m = /version=([\w.+-]+)/.exec(await readFile(ko, 'latin1'))
      if (m === null) throw new InstallerError('LoadFailed', 'insmod: Invalid module format')
      await setLoaded(root, MODULE_NAME, { version: m[1] as string })
      // Like the kernel: a module carrying BTF gets /sys/kernel/btf/<name>.
      const sections = await elfSectionNames(ko).catch((): string[] => [])
      if (sections.includes('.BTF')) {
        await mkdir(path.join(root, 'sys/kernel/btf'), { recursive: true })
        await writeFile(path.join(root, 'sys/kernel/btf', MODULE_NAME), '')
      }
    },
    remove: async () => {
      calls.push('rmmod gtp5g')
      const refcnt = Number(await readFile(path.join(root, 'sys/module/gtp5g/refcnt'), 'utf8').catch(() => '0'))
      if (refcnt > 0) throw new InstallerError('ModuleInUse', 'rmmod: Module gtp5g is in use')
      await setUnloaded(root, MODULE_NAME)
    }
  }
}

/**
 * A `make` that "builds" by reading version.h, or fails like gcc when the source says BROKEN. Like
 * kbuild, it attaches BTF (an ELF with .BTF) when the headers tree (KDIR) holds a vmlinux.
 */
export function fakeMake (): Runner & { builds: number } {
  const runner = Object.assign(async (_cmd: string, args: readonly string[], opts?: { onOutput?: (chunk: Buffer) => void }) => {
    runner.builds++
    const dir = args[args.indexOf('-C') + 1] as string
    const header = await readFile(path.join(dir, 'version.h'), 'utf8')
    const fail = header.includes('BROKEN')
    const output = fail
      ? 'CC [M] gtp5g.o\ngtp5g.c:3:1: error: expected declaration\nmake: *** [Makefile:12: all] Error 2\n'
      : 'LD [M] gtp5g.ko\n'
    opts?.onOutput?.(Buffer.from(output))
    if (fail) return { code: 2, signal: null, output }
    const version = /DRV_VERSION "([^"]+)"/.exec(header)?.[1] ?? 'none'
    const kdir = args.find(a => a.startsWith('KDIR='))?.slice(5)
    const btf = kdir !== undefined && existsSync(path.join(kdir, 'vmlinux'))
    await writeFile(path.join(dir, 'gtp5g.ko'), btf ? fakeElf(['.modinfo', '.BTF'], fakeKo(version)) : fakeKo(version))
    return { code: 0, signal: null, output }
  }, { builds: 0 })
  return runner
}

export interface LogLine { level: 'info' | 'error', obj: Record<string, unknown>, msg: string }

export type TestPorts = Ports & Host & { lines: LogLine[] }

/**
 * The installer's real ports over a temporary root (real sysfs-shaped files, cache, lock,
 * download, extraction), with a fake kmod and make. The ports read `paths`, `kmod`, `runner` and
 * `workDir` when called, so a test may swap them afterwards.
 */
export function testPorts (root: string, overrides: Partial<Host & Omit<Ports, 'module' | 'cache' | 'build'>> = {}): TestPorts {
  const lines: LogLine[] = []
  let clock = 0
  const ports = {
    lines,
    paths: hostPaths(root),
    kmod: fakeKmod(root),
    runner: fakeMake(),
    workDir: async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'gtp5g-work-'))
      return { path: dir, remove: () => rm(dir, { recursive: true, force: true }) }
    },
    log: {
      info: (obj: object, msg: string) => lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg }),
      error: (obj: object, msg: string) => lines.push({ level: 'error', obj: obj as Record<string, unknown>, msg })
    },
    now: () => (clock += 5),
    runningKernel: () => '6.1.0-28-amd64',
    installerVersion: TEST_INSTALLER_VERSION,
    signal: new AbortController().signal,
    ...overrides
  }
  return Object.assign(ports, hostPorts(ports))
}

export const TEST_INSTALLER_VERSION = '0.0.0-test'

/** An install Config for the temp-root harness, with the default limits unless overridden. */
export function testConfig (root: string, sourceUrl: string, extra: Partial<Config> = {}): Config {
  return {
    command: 'install',
    action: 'install',
    version: 'v0.0.1',
    kernel: undefined,
    sourceUrl,
    sourceSha256: undefined,
    allowedSourcePrefixes: [],
    btf: false,
    hostRoot: root,
    watchIntervalMs: 1000,
    logLevel: 'silent',
    terminationLog: path.join(root, 'termination-log'),
    readyFile: path.join(root, 'ready'),
    limits: { ...DEFAULT_LIMITS },
    ...extra
  }
}
