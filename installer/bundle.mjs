// Bundles the installer (installer/main.ts and everything it imports, pino and tar included) with
// esbuild into one directory that Node.js runs without node_modules:
//   node installer/bundle.mjs [--dir DIR] OUT
// DIR is where OUT will be installed (default: OUT itself), written into the launcher. The image
// ships OUT as /opt/gtp5g-installer (installer/Dockerfile); the node benchmark and the bundle
// tests run the same output. Plain JavaScript: it runs in the image's build stage, where no
// TypeScript runner is installed. It bundles only; type-checking is `npm run typecheck`'s job.
//
// OUT/gtp5g-installer     the launcher, the image's entrypoint (a shell script): `install` and
//                         `unload` start from the V8 start-up snapshot DIR/installer.blob when it
//                         is there (see launcher() below), anything else runs main.mjs
// OUT/main.mjs            the entry point as an ES module (a `#!/usr/bin/env node` script)
// OUT/chunks/*.mjs        code split at main.ts's and flow.ts's dynamic imports: `check` loads only
//                         the configuration and the sysfs reader, a warm install or a restart
//                         loads the logger and the flow, and the build pipeline (tar, the HTTP
//                         client, kbuild) is read only when a build runs
// OUT/snapshot.cjs        installer/snapshot.ts and everything it imports in one CommonJS script,
//                         no splitting: the entry of the V8 start-up snapshot the image builds
//                         with its own node binary (`node --snapshot-blob BLOB --build-snapshot
//                         OUT/snapshot.cjs`, see installer/Dockerfile); never run by itself
// OUT/package.json        name and version only (service.ts records the version in cache entries)
// OUT/THIRD-PARTY-LICENSES the licenses of the npm packages bundled in
import { build } from 'esbuild'
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** The name of the start-up snapshot's blob in the bundle's directory. */
export const SNAPSHOT_BLOB = 'installer.blob'

/**
 * The launcher of a bundle installed in `dir`. The blob is not made here: only the node binary
 * that runs it may build it (`node --snapshot-blob DIR/installer.blob --build-snapshot
 * DIR/snapshot.cjs`), so the image builds it in its final stage. Without it, the launcher runs
 * main.mjs. So it does when NODE_OPTIONS is set, since Node.js refuses a snapshot built under other
 * V8 flags (--max-old-space-size among them), and for `check`: a one-shot probe gains nothing from
 * a snapshot and would pay for reading it.
 */
export function launcher (dir) {
  const q = `'${dir.replaceAll('\'', '\'\\\'\'')}'`
  return `#!/bin/sh
# Starts the gtp5g installer bundled in ${dir} (installer/bundle.mjs says how).
dir=${q}
if [ "\${1-}" != check ] && [ -z "\${NODE_OPTIONS-}" ] && [ -r "$dir/${SNAPSHOT_BLOB}" ]; then
  exec node --snapshot-blob "$dir/${SNAPSHOT_BLOB}" "$dir/main.mjs" "$@"
fi
exec node "$dir/main.mjs" "$@"
`
}

/** Bundles the installer into `out` (emptied first) to be installed in `dir`; returns the npm packages bundled in. */
export async function bundleInstaller (out, dir = out) {
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
  // fixed when the snapshot is built: the image builds it where it runs.
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
