// The real load, on each of Debian 12's kernel lines (6.1 and 6.12, from Debian's packages),
// booted in qemu with plain TCG emulation on a disk made from the image built from
// installer/Dockerfile, with the node's headers and linux-kbuild-* where a pod sees them. The
// same steps on both: install → check → SIGTERM → the same install without CAP_SYS_MODULE (a
// clean LoadFailed) → warm install → restart (no-op) → module removed and reloaded → ModuleInUse
// (a module holds gtp5g) → unload → a pin no tarball has (ChecksumMismatch, the cached build
// unused) → a planted module in the cache (rebuilt, not loaded) → an upgrade to a source using
// NETIF_F_LLTX (BuildFailed twice, as the kubelet's restart would, where the kernel removed it;
// built and loaded where it has it) → spec.btf turned on (rebuilt against the running kernel's
// BTF). Every step asserts /sys/module/gtp5g/version as the guest read it.
import { existsSync } from 'node:fs'
import t from 'tap'
import { parseTerminationMessage } from '../../contract/index.js'
import { lacksNetifLltx } from '../support/fixturesource.js'
import { vmEnv } from '../support/realenv.js'
import { prerequisiteMet } from '../support/prerequisite.js'
import { bootScenario } from '../support/vm.js'

const env = vmEnv()
// Two guest runs of 9 to 14 min each on a shared 2-core machine; each run is stopped when its
// console goes silent (bootScenario), so this only bounds a run that keeps moving.
t.setTimeout(60 * 60_000)
if (typeof env === 'string') {
  prerequisiteMet(env)
} else {
  for (const kernel of env.kernels) {
    t.test(`installer image on Debian's ${kernel.release}`, async t => {
      const run = await bootScenario(env, kernel)
      const step = (name: string): Record<string, string> => run.records.get(name) ?? {}
      t.comment(`guest run took ${run.bootMs} ms`)
      if (!run.records.has('end')) t.comment(run.console.slice(-6000))
      t.match(run.records.get('boot'), { kernel: kernel.release, vmlinux_btf: 'yes' }, 'booted the Debian kernel the headers are for, which offers its BTF')

      // The NETIF_F_LLTX source: BuildFailed where the kernel removed it, built where it has it.
      const lltxRefused = (name: string): void => {
        const s = step(name)
        t.match(s, { exit: '1', version: '0.0.1', builds: '1', entry1: 'yes' }, `${name}: exit 1; the running module and its cache entry are untouched`)
        t.match(parseTerminationMessage(s.term), { reason: 'BuildFailed', message: /^make exit 2: \S*link\.h:\d+:\d+: error: 'NETIF_F_LLTX' undeclared/ }, `${name}: the compiler's line leads the termination message`)
      }

      t.match(step('cold'), { check: '0', version: '0.0.1', outcome: 'built-and-loaded', builds: '1', udp_tunnel: 'live' }, 'cold install: downloaded, built in the guest, loaded')
      // Bit 16 is CAP_SYS_MODULE: the pod's securityContext (drop ALL, add SYS_MODULE) is enough.
      t.equal(step('cold').caps, '0000000000010000', 'the installer ran with CAP_SYS_MODULE and nothing else')
      t.match(step('sigterm'), { exit: '0', version: '0.0.1' }, 'SIGTERM exits 0 and leaves the module loaded')
      const nocap = step('nocap')
      t.match(nocap, { exit: '1', version: 'none', caps: '0000000000000000', stack: '0' }, 'without CAP_SYS_MODULE: exit 1, nothing loaded, no stack trace')
      t.match(parseTerminationMessage(nocap.term), { reason: 'LoadFailed', message: /Operation not permitted/ }, 'a reason code and the kernel\'s refusal')
      t.match(step('warm'), { check: '0', version: '0.0.1', outcome: 'loaded-from-cache', builds: '0' }, 'warm install: cache hit, no build')
      t.match(step('restart'), { check: '0', version: '0.0.1', outcome: 'already-loaded', builds: '0' }, 'restart with the module loaded: no work')
      t.match(step('removed'), { version: 'none' })
      t.match(step('reloaded'), { version: '0.0.1', reloads: '1' }, 'the watch loads a vanished module again')
      t.match(step('sigterm2'), { exit: '0', version: '0.0.1' })
      t.match(step('holder'), { refcnt: '1', holders: 'gtp5g_holder' })
      const upgrade = step('upgrade-in-use')
      t.match(upgrade, { exit: '1', version: '0.0.1' }, 'upgrade refused while in use; the running version stays')
      t.match(parseTerminationMessage(upgrade.term), { reason: 'ModuleInUse', message: /refcnt 1 by gtp5g_holder/ })
      const busy = step('unload-in-use')
      t.match(busy, { exit: '1', version: '0.0.1' }, 'unload refused while in use')
      t.match(parseTerminationMessage(busy.term), { reason: 'ModuleInUse' })
      t.match(step('unload'), { check: '0', version: 'none', outcome: 'unloaded' }, 'unloaded once released')
      const pinned = step('pinned-wrong')
      t.match(pinned, { exit: '1', version: 'none', lookup: 'stale', builds: '0' }, 'a pin no tarball has: the cached build is not used, nothing built or loaded')
      t.match(parseTerminationMessage(pinned.term), { reason: 'ChecksumMismatch', message: /expected 0{64}/ })
      t.match(step('foreign'), { check: '0', version: '0.0.1', outcome: 'built-and-loaded', lookup: 'foreign', builds: '1' }, 'a planted module with a matching sidecar is rebuilt, never loaded')
      if (lacksNetifLltx(kernel.release)) {
        lltxRefused('lltx')
        lltxRefused('lltx-restart')
      } else {
        // Without spec.btf, headers that ship no vmlinux (Debian's 6.1) give a module without BTF.
        const btf = existsSync(`/lib/modules/${kernel.release}/build/vmlinux`) ? 'yes' : 'no'
        t.match(step('lltx'), { exit: 'running', version: '0.0.3', outcome: 'built-and-loaded', builds: '1', btf }, 'the NETIF_F_LLTX source builds and loads on this kernel, in place of the idle old version')
        t.match(step('lltx-restart'), { exit: 'running', version: '0.0.3', outcome: 'already-loaded', builds: '0' }, 'and a restart finds it loaded')
      }
      t.match(step('btf'), { check: '0', version: '0.0.1', btf: 'yes', outcome: 'built-and-loaded', lookup: 'stale', builds: '1' }, 'spec.btf on: the entry built without it is rebuilt against the running kernel\'s BTF, /sys/kernel/btf/gtp5g published')
      t.ok(run.records.has('end'), 'the scenario ran to the end')
    })
  }
}
