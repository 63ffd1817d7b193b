// Unpacks the source tarball with the `tar` package: pure JS (no host tar needed), and it
// refuses absolute paths and `..` entries by default, which matters for a URL the user chose.
import { mkdir, readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import * as tar from 'tar'
import { InstallerError } from './errors.js'

/**
 * Returns the source directory: release archives (GitHub's included) wrap everything in one
 * top-level folder such as `gtp5g-0.9.12/`; a flat tarball is used as it is.
 */
export async function extractSource (tarball: string, destDir: string): Promise<string> {
  await mkdir(destDir, { recursive: true })
  const warnings: string[] = []
  try {
    // preserveOwner defaults to true for root, and chown needs CAP_CHOWN, which the installer
    // pod drops (it keeps CAP_SYS_MODULE only): files belong to whoever extracts them.
    await tar.x({ file: tarball, cwd: destDir, strict: true, preserveOwner: false, onwarn: (_code, message) => { warnings.push(String(message)) } })
  } catch (err) {
    throw new InstallerError('SourceUnavailable', `source is not a readable tarball: ${(err as Error).message}`, { cause: err })
  }
  const entries = await readdir(destDir)
  if (entries.length === 0) throw new InstallerError('SourceUnavailable', `source tarball is empty${warnings.length > 0 ? ': ' + warnings.join('; ') : ''}`)
  const only = entries.length === 1 ? path.join(destDir, entries[0] as string) : undefined
  if (only !== undefined && (await stat(only)).isDirectory()) return only
  return destDir
}
