// The BTF a running Debian kernel would expose at /sys/kernel/btf/vmlinux, for kbuild tests on a
// host that runs another kernel. Debian's 6.12 headers ship the kernel's vmlinux; 6.1's do not,
// so there it comes from the kernel image itself: a bzImage carries vmlinux compressed (xz on
// 6.1, zstd on 6.12), found by its stream magic and decompressed with the distribution's tools.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { run } from '../../installer/exec.js'

const STREAMS = [
  { magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), command: 'xz', args: ['-dc', '--single-stream'] },
  { magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), command: 'zstd', args: ['-dc'] }
]
const ELF = Buffer.from([0x7f, 0x45, 0x4c, 0x46])

/** Where the vmlinux of kernel `release` can be had: its headers' copy, or its /boot image. */
export function vmlinuxSource (release: string): { shipped: string } | { image: string } | undefined {
  const shipped = `/lib/modules/${release}/build/vmlinux`
  if (existsSync(shipped)) return { shipped }
  const image = `/boot/vmlinuz-${release}`
  return existsSync(image) ? { image } : undefined
}

/** Decompresses the vmlinux inside a bzImage: the first stream, of any known kind, that yields an ELF file. */
async function unpackImage (image: Buffer): Promise<Buffer> {
  for (const stream of STREAMS) {
    for (let at = image.indexOf(stream.magic); at >= 0; at = image.indexOf(stream.magic, at + 1)) {
      const out = await decompress(stream.command, stream.args, image.subarray(at))
      if (out.subarray(0, 4).equals(ELF)) return out
    }
  }
  throw new Error('no compressed ELF payload found in the kernel image')
}

async function decompress (command: string, args: string[], input: Buffer): Promise<Buffer> {
  return await new Promise(resolve => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] })
    const chunks: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => chunks.push(c))
    // Trailing bytes after the stream make the tools complain; what they wrote before is the payload.
    child.on('close', () => { resolve(Buffer.concat(chunks)) })
    child.on('error', () => { resolve(Buffer.alloc(0)) })
    child.stdin.on('error', () => {})
    child.stdin.end(input)
  })
}

/** Writes kernel `release`'s BTF to `dest` (raw, as /sys/kernel/btf/vmlinux holds it). */
export async function writeKernelBtf (release: string, dest: string, scratch: string): Promise<void> {
  const source = vmlinuxSource(release)
  if (source === undefined) throw new Error(`neither /lib/modules/${release}/build/vmlinux nor /boot/vmlinuz-${release}`)
  let vmlinux: string
  if ('shipped' in source) vmlinux = source.shipped
  else {
    vmlinux = path.join(scratch, `vmlinux-${release}`)
    await writeFile(vmlinux, await unpackImage(await readFile(source.image)))
  }
  await run('objcopy', ['-O', 'binary', '--only-section=.BTF', vmlinux, dest])
}
