// Bundles the installer (installer/main.ts and everything it imports, pino and tar included) with
// esbuild into one directory that Node.js runs without node_modules: `node installer/bundle.mjs OUT`.
// The image ships OUT as /opt/gtp5g-installer (installer/Dockerfile); the node benchmark and the
// bundle tests run the same output. Plain JavaScript: it runs in the image's build stage, where
// no TypeScript runner is installed. It bundles only; type-checking is `npm run typecheck`'s job.
//
// OUT/main.mjs            the entry point (a `#!/usr/bin/env node` script)
// OUT/chunks/*.mjs        code split at main.ts's and flow.ts's dynamic imports: `check` loads only
//                         the configuration and the sysfs reader, a warm install or a restart
//                         loads the logger and the flow, and the build pipeline (tar, the HTTP
//                         client, kbuild) is read only when a build runs
// OUT/package.json        name and version only (service.ts records the version in cache entries)
// OUT/THIRD-PARTY-LICENSES the licenses of the npm packages bundled in
import { build } from 'esbuild'
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** Bundles the installer into `out` (emptied first); returns the npm packages bundled in. */
export async function bundleInstaller (out) {
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

  const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'))
  await writeFile(path.join(out, 'package.json'), JSON.stringify({ name: pkg.name, version: pkg.version, private: true, license: pkg.license }, null, 2) + '\n')

  // Each package whose code went into the bundle, found from the inputs' node_modules paths.
  const dirs = new Set()
  for (const input of Object.keys(result.metafile.inputs)) {
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
  const out = process.argv[2]
  if (out === undefined || process.argv.length > 3) {
    console.error('usage: node installer/bundle.mjs OUT_DIR')
    process.exit(2)
  }
  const packages = await bundleInstaller(path.resolve(out))
  console.log(`installer bundled into ${out} with ${packages.join(', ')}`)
}
