// Boots one of Debian's kernels in qemu (TCG, no KVM) on a disk made from the installer image's
// filesystem, the node's /lib/modules and /usr/src and its linux-kbuild-* at /host/usr/lib (what
// a pod gets through its hostPaths), and the test fixtures; runs fixtures/guest/scenario.sh as
// PID 1 and returns its "@@GTP5G" lines.
import { execFile, spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { createHash } from 'node:crypto'
import { chmod, cp, mkdir, mkdtemp, readFile, readlink, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { FIXTURES, packFixture } from './fixturesource.js'
import { HOST_LIB } from '../../contract/index.js'
import { CACHE_DIR } from '../../e2e/cluster/tools.js'
import { type RealEnv, type VmKernel } from './realenv.js'

const exec = promisify(execFile)

export interface GuestRecord { [key: string]: string }
export interface GuestRun { records: Map<string, GuestRecord>, console: string, bootMs: number }

/** Hard links when possible (same filesystem), so staging 600 MB costs nothing. */
async function copyTree (from: string, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true })
  try {
    await exec('cp', ['-al', from, to])
  } catch {
    await exec('cp', ['-a', from, to])
  }
}

/** Builds the holder module on the host against the fixture's Module.symvers. */
export async function buildHolder (kernel: VmKernel, work: string, tarball: string): Promise<string> {
  const src = path.join(work, 'host-build')
  await mkdir(src, { recursive: true })
  await exec('tar', ['-xzf', tarball, '-C', src, '--strip-components=1'])
  const kdir = `/lib/modules/${kernel.release}/build`
  await exec('make', ['-C', src, `KVER=${kernel.release}`, `KDIR=${kdir}`])
  const holder = path.join(work, 'holder')
  await cp(path.join(FIXTURES, 'gtp5g-holder'), holder, { recursive: true })
  await exec('make', ['-C', holder, `KDIR=${kdir}`, `GTP5G_SYMVERS=${path.join(src, 'Module.symvers')}`])
  return path.join(holder, 'gtp5g_holder.ko')
}

/** Another guest program than the qemu suite's scenario, and more files on the disk (the benchmark's). */
export interface GuestOptions {
  /** A script run as the guest's PID 1 instead of fixtures/guest/scenario.sh. */
  init?: string
  /** Called with the staged root filesystem before the disk is made: add files, never change the image's (they are hard links). */
  stage?: (root: string) => Promise<void>
}

export async function prepareDisk (env: RealEnv, kernel: VmKernel, work: string, guest: GuestOptions = {}): Promise<string> {
  const root = path.join(work, 'root')
  const release = kernel.release
  await copyTree(env.IMAGE_ROOTFS, root)
  // In a pod these are hostPath volumes; here they come from Debian's packages on the host.
  await copyTree(`/lib/modules/${release}`, path.join(root, 'usr/lib/modules', release))
  const src = path.join('/usr/src', `linux-headers-${release}`)
  await copyTree(src, path.join(root, src))
  const common = (await readFile(path.join(src, 'Makefile'), 'utf8')).match(/linux-headers-[^/\s]*-common/)?.[0]
  if (common !== undefined) await copyTree(path.join('/usr/src', common), path.join(root, 'usr/src', common))
  // The node's kbuild tools, where the pod mounts the node's /usr/lib (HOST_LIB): the image has
  // none, so the installer must link them for the headers' relative links to resolve.
  const kbuild = path.dirname(await realpath(path.resolve(src, await readlink(path.join(src, 'scripts')))))
  await copyTree(kbuild, path.join(root, HOST_LIB.mount, path.basename(kbuild)))

  const test = path.join(root, 'gtp5g-test')
  await mkdir(test, { recursive: true })
  const v1 = await packFixture(test, 'v0.0.1')
  await packFixture(test, 'v0.0.2')
  await packFixture(test, 'v0.0.3', { overlay: 'gtp5g-lltx' })
  const sha = createHash('sha256').update(await readFile(v1)).digest('hex')
  await cp(await buildHolder(kernel, work, v1), path.join(test, 'gtp5g_holder.ko'))
  // BAD_SHA256: a pin no tarball has (the provenance case). V3: the NETIF_F_LLTX source.
  await writeFile(path.join(test, 'env'), `V1=v0.0.1\nV1_SHA256=${sha}\nV2=v0.0.2\nV3=v0.0.3\nBAD_SHA256=${'0'.repeat(64)}\n`)
  await cp(guest.init ?? path.join(FIXTURES, 'guest/scenario.sh'), path.join(test, 'scenario.sh'))
  await chmod(path.join(test, 'scenario.sh'), 0o755)
  await guest.stage?.(root)

  const disk = path.join(work, 'disk.img')
  const { stdout } = await exec('du', ['-sm', root])
  const sizeMb = Number(stdout.split('\t')[0]) + 768 // room for the cache and a build
  await exec('mke2fs', ['-q', '-t', 'ext4', '-E', 'root_owner=0:0', '-d', root, '-F', disk, `${sizeMb}M`])
  await rm(root, { recursive: true, force: true })
  return disk
}

export function parseRecords (consoleText: string): Map<string, GuestRecord> {
  const records = new Map<string, GuestRecord>()
  for (const line of consoleText.split(/\r?\n/)) {
    const at = line.indexOf('@@GTP5G ')
    if (at < 0) continue
    const fields: GuestRecord = {}
    // key=value pairs; a value runs until the next " key=" (termination messages hold spaces).
    // `term=`, always last, runs to the end of the line: make's output in it holds "M=…" too.
    const whole = line.slice(at + 8)
    const termAt = whole.search(/(^|\s)term=/)
    const body = termAt < 0 ? whole : whole.slice(0, termAt)
    if (termAt >= 0) fields.term = whole.slice(termAt).replace(/^\s?term=/, '').trim()
    const re = /(\w[\w-]*)=(.*?)(?=\s\w[\w-]*=|$)/g
    for (const m of body.matchAll(re)) fields[m[1] as string] = (m[2] as string).trim()
    records.set(fields.step ?? body.split(' ')[0] ?? '', fields)
  }
  return records
}

export interface ScenarioOptions extends GuestOptions {
  /**
   * The guest is stopped when its console stays silent this long (default 10 min): every step
   * prints a line when it ends, and the longest, a cold kbuild of gtp5g in TCG, took under 4 min
   * on a loaded machine. A fixed limit for the whole run failed CI once: on a machine busy with
   * other work the same run took 660 s one day and over 840 s another, every step still moving.
   */
  silenceMs?: number
  /** A limit for the whole run all the same (default 40 min). */
  timeoutMs?: number
  log?: (s: string) => void
}

export async function bootScenario (env: RealEnv, kernel: VmKernel, opts: ScenarioOptions = {}): Promise<GuestRun> {
  const work = await mkdtemp(path.join(tmpdir(), 'gtp5g-vm-'))
  const release = kernel.release
  try {
    const disk = await prepareDisk(env, kernel, work, opts)
    const args = [
      '-accel', 'tcg', '-cpu', 'max', '-smp', '2', '-m', '2048', '-nographic', '-no-reboot', '-nic', 'none',
      '-kernel', kernel.vmlinuz, '-initrd', kernel.initrd,
      '-append', 'console=ttyS0 panic=-1 loglevel=3 gtp5g.init=/gtp5g-test/scenario.sh',
      '-drive', `file=${disk},format=raw,if=virtio`
    ]
    const started = Date.now()
    const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let text = ''
    // Also on disk while it runs: the place to look when a guest run hangs.
    const consoleLog = createWriteStream(path.join(CACHE_DIR, `last-guest-console-${release}.log`))
    const stop = (why: string): void => {
      text += `\n[test harness] ${why}: qemu stopped\n`
      child.kill('SIGKILL')
    }
    const silenceMs = opts.silenceMs ?? 600_000
    const silence = setTimeout(() => { stop(`no console output for ${silenceMs / 1000} s`) }, silenceMs)
    const onData = (c: Buffer): void => {
      const chunk = c.toString('utf8')
      text += chunk
      consoleLog.write(c)
      opts.log?.(chunk)
      silence.refresh()
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    const limitMs = opts.timeoutMs ?? 2_400_000
    const limit = setTimeout(() => { stop(`the run took over ${limitMs / 1000} s`) }, limitMs)
    await new Promise(resolve => child.on('close', resolve))
    clearTimeout(silence)
    clearTimeout(limit)
    consoleLog.end()
    return { records: parseRecords(text), console: text, bootMs: Date.now() - started }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}
