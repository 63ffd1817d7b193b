// Section names of an ELF64 little-endian object (a kernel module on x86-64 or arm64): enough to
// tell whether kbuild attached BTF (.BTF) to gtp5g.ko. Reads the header and the section table
// only, not the whole file, and trusts no size or offset in them past the file's own size (a
// section claiming 4 GiB once aborted the process inside the read).
import { open } from 'node:fs/promises'

const ELF_MAGIC = 0x464c457f // "\x7fELF" read little-endian
const ELFCLASS64 = 2
const ELFDATA2LSB = 1
const SECTION_HEADER_MAX = 4096

export async function elfSectionNames (file: string): Promise<string[]> {
  const fh = await open(file, 'r')
  try {
    const { size } = await fh.stat()
    const read = async (offset: number, length: number): Promise<Buffer> => {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
        throw new Error(`${file}: truncated ELF (wanted ${length} bytes at ${offset} of a ${size}-byte file)`)
      }
      const buf = Buffer.alloc(length)
      const { bytesRead } = await fh.read(buf, 0, length, offset)
      if (bytesRead !== length) throw new Error(`${file}: truncated ELF (wanted ${length} bytes at ${offset})`)
      return buf
    }
    const header = await read(0, 64)
    if (header.readUInt32LE(0) !== ELF_MAGIC || header[4] !== ELFCLASS64 || header[5] !== ELFDATA2LSB) {
      throw new Error(`${file}: not a 64-bit little-endian ELF object`)
    }
    const shoff = Number(header.readBigUInt64LE(0x28))
    const shentsize = header.readUInt16LE(0x3a)
    const shnum = header.readUInt16LE(0x3c)
    const shstrndx = header.readUInt16LE(0x3e)
    if (shnum === 0 || shnum > SECTION_HEADER_MAX || shentsize < 64 || shstrndx >= shnum) {
      throw new Error(`${file}: implausible ELF section table (${shnum} entries of ${shentsize} bytes, names in ${shstrndx})`)
    }
    const table = await read(shoff, shnum * shentsize)
    const field = (i: number, at: number): number => Number(table.readBigUInt64LE(i * shentsize + at))
    const strings = await read(field(shstrndx, 0x18), field(shstrndx, 0x20))
    const names: string[] = []
    for (let i = 0; i < shnum; i++) {
      const start = table.readUInt32LE(i * shentsize)
      const end = strings.indexOf(0, start)
      names.push(strings.toString('latin1', start, end < 0 ? strings.length : end))
    }
    return names
  } finally {
    await fh.close()
  }
}
