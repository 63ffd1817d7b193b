// Host paths, resolved under GTP5G_HOST_ROOT. In a pod the root is "" and the hostPath volumes sit
// at their real paths; tests point the root at a temporary directory.
import { access } from 'node:fs/promises'
import path from 'node:path'
import { cacheDir, HOST_LIB, HOST_PATHS, MODULE_FILE } from '../contract/index.js'

/** The files of one cache entry, /var/lib/gtp5g/<version>/<kernel>/ (cache.ts reads and writes them). */
export interface CacheEntry { dir: string, ko: string, sidecar: string, provenance: string, buildLog: string, lock: string }

export interface HostPaths {
  root: string
  sysModule: (name: string) => string
  /** /sys/kernel/btf/<name>: the kernel's BTF (vmlinux) and each loaded module's that has any. */
  sysBtf: (name: string) => string
  /** The node's /usr/lib, mounted read-only in the pod (Debian's linux-kbuild-* live there). */
  hostLib: string
  /** The container's own /usr/lib, where the node's linux-kbuild-* get linked (headers.ts). */
  containerLib: string
  modulesDir: (kernel: string) => string
  /** kbuild's KDIR: the headers tree `/lib/modules/<kernel>/build` points at. */
  kdir: (kernel: string) => string
  cacheRoot: string
  cacheEntry: (version: string, kernel: string) => CacheEntry
}

/** Whether `p` resolves to something (a dangling link does not). */
export async function exists (p: string): Promise<boolean> {
  return access(p).then(() => true, () => false)
}

export function hostPaths (root: string): HostPaths {
  const under = (p: string): string => root === '' ? p : path.join(root, p)
  const cacheRoot = under(HOST_PATHS.cache)
  return {
    root,
    sysModule: name => under(`/sys/module/${name}`),
    sysBtf: name => under(`/sys/kernel/btf/${name}`),
    hostLib: under(HOST_LIB.mount),
    containerLib: under('/usr/lib'),
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
