// The hook server image built from ./Dockerfile (scripts/hook-image.sh, buildah, a local base):
// its config, what it ships, and the server running from its filesystem as its own user.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { CACHE_DIR as CACHE } from '../../e2e/cluster/tools.js'
import { prerequisiteMet } from '../support/prerequisite.js'
import { node, syncRequest } from '../support/hookfixtures.js'
import { listening, postSync } from '../support/serverprocess.js'

const ENV_FILE = path.join(CACHE, 'hook-image.env')
const dir = existsSync(ENV_FILE) ? /^HOOK_IMAGE_DIR=(.*)$/m.exec(readFileSync(ENV_FILE, 'utf8'))?.[1] : undefined
const rootfs = dir === undefined ? undefined : path.join(dir, 'rootfs')

if (rootfs === undefined || dir === undefined || !existsSync(path.join(dir, '.done'))) {
  prerequisiteMet(`no hook image export in ${CACHE}; run: bash scripts/hook-image.sh`)
} else if (process.getuid?.() !== 0) {
  prerequisiteMet('running the image filesystem needs root (chroot)')
} else {
  const inspect = JSON.parse(readFileSync(path.join(dir, 'inspect.json'), 'utf8')) as { OCIv1: { config: { User?: string, Cmd?: string[], Entrypoint?: string[], WorkingDir?: string, Labels?: Record<string, string>, ExposedPorts?: Record<string, unknown> } } }
  const config = inspect.OCIv1.config

  t.test('image config: non-root, node as the command (signals reach it), OCI labels', async t => {
    t.equal(config.User, '65532:65532')
    t.same(config.Cmd, ['node', 'dist/hooks/server/main.js'])
    t.notOk(config.Entrypoint?.length, 'no npm or shell in front of node')
    t.equal(config.WorkingDir, '/app')
    t.ok(config.ExposedPorts?.['8080/tcp'])
    for (const label of ['title', 'description', 'source', 'licenses', 'version', 'base.name']) {
      t.ok(config.Labels?.[`org.opencontainers.image.${label}`], `label org.opencontainers.image.${label}`)
    }
  })

  t.test('ships the built server and production dependencies only', async t => {
    const app = path.join(rootfs, 'app')
    t.ok(existsSync(path.join(app, 'dist/hooks/server/main.js')))
    t.ok(existsSync(path.join(app, 'node_modules/fastify/package.json')))
    for (const dev of ['tap', 'typescript', 'eslint', 'fast-check', 'yaml']) t.notOk(existsSync(path.join(app, 'node_modules', dev)), `no ${dev}`)
    t.notOk(existsSync(path.join(app, 'hooks')), 'no TypeScript sources')
    t.notOk(existsSync(path.join(app, 'dist/installer')), 'no installer code')
  })

  t.test('the server runs from the image filesystem as uid 65532 and stops on SIGTERM', async t => {
    // env -i: the image's environment only (tap would otherwise inject its loaders via NODE_OPTIONS).
    const child = spawn('/usr/sbin/chroot', ['--userspec=65532:65532', rootfs, '/usr/bin/env', '-i', '-C', '/app',
      'PATH=/usr/local/bin:/usr/bin:/bin', 'NODE_ENV=production', 'PORT=0', 'HOST=127.0.0.1', 'LOG_LEVEL=info',
      'node', 'dist/hooks/server/main.js'], { stdio: ['ignore', 'pipe', 'pipe'] })
    t.teardown(() => { child.kill('SIGKILL') })
    const server = await listening(child)
    t.equal((await fetch(`${server.url}/healthz`)).status, 200)
    t.same(await postSync(server.url, syncRequest({ nodes: [node('node-a')] })), { status: 200, children: 1 })
    t.equal(await server.stop(), 0, 'graceful stop')
  })

  t.test('the scheduling agent runs from the same image: its entrypoint and readiness probe', async t => {
    t.ok(existsSync(path.join(rootfs, 'app/dist/agent/main.js')))
    const probe = async (stateDir: string): Promise<number | null> => await new Promise(resolve => {
      const child = spawn('/usr/sbin/chroot', ['--userspec=65532:65532', rootfs, '/usr/bin/env', '-i',
        'PATH=/usr/local/bin:/usr/bin:/bin', `GTHULHU_AGENT_STATE_DIR=${stateDir}`, '/usr/local/bin/scheduling-agent', 'check'], { stdio: 'ignore' })
      child.on('exit', code => { resolve(code) })
    })
    t.equal(await probe('/nonexistent'), 1, '`scheduling-agent check` without a report: not ready')
  })
}
