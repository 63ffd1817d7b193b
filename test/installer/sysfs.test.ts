// readModuleState against a module that goes away while it is read. A real sysfs refuses the
// read of an attribute whose module was removed after the open with ENODEV; a plain directory
// cannot do that, so readFile is replaced for those files by one that fails as sysfs does.
import * as fs from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { hostPaths } from '../../installer/paths.js'
import { setLoaded, tempDir } from './helpers.js'

const failing = (code: string, match: (file: string) => boolean): typeof fs => ({
  ...fs,
  readFile: (async (file: Parameters<typeof fs.readFile>[0], options?: Parameters<typeof fs.readFile>[1]) => {
    if (typeof file === 'string' && match(file)) throw Object.assign(new Error(`${code}: ${file}`), { code })
    return await fs.readFile(file, options)
  }) as typeof fs.readFile
})

t.test('a module removed between the open and the read of its files reads as not loaded, not as an error', async t => {
  const root = await tempDir(t)
  await setLoaded(root, 'gtp5g', { version: '0.9.14', refcnt: 0 })
  const paths = hostPaths(root)
  const { readModuleState } = await t.mockImport<typeof import('../../installer/sysfs.js')>('../../installer/sysfs.js', {
    'node:fs/promises': failing('ENODEV', f => f.endsWith(path.join('gtp5g', 'initstate')))
  })
  t.same(await readModuleState(paths, 'gtp5g'), { loaded: false }, 'initstate refused with ENODEV: gone')
  const late = await t.mockImport<typeof import('../../installer/sysfs.js')>('../../installer/sysfs.js', {
    'node:fs/promises': failing('ENODEV', f => f.endsWith(path.join('gtp5g', 'version')))
  })
  t.match(await late.readModuleState(paths, 'gtp5g'), { loaded: true, version: undefined }, 'version refused after initstate was read: no version, no throw')
})

t.test('other read errors still fail loudly', async t => {
  const root = await tempDir(t)
  await setLoaded(root, 'gtp5g', { version: '0.9.14', refcnt: 0 })
  const { readModuleState } = await t.mockImport<typeof import('../../installer/sysfs.js')>('../../installer/sysfs.js', {
    'node:fs/promises': failing('EACCES', f => f.endsWith(path.join('gtp5g', 'initstate')))
  })
  await t.rejects(readModuleState(hostPaths(root), 'gtp5g'), { code: 'EACCES' })
})
