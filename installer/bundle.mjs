// Bundles the installer (installer/main.ts and everything it imports, pino and tar included) with
// esbuild into one directory that Node.js runs without node_modules:
//   node installer/bundle.mjs [--dir DIR] OUT
// DIR is where OUT will be installed (default: OUT itself), written into the launcher. The image
// ships OUT as /opt/gtp5g-installer (installer/Dockerfile); the node benchmark and the bundle
// tests run the same output. Plain JavaScript: it runs in the image's build stage, where no
// TypeScript runner is installed. It bundles only; type-checking is `npm run typecheck`'s job.
//
// OUT/gtp5g-installer     the launcher, the image's entrypoint (a shell script): `install` and
//                         `unload` start from the V8 start-up snapshot the installer built on
//                         this node, in the host cache, when there is one (see launcher() below);
//                         anything else, or a blob node refuses, runs main.mjs
// OUT/main.mjs            the entry point as an ES module (a `#!/usr/bin/env node` script)
// OUT/chunks/*.mjs        code split at main.ts's and flow.ts's dynamic imports: `check` loads only
//                         the configuration and the sysfs reader, a warm install or a restart
//                         loads the logger and the flow, and the build pipeline (tar, the HTTP
//                         client, kbuild) is read only when a build runs
// OUT/snapshot.cjs        installer/snapshot.ts and everything it imports in one CommonJS script,
//                         no splitting: the entry of the V8 start-up snapshot, which the installer
//                         builds on the node (`node --snapshot-blob BLOB --build-snapshot
//                         OUT/snapshot.cjs`, installer/snapshotcache.ts); never run by itself
// OUT/snapshot.key        which blob fits this bundle and node binary (snapshotKey() below)
// OUT/package.json        name and version only (service.ts records the version in cache entries)
// OUT/THIRD-PARTY-LICENSES the licenses of the npm packages bundled in
import { build } from 'esbuild'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** Where the launcher looks for the start-up snapshot, under GTP5G_HOST_ROOT: the host cache's snapshot/ (HOST_PATHS.cache). */
export const SNAPSHOT_CACHE = '/var/lib/gtp5g/snapshot'

/**
 * The snapshot's key, written to OUT/snapshot.key: what a blob must have been made from to be
 * worth trying, the node binary `node` and OUT/snapshot.cjs (a blob of another binary or script
 * is never tried). The image writes it again with the node binary it ships (installer/Dockerfile,
 * the same formula in sh: the sha256 of "<sha256 of node>\n<sha256 of snapshot.cjs>\n<version> <arch>\n",
 * its first 16 hex digits). Node.js checks the rest when it loads the blob (its V8 flags and the
 * CPU's features); the launcher falls back when it refuses one.
 */
export async function snapshotKey (node, cjs) {
  const sha = async f => createHash('sha256').update(await readFile(f)).digest('hex')
  const version = execFileSync(node, ['-p', 'process.version + " " + process.arch'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } })
  return createHash('sha256').update(`${await sha(node)}\n${await sha(cjs)}\n${version}`).digest('hex').slice(0, 16)
}

/**
 * The launcher of a bundle installed in `dir`, a POSIX sh script. The blob is never in the bundle:
 * only the node binary that runs it, on the machine it runs on, may build it (Node.js refuses a
 * snapshot made under other V8 flags or on a CPU with other features, exit code 14), so the
 * installer builds it on the node after it reported ready (snapshotcache.ts) into the host cache,
 * <GTP5G_HOST_ROOT>/var/lib/gtp5g/snapshot/installer-<key>.blob. `install` and `unload` start
 * from it when it is there and NODE_OPTIONS is unset (other V8 flags: Node.js would refuse it);
 * `check`, a one-shot probe, gains nothing from a snapshot. Started from a blob, node runs as a
 * child of the launcher, which passes SIGTERM and SIGINT on: if node refuses the blob (exit 14,
 * before any of the installer's code ran) or aborts on it (a damaged blob fails an assertion:
 * SIGABRT, 134; or 139, SIGSEGV), the launcher deletes it and starts main.mjs in the same start,
 * so a blob never makes the pod fail (an installer that crashes that way on its own then runs
 * once more, from main.mjs). GTP5G_INSTALLER_ENTRY and GTP5G_INSTALLER_ENTRY_REASON
 * tell the installer which entry started and why (its "start" line logs them), and
 * GTP5G_INSTALLER_DIR where the bundle is (to build the blob from).
 */
export function launcher (dir) {
  const q = `'${dir.replaceAll('\'', '\'\\\'\'')}'`
  return `#!/bin/sh
# Starts the gtp5g installer bundled in ${dir} (installer/bundle.mjs says how).
dir=${q}
GTP5G_INSTALLER_DIR=$dir
export GTP5G_INSTALLER_DIR
key=
if [ -r "$dir/snapshot.key" ]; then read -r key <"$dir/snapshot.key"; fi
blob="\${GTP5G_HOST_ROOT-}${SNAPSHOT_CACHE}/installer-$key.blob"
why=
if [ "\${1-}" = check ]; then why='check'
elif [ -n "\${NODE_OPTIONS-}" ]; then why='NODE_OPTIONS is set'
elif [ -z "$key" ]; then why='the bundle has no snapshot.key'
elif [ ! -r "$blob" ]; then why='no start-up snapshot built on this node yet'
else
  GTP5G_INSTALLER_ENTRY=snapshot
  export GTP5G_INSTALLER_ENTRY
  child=
  trap 'kill -TERM $child 2>/dev/null' TERM
  trap 'kill -INT $child 2>/dev/null' INT
  node --snapshot-blob "$blob" "$dir/main.mjs" "$@" &
  child=$!
  wait $child
  rc=$?
  # A signal passed on interrupts wait (status > 128): wait again until node itself has exited.
  while [ $rc -gt 128 ] && kill -0 $child 2>/dev/null; do wait $child; rc=$?; done
  # 14: node refused the blob (other V8 flags or CPU features); 134, 139: it aborted or crashed
  # on it (a damaged blob fails an assertion). Anything else is the installer's own exit.
  case $rc in 14|134|139) ;; *) exit $rc ;; esac
  trap - TERM INT
  rm -f "$blob"
  echo "gtp5g-installer: node exited $rc starting from the start-up snapshot $blob: deleted it; starting main.mjs" >&2
  why="node exited $rc starting from the start-up snapshot; deleted it"
fi
GTP5G_INSTALLER_ENTRY=plain
GTP5G_INSTALLER_ENTRY_REASON=$why
export GTP5G_INSTALLER_ENTRY GTP5G_INSTALLER_ENTRY_REASON
exec node "$dir/main.mjs" "$@"
`
}

/** Bundles the installer into `out` (emptied first) to be installed in `dir`; returns the npm packages bundled in. */
export async function bundleInstaller (out, dir = out, node = process.execPath) {
  await rm(out, { recursive: true, force: true })
  await mkdir(out, { recursive: true })
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ['installer/main.ts'],
    outdir: out,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    splitting: true,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    // pino, tar and their dependencies are CommonJS and require() Node's built-ins; an ES module
    // has no `require`, so every output file gets one (esbuild's __require calls it).
    banner: { js: 'import { createRequire as __gtp5gCreateRequire } from \'node:module\'; const require = __gtp5gCreateRequire(import.meta.url);' },
    // Readable code in stack traces and `kubectl logs`; the bytes saved by minifying are few.
    minify: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning'
  })
  await chmod(path.join(out, 'main.mjs'), 0o755)
  // The snapshot's entry: one script, as --build-snapshot runs only CommonJS and lets it require
  // Node's built-ins alone. Its dynamic imports become inlined modules evaluated on first use.
  // import.meta.url (where service.ts looks for package.json) is this script's own location,
  // fixed when the snapshot is built: the installer builds it from the bundle it runs.
  const snapshot = await build({
    absWorkingDir: ROOT,
    entryPoints: ['installer/snapshot.ts'],
    outfile: path.join(out, 'snapshot.cjs'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    define: { 'import.meta.url': '__gtp5gScriptUrl' },
    banner: { js: 'const __gtp5gScriptUrl = require(\'node:url\').pathToFileURL(__filename).href;' },
    minify: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning'
  })

  await writeFile(path.join(out, 'gtp5g-installer'), launcher(dir), { mode: 0o755 })
  await writeFile(path.join(out, 'snapshot.key'), `${await snapshotKey(node, path.join(out, 'snapshot.cjs'))}\n`)

  const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'))
  await writeFile(path.join(out, 'package.json'), JSON.stringify({ name: pkg.name, version: pkg.version, private: true, license: pkg.license }, null, 2) + '\n')

  // Each package whose code went into the bundle, found from the inputs' node_modules paths.
  const dirs = new Set()
  for (const input of [...Object.keys(result.metafile.inputs), ...Object.keys(snapshot.metafile.inputs)]) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)
    if (m !== null) dirs.add(m[1])
  }
  const packages = []
  for (const dir of [...dirs].sort()) {
    const meta = JSON.parse(await readFile(path.join(ROOT, dir, 'package.json'), 'utf8'))
    const files = (await readdir(path.join(ROOT, dir))).filter(f => /^(licen[cs]e|copying|notice)/i.test(f)).sort()
    if (files.length === 0) throw new Error(`${meta.name}@${meta.version} ships no license file: cannot bundle it`)
    const texts = await Promise.all(files.map(f => readFile(path.join(ROOT, dir, f), 'utf8')))
    packages.push({ name: meta.name, version: meta.version, license: meta.license, text: texts.join('\n') })
  }
  await writeFile(path.join(out, 'THIRD-PARTY-LICENSES'), packages.map(p =>
    `${p.name}@${p.version} (${p.license})\n\n${p.text.trim()}\n`).join(`\n${'-'.repeat(72)}\n\n`))
  return packages.map(p => `${p.name}@${p.version}`)
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const dir = args[0] === '--dir' ? args.splice(0, 2)[1] : undefined
  const out = args[0]
  if (out === undefined || args.length > 1 || (dir !== undefined && !path.isAbsolute(dir))) {
    console.error('usage: node installer/bundle.mjs [--dir ABSOLUTE_INSTALL_DIR] OUT_DIR')
    process.exit(2)
  }
  const packages = await bundleInstaller(path.resolve(out), dir ?? path.resolve(out))
  console.log(`installer bundled into ${out} with ${packages.join(', ')}`)
}
