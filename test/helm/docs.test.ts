// The READMEs and NOTES.txt speak to users: one copy of the sample module (in the chart, which
// its NOTES print), no words about the machine the project was built on, and an architecture
// diagram that says who installs what.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { parse } from 'yaml'
import { DEFAULT_SOURCE_URL } from '../../contract/index.js'
import { parseSpec } from '../../hooks/core/spec.js'

const read = (p: string): string => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8')
const sample = read('helm/gtp5g-operator/examples/sample.yaml')
const docs = ['README.md', 'helm/gtp5g-operator/README.md', 'helm/gtp5g-operator/templates/NOTES.txt']

t.test('one copy of the sample: no document repeats it, NOTES include the file', async t => {
  // The sample's body, ending where a heredoc or a code block would close a copy of it.
  const copy = /kind: GTP5GModule\n\s*metadata:\n\s*name: sample\n\s*spec:\n\s*version: v0\.9\.14\n\s*(```|YAML)/
  for (const doc of docs) t.notMatch(read(doc), copy, `${doc} holds no copy of the sample`)
  t.match(read('helm/gtp5g-operator/templates/NOTES.txt'), '{{ .Files.Get "examples/sample.yaml" | indent 5 }}')
  t.match(sample, /^apiVersion: operator\.gthulhu\.io\/v1alpha1\nkind: GTP5GModule\nmetadata:\n {2}name: sample\nspec:\n {2}version: v0\.9\.14\n$/m)
})

t.test('the README describes the product, not the build machine', async t => {
  const readme = read('README.md')
  t.notMatch(readme, /reachable here|this machine|on this host/i)
  t.notMatch(readme, /installed by our chart\)/, 'our chart does not install Metacontroller')
  t.match(readme, /Metacontroller \(installed by Metacontroller's own chart: its controller and its CRDs\)\n\s+runs the CompositeController and DecoratorController objects our chart installs/)
})

t.test('the pinned example: a valid spec whose hash is set, for the URL its comment tells you to check', async t => {
  const text = read('helm/gtp5g-operator/examples/pinned.yaml')
  const module = parse(text) as { kind: string, spec: { version: string, source: { url: string, sha256: string } } }
  t.equal(module.kind, 'GTP5GModule')
  const parsed = parseSpec(module.spec)
  t.ok(parsed.ok, 'the hook accepts its spec')
  const { version, source } = module.spec
  t.equal(source.url, DEFAULT_SOURCE_URL.replace('{version}', version), 'the default URL, written out')
  t.match(source.sha256, /^[0-9a-f]{64}$/)
  t.ok(text.includes(`curl -fsSL ${source.url} | sha256sum`), 'the comment checks the very URL the spec downloads')
  t.ok(text.includes(`tag ${version} `), 'and names the same tag')
  t.match(read('helm/gtp5g-operator/README.md'), '[`examples/pinned.yaml`](examples/pinned.yaml)')
})
