// A real node beside the kwok ones: Debian 12 under qemu (TCG) with a real kubelet and
// containerd (e2e/node/guest-disk.sh makes and caches its disk), joined to a local cluster made
// with `up({ realNode: true })`. Per cluster it adds, in the cluster directory:
//   - a client certificate for system:node:<name> from the cluster's own CA and a kubeconfig that
//     reaches the API server at 10.0.2.2 (qemu's user network maps it to the host's 127.0.0.1),
//     on a small config disk (/dev/vdb in the guest);
//   - a copy-on-write overlay of the cached disk (a VM restart keeps its state, like a reboot);
//   - the CONNECT proxy (proxy.ts) the API server's egress selector uses to reach the kubelet,
//     through a qemu hostfwd port on 127.0.0.1.
// Host-side traffic stays on loopback: the guest's 10.0.2.x lives inside qemu's user-mode stack.
// No tap import: the demo uses this file too.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import path from 'node:path'
import { egressSocket, type LocalCluster, REPO } from '../cluster/cluster.js'
import { nodeClientCert, pkiPaths } from '../cluster/certs.js'
import { CACHE_DIR } from '../cluster/tools.js'
import type { Routes } from './proxy.js'
import { runTool, sleep } from '../cluster/loopback.js'
import { waitFor, waitGuards } from '../lib/kube.js'

/** The guest's address on qemu's user network (and so the node's InternalIP). */
export const GUEST_IP = '10.0.2.15'
/** The host's loopback as the guest sees it. */
export const HOST_FROM_GUEST = '10.0.2.2'
export const KUBELET_PORT = 10250

export interface NodeDisk { DISK: string, KERNEL: string, VMLINUZ: string, INITRD: string, INSTALLER_IMAGE: string, OPERATOR_IMAGE: string, PAUSE_IMAGE: string }

const diskEnvFile = (kernelLine: string): string => path.join(CACHE_DIR, `node-disk-${kernelLine}.env`)

/** The cached guest disk for a kernel line ("6.12" or "6.1"), or a sentence saying how to make it. */
export function nodeDisk (kernelLine = '6.12'): NodeDisk | string {
  const fix = `run: bash e2e/node/guest-disk.sh ${kernelLine}  (builds kubelet, containerd, runc, the CNI plugins and crictl, then the disk; about 25 min the first time)`
  const file = (existsSync(CACHE_DIR) ? readdirSync(CACHE_DIR) : []).map(f => /^node-disk-(.+)\.env$/.exec(f)?.[1]).find(k => k !== undefined && k.startsWith(kernelLine + '.'))
  if (file === undefined) return `no guest disk for the ${kernelLine} kernel in ${CACHE_DIR}; ${fix}`
  const values: Record<string, string> = {}
  for (const line of readFileSync(diskEnvFile(file), 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line)
    if (m !== null) values[m[1] as string] = m[2] as string
  }
  for (const key of ['DISK', 'KERNEL', 'VMLINUZ', 'INITRD', 'INSTALLER_IMAGE', 'OPERATOR_IMAGE', 'PAUSE_IMAGE']) {
    if (values[key] === undefined) return `${diskEnvFile(file)} lacks ${key}; ${fix}`
  }
  for (const f of [values.DISK, values.VMLINUZ, values.INITRD] as string[]) if (!existsSync(f)) return `${f} does not exist; ${fix}`
  for (const bin of ['qemu-system-x86_64', 'qemu-img', 'mke2fs']) {
    if (!['/usr/bin', '/usr/sbin', '/sbin', '/bin'].some(d => existsSync(path.join(d, bin)))) return `${bin} is not installed; ${fix}`
  }
  return values as unknown as NodeDisk
}

export interface RealNodeOptions {
  name?: string
  /** Debian 12 kernel line: "6.12" (default) or "6.1". */
  kernel?: string
  /** Labels the kubelet registers the node with. */
  labels?: Record<string, string>
  /** The guest's resolv.conf; none by default (tests resolve nothing). */
  resolvConf?: string
  /** Streams the kubelet's and containerd's logs to the console log too. */
  verbose?: boolean
  memoryMb?: number
  cpus?: number
}

/** Boots of one start() that may end in an early panic of the emulated kernel before init runs. */
const BOOT_ATTEMPTS = 3
/** Power-on → the guest's init: seconds under TCG, minutes on a machine shared with other VMs. */
const INIT_TIMEOUT_MS = 5 * 60_000

/** Seconds after boot each "@@NODE <what>" line of the guest console was printed. */
export type GuestMarks = Record<string, number>

export class RealNode {
  readonly name: string
  readonly disk: NodeDisk
  private readonly dir: string
  private readonly options: RealNodeOptions

  constructor (readonly cluster: LocalCluster, disk: NodeDisk, options: RealNodeOptions = {}) {
    this.name = options.name ?? 'vm-upf-1'
    this.disk = disk
    this.options = options
    this.dir = path.join(cluster.dir, 'node', this.name)
  }

  get consolePath (): string { return path.join(this.cluster.dir, 'logs', `node-vm-${this.name}.log`) }
  private get routesPath (): string { return path.join(this.cluster.dir, 'node-routes.json') }

  /** The API server's port, from the cluster's kubeconfig. */
  private apiPort (): number {
    const kc = JSON.parse(readFileSync(this.cluster.kubeconfigPath, 'utf8')) as { clusters: Array<{ cluster: { server: string } }> }
    return Number(new URL(kc.clusters[0]?.cluster.server ?? '').port)
  }

  /** The config disk: who the node is and how it reaches the API server. */
  private async configDisk (): Promise<string> {
    const stage = path.join(this.dir, 'config')
    rmSync(stage, { recursive: true, force: true })
    mkdirSync(stage, { recursive: true })
    const pki = pkiPaths(path.join(this.cluster.dir, 'pki'))
    const { cert, key } = nodeClientCert(pki, path.join(this.dir, 'pki'), this.name)
    writeFileSync(path.join(stage, 'ca.crt'), readFileSync(pki.ca))
    writeFileSync(path.join(stage, 'node.crt'), readFileSync(cert))
    writeFileSync(path.join(stage, 'node.key'), readFileSync(key), { mode: 0o600 })
    writeFileSync(path.join(stage, 'kubeconfig'), JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      // The API server's certificate names 127.0.0.1 and localhost; the guest dials 10.0.2.2.
      clusters: [{ name: 'local', cluster: { server: `https://${HOST_FROM_GUEST}:${this.apiPort()}`, 'certificate-authority': '/etc/gtp5g-node/ca.crt', 'tls-server-name': 'localhost' } }],
      users: [{ name: 'node', user: { 'client-certificate': '/etc/gtp5g-node/node.crt', 'client-key': '/etc/gtp5g-node/node.key' } }],
      contexts: [{ name: 'local', context: { cluster: 'local', user: 'node' } }],
      'current-context': 'local'
    }, null, 2) + '\n')
    const labels = Object.entries(this.options.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',')
    writeFileSync(path.join(stage, 'env'), `NODE_NAME=${this.name}\nNODE_LABELS=${labels}\n`)
    if (this.options.resolvConf !== undefined) writeFileSync(path.join(stage, 'resolv.conf'), this.options.resolvConf)
    const img = path.join(this.dir, 'config.img')
    await runTool('mke2fs', ['-q', '-t', 'ext4', '-E', 'root_owner=0:0', '-d', stage, '-F', img, '16M'])
    return img
  }

  /** The node's own disk: an overlay of the cached one, made once (a restart keeps it). */
  private async overlay (): Promise<string> {
    const file = path.join(this.dir, 'disk.qcow2')
    if (!existsSync(file)) await runTool('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', this.disk.DISK, file])
    return file
  }

  /** The CONNECT proxy for the API server (one per cluster); resolves once it accepts. */
  async startProxy (): Promise<void> {
    const socket = egressSocket(this.cluster.dir)
    if (this.cluster.pidOf('node-proxy') === undefined) {
      this.cluster.spawnRecorded('node-proxy', process.execPath, ['--import', '@tapjs/typescript/import', path.join(REPO, 'e2e/node/proxy-main.ts'), socket, this.routesPath],
        { log: path.join(this.cluster.dir, 'logs', 'node-proxy.log'), cwd: REPO, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' } })
    }
    const deadline = Date.now() + 60_000
    while (Date.now() < deadline) {
      if (await new Promise<boolean>(resolve => {
        const c = connect(socket, () => { c.destroy(); resolve(true) })
        c.on('error', () => { resolve(false) })
      })) return
      if (this.cluster.pidOf('node-proxy') === undefined) break
      await sleep(200)
    }
    throw new Error(`the node proxy did not start; see ${path.join(this.cluster.dir, 'logs', 'node-proxy.log')}`)
  }

  private readonly freePort = async (): Promise<number> => await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => { resolve(typeof address === 'object' && address !== null ? address.port : 0) })
    })
  })

  /**
   * Boots the VM (unless it runs) and resolves once the guest's init runs, not when the node is
   * Ready. qemu's TCG now and then panics the kernel in its first seconds (an int3 oops in the
   * timer softirq, seen after a power-cut restart with two vCPUs: code the kernel patches at boot
   * seen half-patched by the other vCPU). That is the emulator, not the node: such a boot is
   * retried, at most BOOT_ATTEMPTS times, with the panic's line kept in the console log.
   */
  async start (): Promise<void> {
    this.running = true
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.boot()
      if (outcome === 'init') return
      const panic = /Kernel panic[^\n]*|Oops[^\n]*/.exec(this.latestBoot())?.[0] ?? 'qemu exited'
      if (attempt >= BOOT_ATTEMPTS) throw new Error(`the guest did not reach its init in ${attempt} boots (last: ${panic}):\n${this.consoleTail(30)}`)
      writeFileSync(this.consolePath, `==== boot ${attempt} ended before init (${panic}): booting again\n`, { flag: 'a' })
    }
  }

  /** One boot: 'init' once the guest's init marked itself, 'died' when qemu exited before that. */
  private async boot (): Promise<'init' | 'died'> {
    if (this.cluster.pidOf('node-vm') !== undefined) return 'init'
    await this.spawnVm()
    const deadline = Date.now() + INIT_TIMEOUT_MS
    while (Date.now() < deadline) {
      if (this.marks().booted !== undefined) return 'init'
      if (this.cluster.pidOf('node-vm') === undefined) return 'died'
      await sleep(500)
    }
    throw new Error(`the guest's init did not start within ${INIT_TIMEOUT_MS / 1000} s:\n${this.consoleTail(30)}`)
  }

  private latestBoot (): string {
    const text = existsSync(this.consolePath) ? readFileSync(this.consolePath, 'utf8') : ''
    return text.slice(text.lastIndexOf('==== boot'))
  }

  private async spawnVm (): Promise<void> {
    await this.startProxy()
    mkdirSync(this.dir, { recursive: true })
    const [disk, config] = [await this.overlay(), await this.configDisk()]
    const port = await this.freePort()
    const routes: Routes = { [`${GUEST_IP}:${KUBELET_PORT}`]: port, [`${this.name}:${KUBELET_PORT}`]: port }
    writeFileSync(this.routesPath, JSON.stringify(routes, null, 2) + '\n')
    const append = ['console=ttyS0', 'panic=-1', 'loglevel=3', 'gtp5g.init=/sbin/gtp5g-node-init', ...(this.options.verbose === true ? ['gtp5g.verbose=1'] : [])]
    writeFileSync(this.consolePath, `==== boot ${new Date().toISOString()}\n`, { flag: 'a' })
    this.cluster.spawnRecorded('node-vm', 'qemu-system-x86_64', [
      '-accel', 'tcg', '-cpu', 'max', '-smp', String(this.options.cpus ?? 2), '-m', String(this.options.memoryMb ?? 3072),
      '-nographic', '-no-reboot', '-monitor', 'none',
      '-kernel', this.disk.VMLINUZ, '-initrd', this.disk.INITRD, '-append', append.join(' '),
      '-drive', `file=${disk},format=qcow2,if=virtio`,
      '-drive', `file=${config},format=raw,if=virtio,readonly=on`,
      // hostfwd binds 127.0.0.1 only: the kubelet's port is reachable from this machine's loopback alone.
      '-nic', `user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:${port}-:${KUBELET_PORT}`
    ], { log: this.consolePath })
  }

  /**
   * Waits until the API server has this Node, registered by its kubelet, with Ready=True (a
   * named `kubectl wait` fails at once while the kubelet has not registered it yet). Ends at once,
   * with the console's tail, if the VM exits meanwhile.
   */
  async waitReady (timeoutMs: number): Promise<void> {
    const guard = (): string | undefined => this.gone()
    waitGuards.add(guard)
    try {
      await waitFor(`node ${this.name} Ready`, async () => {
        const node = JSON.parse(await this.cluster.kubectl(['get', 'node', this.name, '-o', 'json', '--ignore-not-found']) || '{}') as { status?: { conditions?: Array<{ type: string, status: string }> } }
        return node.status?.conditions?.some(c => c.type === 'Ready' && c.status === 'True') === true ? true : undefined
      }, { timeoutMs, intervalMs: 2000, describe: async () => this.consoleTail(20) })
    } finally {
      waitGuards.delete(guard)
    }
  }

  /** Stops the VM as a power cut would (qemu killed); the disk overlay stays. */
  async stop (): Promise<void> {
    this.running = false
    await this.cluster.stop('node-vm', 5_000)
  }

  /** Whether start() was asked for and not undone by stop(). */
  private running = false

  /** Why the VM is not running although it should (qemu exited: a guest panic, a crash), if so. */
  gone (): string | undefined {
    if (!this.running || this.cluster.pidOf('node-vm') !== undefined) return undefined
    return `the real node's VM exited; its console ends with:\n${this.consoleTail(25)}`
  }

  /** The "@@NODE" marks of the latest boot in the console log. */
  marks (): GuestMarks {
    const marks: GuestMarks = {}
    for (const m of this.latestBoot().matchAll(/@@NODE (\S+).*?uptime=([\d.]+)/g)) marks[m[1] as string] = Number(m[2])
    return marks
  }

  consoleTail (lines = 60): string {
    if (!existsSync(this.consolePath)) return '(no console log)'
    return readFileSync(this.consolePath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  }
}
