// The release command (scripts/release.sh): one version in package.json, Chart.yaml and the
// default installer image, the chart packaged by `helm package` with the registry's image
// repositories, nothing pushed without --push. Chart only here: the two images are the
// Dockerfiles that test/hooks/image.test.ts and test/installer/image.test.ts build and check.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { CHART_DIR, helmOrSkip, KUBE_VERSION, runHelm } from './chart.js'

const SCRIPT = path.join(CHART_DIR, '../../scripts/release.sh')
const pkg = JSON.parse(readFileSync(path.join(CHART_DIR, '../../package.json'), 'utf8')) as { version: string }

const release = async (helm: string, args: string[]): Promise<{ code: number, stdout: string, stderr: string }> =>
  await new Promise(resolve => {
    execFile('bash', [SCRIPT, ...args], { env: { ...process.env, HELM: helm } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr })
    })
  })

const helm = helmOrSkip()
if (helm !== undefined) {
  t.test('one command packages the chart at the shared version, pointing at the registry\'s images; nothing pushed', async t => {
    const out = t.testdir()
    const res = await release(helm, ['--chart-only', '--registry', 'registry.example/team/', '--out', out])
    t.equal(res.code, 0, res.stderr)
    t.equal(res.stdout.trim(), pkg.version)
    const tgz = path.join(out, `gtp5g-operator-${pkg.version}.tgz`)
    const shown = await runHelm(helm, ['show', 'chart', tgz])
    t.match(shown.stdout, new RegExp(`^version: ${pkg.version}$`, 'm'))
    t.match(shown.stdout, new RegExp(`^appVersion: "?${pkg.version}"?$`, 'm'))
    const rendered = await runHelm(helm, ['template', 'gtp5g-operator', tgz, '-n', 'gtp5g-system', '--kube-version', KUBE_VERSION])
    t.equal(rendered.code, 0, rendered.stderr)
    const deployment = parseAllDocuments(rendered.stdout).map(d => d.toJS() as { kind?: string, spec?: any }).find(o => o?.kind === 'Deployment')
    const container = deployment?.spec.template.spec.containers[0] as { image: string, env: Array<{ name: string, value: string }> }
    t.equal(container.image, `registry.example/team/gtp5g-operator:${pkg.version}`)
    t.equal(container.env.find(e => e.name === 'INSTALLER_IMAGE')?.value, `registry.example/team/gtp5g-installer:${pkg.version}`)
    t.equal(readFileSync(path.join(out, 'push-commands.txt'), 'utf8'),
      `${helm} push ${tgz} oci://registry.example/team/charts\n`, 'the push is written down, not done')
  })

  t.test('a release at another version than the files say is refused, naming each file', async t => {
    const res = await release(helm, ['--chart-only', '--version', '9.9.9', '--out', t.testdir()])
    t.not(res.code, 0)
    for (const file of ['package.json version', 'Chart.yaml version', 'Chart.yaml appVersion', 'DEFAULT_INSTALLER_IMAGE tag']) t.match(res.stderr, file)
  })
}
