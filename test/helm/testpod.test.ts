// The `helm test` pod's script, run here against a real hook server configured exactly as the
// chart configures the Deployment (its env through the server's own config loader): it passes,
// and it fails, saying why, when the server is configured differently from the release.
import { execFile } from 'node:child_process'
import t from 'tap'
import { buildApp } from '../../hooks/server/app.js'
import { loadConfig } from '../../hooks/server/config.js'
import { ciPath, helmOrSkip, type Manifest, one, render } from './chart.js'

interface Container { image: string, command: string[], env: Array<{ name: string, value: string }> }
interface WithContainers extends Manifest { spec: { containers: Container[], template?: never } }
interface Deployment extends Manifest { spec: { template: { spec: { containers: Container[] } } } }

const envOf = (c: Container): Record<string, string> => Object.fromEntries(c.env.map(e => [e.name, e.value]))

/** Runs the test container's command with this machine's node, against `url` instead of the Service. */
async function runTestPod (pod: Container, url: string): Promise<{ code: number, stdout: string }> {
  const [node, ...args] = pod.command
  if (node !== 'node') throw new Error(`the test pod runs ${String(node)}, not node`)
  // Only the pod's env: tap's loaders in NODE_OPTIONS must not reach the script.
  const env = { ...envOf(pod), HOOK_URL: url, PATH: process.env.PATH ?? '' }
  return await new Promise(resolve => {
    execFile(process.execPath, args, { env, timeout: 60_000 }, (error, stdout) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout })
    })
  })
}

async function serverWith (env: Record<string, string>): Promise<{ url: string, close: () => Promise<void> }> {
  const config = loadConfig(env)
  const { app } = buildApp({ hooks: config.hooks, bodyLimit: config.bodyLimit, logLevel: 'silent' })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { url, close: async () => { await app.close() } }
}

const helm = helmOrSkip()
if (helm !== undefined) {
  for (const [name, options] of [['default values', {}], ['all-optional values', { valuesFiles: [ciPath('all-optional-values.yaml')] }]] as const) {
    t.test(`${name}: the test pod passes against the hook server the chart configures`, async t => {
      const objects = await render(helm, options)
      const test = one<WithContainers>(objects, 'Pod')
      const pod = test.spec.containers[0] as Container
      const hookServer = one<Deployment>(objects, 'Deployment').spec.template.spec.containers[0] as Container
      t.equal(pod.image, hookServer.image, 'the hook server image runs the test')
      t.match(envOf(pod).HOOK_URL, new RegExp(`^http://${one(objects, 'Service').metadata.name}\\.${test.metadata.namespace}\\.svc:8080$`), 'the test calls the release\'s Service')
      const server = await serverWith(envOf(hookServer))
      t.teardown(server.close)
      const res = await runTestPod(pod, server.url)
      t.equal(res.code, 0, 'the script exits 0')
      if (res.code !== 0) t.comment(res.stdout)
      t.match(res.stdout, /ok - GET .*\/readyz answers 200/, 'checked /readyz')
      t.match(res.stdout, /ok - one DaemonSet child/, 'checked /sync')
      if (name === 'all-optional values') t.match(res.stdout, /ok - an image outside installerPolicy\.allowedImagePrefixes is refused/, 'checked the installer policy')
      t.notMatch(res.stdout, /not ok/, 'no check failed')
    })
  }

  t.test('the test pod fails, saying why, when the hook server is not configured as the release says', async t => {
    const objects = await render(helm)
    const pod = one<WithContainers>(objects, 'Pod').spec.containers[0] as Container
    const hookServer = envOf(one<Deployment>(objects, 'Deployment').spec.template.spec.containers[0] as Container)
    for (const [what, env, message] of [
      ['another installer namespace', { ...hookServer, TARGET_NAMESPACE: 'elsewhere' }, /not ok - the DaemonSet is in gtp5g-installers \(got elsewhere\)/],
      ['another installer image', { ...hookServer, INSTALLER_IMAGE: 'example.com/other:1' }, /not ok - the installer image is .* \(got example\.com\/other:1\)/],
      ['a policy that refuses the test module', { ...hookServer, ALLOWED_SOURCE_PREFIXES: 'https://elsewhere.example/' }, /not ok - one DaemonSet child \(got none\)/]
    ] as const) {
      const server = await serverWith(env)
      const res = await runTestPod(pod, server.url)
      await server.close()
      t.not(res.code, 0, `${what}: the test fails`)
      t.match(res.stdout, message, `${what}: and says why`)
    }
  })
}
