import { existsSync } from 'node:fs'
import { chown, mkdir, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import * as tar from 'tar'
import { extractSource } from '../../installer/extract.js'
import { packFixture, tempDir } from './helpers.js'

t.test('a release archive unpacks to its single top-level folder', async t => {
  const dir = await tempDir(t)
  const src = await extractSource(await packFixture(dir, 'v0.9.12a'), path.join(dir, 'out'))
  t.equal(path.basename(src), 'gtp5g-0.9.12a')
})

t.test('a flat tarball is used as it is', async t => {
  const dir = await tempDir(t)
  await mkdir(path.join(dir, 'flat'))
  await writeFile(path.join(dir, 'flat/Makefile'), 'all:\n')
  await writeFile(path.join(dir, 'flat/gtp5g.c'), '')
  await tar.c({ gzip: true, file: path.join(dir, 'flat.tgz'), cwd: path.join(dir, 'flat') }, ['Makefile', 'gtp5g.c'])
  t.equal(await extractSource(path.join(dir, 'flat.tgz'), path.join(dir, 'out')), path.join(dir, 'out'))
})

t.test('unsafe or broken tarballs are SourceUnavailable', async t => {
  const dir = await tempDir(t)
  await mkdir(path.join(dir, 'a/b'), { recursive: true })
  await writeFile(path.join(dir, 'a/escape'), 'x')
  // An entry that climbs out of the extraction directory.
  await tar.c({ gzip: true, file: path.join(dir, 'evil.tgz'), cwd: path.join(dir, 'a/b'), preservePaths: true }, ['../escape'])
  await t.rejects(extractSource(path.join(dir, 'evil.tgz'), path.join(dir, 'out1')), { reason: 'SourceUnavailable', message: /\S/ }, 'path traversal refused')
  t.notOk(existsSync(path.join(dir, 'escape')), 'nothing written outside the extraction directory')
  await writeFile(path.join(dir, 'html.tgz'), '<html>404 Not Found</html>')
  await t.rejects(extractSource(path.join(dir, 'html.tgz'), path.join(dir, 'out2')), { reason: 'SourceUnavailable', message: /not a readable tarball|empty/ }, 'an error page is not a tarball')
})

t.test('archive owners are not restored: the pod has no CAP_CHOWN', async t => {
  const dir = await tempDir(t)
  await mkdir(path.join(dir, 'src'))
  await writeFile(path.join(dir, 'src/Makefile'), 'all:\n')
  if (process.getuid?.() !== 0) {
    t.plan(0, 'needs root to make an archive owned by another uid')
    return
  }
  // An archive made by uid 4242, as tarballs from other machines are.
  await chown(path.join(dir, 'src/Makefile'), 4242, 4242)
  await tar.c({ gzip: true, file: path.join(dir, 'foreign.tgz'), cwd: path.join(dir, 'src'), portable: false }, ['Makefile'])
  const out = await extractSource(path.join(dir, 'foreign.tgz'), path.join(dir, 'out'))
  t.equal((await stat(path.join(out, 'Makefile'))).uid, process.getuid?.() ?? 0)
})
