// The gtp5g fixture source of the installer tests (test/installer/fixtures), packed like a
// release archive, and which kernels it builds on. Used by the installer tests, the qemu VM
// (vm.ts) and the real-node suite (e2e/realnode.test.ts).
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as tar from 'tar'
import { compareKernel, parseKernelRelease } from '../../installer/kernel.js'

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../installer/fixtures')
export const FIXTURE_SRC = path.join(FIXTURES, 'gtp5g-fixture')

/** Linux 6.12 removed NETIF_F_LLTX, which fixtures/gtp5g-lltx uses: it builds only below 6.12. */
export function lacksNetifLltx (release: string): boolean {
  const k = parseKernelRelease(release)
  return k !== undefined && compareKernel(k, { major: 6, minor: 12, patch: 0 }) >= 0
}

/**
 * Packs the fixture like a GitHub release archive (`gtp5g-<ver>/...`), with version.h rewritten
 * for `version` ("v0.0.2" → DRV_VERSION "0.0.2") and optionally a compile error.
 */
export async function packFixture (outDir: string, version: string, opts: { broken?: boolean, src?: string, overlay?: string } = {}): Promise<string> {
  const bare = version.replace(/^v/, '')
  const stage = await mkdtemp(path.join(tmpdir(), 'gtp5g-pack-'))
  const top = `gtp5g-${bare}`
  await cp(opts.src ?? FIXTURE_SRC, path.join(stage, top), { recursive: true })
  // Files of another fixture directory on top (its README stays out of the source).
  if (opts.overlay !== undefined) {
    await cp(path.join(FIXTURES, opts.overlay), path.join(stage, top), { recursive: true, filter: f => !f.endsWith('README.md') })
  }
  const broken = opts.broken === true ? '\n#error "BROKEN fixture: this line is the injected compile error"\n' : ''
  await writeFile(path.join(stage, top, 'version.h'), `#define DRV_VERSION "${bare}"\n${broken}`)
  const file = path.join(outDir, `gtp5g-${version}${opts.broken === true ? '-broken' : ''}.tar.gz`)
  await tar.c({ gzip: true, file, cwd: stage, portable: true }, [top])
  await rm(stage, { recursive: true, force: true })
  return file
}
