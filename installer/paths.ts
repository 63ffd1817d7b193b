// Host paths, resolved under GTP5G_HOST_ROOT. In a pod the root is "" and the hostPath volumes sit
// at their real paths; tests point the root at a temporary directory.
import path from 'node:path'
import { cacheDir, HOST_PATHS, MODULE_FILE } from '../contract/index.js'
import { type CacheEntry } from './cache.js'

export interface HostPaths {
  root: string
  sysModule: (name: string) => string
  modulesDir: (kernel: string) => string
  /** kbuild's KDIR: the headers tree `/lib/modules/<kernel>/build` points at. */
  kdir: (kernel: string) => string
  cacheRoot: string
  cacheEntry: (version: string, kernel: string) => CacheEntry
}

export function hostPaths (root: string): HostPaths {
  const under = (p: string): string => root === '' ? p : path.join(root, p)
  const cacheRoot = under(HOST_PATHS.cache)
  return {
    root,
    sysModule: name => under(`/sys/module/${name}`),
    modulesDir: kernel => under(`${HOST_PATHS.modules}/${kernel}`),
    kdir: kernel => under(`${HOST_PATHS.modules}/${kernel}/build`),
    cacheRoot,
    cacheEntry: (version, kernel) => {
      const dir = cacheDir(version, kernel, cacheRoot)
      return {
        dir,
        ko: `${dir}/${MODULE_FILE}`,
        sidecar: `${dir}/${MODULE_FILE}.sha256`,
        provenance: `${dir}/provenance.json`,
        buildLog: `${dir}/build.log`,
        lock: `${dir}/.lock`
      }
    }
  }
}
