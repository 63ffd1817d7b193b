// Bad values fail `helm template` (and so `helm install`) with a message naming the key: the
// schema refuses typos and wrong types at every level, the templates refuse useless combinations.
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { helmOrSkip, runHelm, templateArgs } from './chart.js'

const helm = helmOrSkip()
if (helm !== undefined) {
  t.test('values.schema.json rejects a bad values file, naming the key', async t => {
    const dir = t.testdir()
    const rows: Array<[string, string, RegExp]> = [
      ['typo in a top-level key', 'hookserver:\n  replicas: 3\n', /at '': additional properties 'hookserver' not allowed/],
      ['typo in a nested key', 'hookServer:\n  replica: 3\n', /at '\/hookServer': additional properties 'replica' not allowed/],
      ['typo two levels down', 'installer:\n  image:\n    tags: "1.0"\n', /at '\/installer\/image': additional properties 'tags' not allowed/],
      ['typo inside a list item', 'hookServer:\n  tolerations:\n    - key: a\n      operater: Exists\n', /at '\/hookServer\/tolerations\/0': additional properties 'operater' not allowed/],
      ['a string for an integer', 'hookServer:\n  replicas: "2"\n', /at '\/hookServer\/replicas': got string, want integer/],
      ['a string for a boolean', 'networkPolicy:\n  enabled: "yes"\n', /at '\/networkPolicy\/enabled': got string, want boolean/],
      ['a map for a string', 'hooks:\n  url:\n    host: x\n', /at '\/hooks\/url': got object, want string/],
      ['an unknown log level', 'hookServer:\n  logLevel: loud\n', /at '\/hookServer\/logLevel': value must be one of/],
      ['a body limit below 1 KiB', 'hookServer:\n  bodyLimitBytes: 10\n', /at '\/hookServer\/bodyLimitBytes': minimum: got 10, want 1,?024/],
      ['a URL that is not http(s)', 'hooks:\n  url: ftp://127.0.0.1\n', /at '\/hooks\/url': 'ftp:\/\/127\.0\.0\.1' does not match pattern/],
      ['a namespace that is not a DNS label', 'installer:\n  namespace: Gtp5g_Installers\n', /at '\/installer\/namespace': 'Gtp5g_Installers' does not match pattern/],
      ['a resource quantity that is not one', 'hookServer:\n  resources:\n    limits:\n      memory: lots\n', /at '\/hookServer\/resources\/limits\/memory': 'lots' does not match pattern/],
      ['an image prefix that could match a longer name', 'installerPolicy:\n  allowedImagePrefixes: [ghcr.io/acme]\n', /at '\/installerPolicy\/allowedImagePrefixes\/0': 'ghcr\.io\/acme' does not match pattern/],
      ['a source prefix without its trailing slash', 'installerPolicy:\n  allowedSourcePrefixes: [https://mirror.example]\n', /at '\/installerPolicy\/allowedSourcePrefixes\/0': 'https:\/\/mirror\.example' does not match pattern/],
      ['a string for the aggregation switch', 'rbac:\n  aggregateToAdmin: "yes"\n', /at '\/rbac\/aggregateToAdmin': got string, want boolean/],
      ['a label value that is not a string', 'hookServer:\n  podLabels:\n    tier: 3\n', /at '\/hookServer\/podLabels\/tier': got number, want string/]
    ]
    for (const [name, yaml, message] of rows) {
      const file = path.join(dir, `${name.replaceAll(/\W+/g, '-')}.yaml`)
      writeFileSync(file, yaml)
      const res = await runHelm(helm, templateArgs({ valuesFiles: [file] }))
      t.not(res.code, 0, `${name}: refused`)
      t.match(res.stderr, /values don't meet the specifications of the schema/, `${name}: by the schema`)
      t.match(res.stderr, message, `${name}: the message names the key`)
    }
  })

  t.test('the templates refuse combinations that would render something useless', async t => {
    const rows: Array<[string, string[], RegExp]> = [
      ['a PDB no drain can satisfy', ['podDisruptionBudget.minAvailable=2'], /podDisruptionBudget\.minAvailable \(2\) must be below hookServer\.replicas \(2\)/],
      ['the installer namespace is the release namespace', ['installer.namespace=gtp5g-system'], /installer\.namespace \(gtp5g-system\) is the release namespace.*installer\.createNamespace=false/],
      // Issue 14 finding 9: Metacontroller would send nodes and pods in clear text and apply what comes back.
      ['plain http:// to a host that is neither loopback nor in-cluster', ['hooks.url=http://hooks.example.com:8080'], /hooks\.url \(http:\/\/hooks\.example\.com:8080\) must be https:\/\/ unless its host is loopback .* or an in-cluster Service/],
      ['plain http:// to a private address', ['hooks.url=http://10.0.0.7:8080'], /hooks\.url .* must be https:\/\//],
      ['plain http:// to a look-alike of loopback', ['hooks.url=http://127.0.0.1.evil.example/'], /hooks\.url .* must be https:\/\//],
      // Issue 14 finding 2: a bare GitHub repository prefix admits every fork's commit.
      ['a bare GitHub repository source prefix', ['installerPolicy.allowedSourcePrefixes={https://github.com/free5gc/gtp5g/}'], /installerPolicy\.allowedSourcePrefixes: "https:\/\/github\.com\/free5gc\/gtp5g\/" admits any commit .* allow only tags/],
      ['a codeload prefix that is not tags-only', ['installerPolicy.allowedSourcePrefixes={https://codeload.github.com/free5gc/gtp5g/}'], /allow only tags/],
      ['a ServiceMonitor for a hook server that hooks.url turns off', ['hooks.url=http://127.0.0.1:18080', 'serviceMonitor.enabled=true'], /serviceMonitor\.enabled .* hooks\.url/],
      ['an existing ServiceAccount without a name', ['serviceAccount.create=false'], /serviceAccount\.name is required when serviceAccount\.create is false/]
    ]
    for (const [name, set, message] of rows) {
      const res = await runHelm(helm, templateArgs({ set }))
      t.not(res.code, 0, `${name}: refused`)
      t.match(res.stderr, message, `${name}: says what to change`)
    }
    const fine = await runHelm(helm, templateArgs({ set: ['installer.namespace=gtp5g-system', 'installer.createNamespace=false', 'podDisruptionBudget.enabled=false', 'hookServer.replicas=1'] }))
    t.equal(fine.code, 0, `the same settings made consistent render: ${fine.stderr}`)
    for (const url of ['http://127.0.0.1:18080', 'http://localhost:8080/hooks', 'http://[::1]:8080', 'http://gtp5g-hooks.gtp5g-system.svc:8080', 'http://gtp5g-hooks.gtp5g-system.svc.cluster.local', 'https://hooks.example.com']) {
      const ok = await runHelm(helm, templateArgs({ set: [`hooks.url=${url}`] }))
      t.equal(ok.code, 0, `hooks.url=${url} renders (the default networkPolicy.enabled=true is simply not rendered): ${ok.stderr}`)
    }
  })
}
