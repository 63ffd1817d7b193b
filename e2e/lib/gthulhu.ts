// The real Gthulhu Manager (Gthulhu commit c969a96, `api/`, Go module github.com/Gthulhu/api) as
// a local process for the scheduling suite, with its database and its Kubernetes API:
//   - FerretDB v1.24.2 on its SQLite handler stands in for MongoDB (built by
//     e2e/cluster/build-gthulhu-deps.sh); SCRAM only with --test-enable-new-auth and --setup-*;
//   - the Manager's migrations are applied first by the golang-migrate CLI v4.19.1 with every
//     `validator` removed (001 and 008 create collections with one; FerretDB implements none),
//     so the Manager finds them done and skips them;
//   - the Manager watches pods of, and keeps its strategies and intents as custom resources in,
//     the local cluster's real kube-apiserver (its CRDs and namespace applied here first).
// The Manager is provided, not built: GTHULHU_MANAGER_DIR (see the README). No tap import here.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { sign } from 'node:crypto'
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { CACHE_DIR } from '../cluster/tools.js'
import { freePort, runTool, sleep } from '../cluster/loopback.js'

export const GTHULHU_COMMIT = 'c969a96'
export const FERRETDB_VERSION = 'v1.24.2'
export const MIGRATE_VERSION = 'v4.19.1'

/** Holds `gthulhu-api` (the binary, `manager` subcommand), `crds/` and `migrations/` of Gthulhu's api/. */
export const GTHULHU_MANAGER_DIR = process.env.GTHULHU_MANAGER_DIR ?? path.join(CACHE_DIR, `gthulhu-manager-${GTHULHU_COMMIT}`)
/** Links to ferretdb and migrate, made by e2e/cluster/build-gthulhu-deps.sh. */
export const GTHULHU_DEPS_BIN = process.env.GTHULHU_DEPS_BIN ?? path.join(CACHE_DIR, 'gthulhu-deps-bin')

/** The Manager's namespace for its custom resources (its default crd_namespace). */
export const GTHULHU_NAMESPACE = 'gthulhu-system'

/** Why the Manager cannot run here (with how to provide what is missing), or undefined. */
export function gthulhuMissing (): string | undefined {
  const dir = GTHULHU_MANAGER_DIR
  const files = (sub: string, ext: string): number => existsSync(path.join(dir, sub)) ? readdirSync(path.join(dir, sub)).filter(f => f.endsWith(ext)).length : 0
  const absent: string[] = []
  if (!existsSync(path.join(dir, 'gthulhu-api'))) absent.push('gthulhu-api (the binary)')
  if (files('crds', '.yaml') === 0) absent.push('crds/*.yaml')
  if (files('migrations', '.up.json') === 0) absent.push('migrations/*.json')
  if (absent.length > 0) {
    return `the Gthulhu Manager is missing from ${dir} (${absent.join(', ')}): no package registry ships it. ` +
      `From a checkout of github.com/Gthulhu/Gthulhu at commit ${GTHULHU_COMMIT}, in api/: \`go build -trimpath -o ${path.join(dir, 'gthulhu-api')} .\`, ` +
      `then copy deployment/crds/*.yaml to ${path.join(dir, 'crds')}/ and manager/migration/*.json to ${path.join(dir, 'migrations')}/ ` +
      '(or point GTHULHU_MANAGER_DIR at such a directory)'
  }
  for (const tool of ['ferretdb', 'migrate']) {
    if (!existsSync(path.join(GTHULHU_DEPS_BIN, tool))) return `${tool} not built in ${GTHULHU_DEPS_BIN}: run \`bash e2e/cluster/build-gthulhu-deps.sh\` (FerretDB ${FERRETDB_VERSION}, golang-migrate ${MIGRATE_VERSION}, from the Go module proxy)`
  }
  return undefined
}

/** A migration file of the Manager without its `validator`s (FerretDB implements none). */
export function withoutValidators (json: string): string {
  const commands = JSON.parse(json) as unknown
  const strip = (c: unknown): unknown => {
    if (typeof c !== 'object' || c === null || Array.isArray(c)) return c
    const { validator, validationLevel, validationAction, ...rest } = c as Record<string, unknown>
    return rest
  }
  return JSON.stringify(Array.isArray(commands) ? commands.map(strip) : strip(commands), null, 2) + '\n'
}

export interface Envelope<T> { success: boolean, data?: T, error?: string }

export interface ManagerOptions {
  kubeconfig: string
  kubectl: (args: readonly string[], input?: string) => Promise<string>
  /** The admin account the Manager creates at start (its [account] settings). */
  adminUser?: string
  adminPassword?: string
}

export class GthulhuManager {
  readonly dir: string
  readonly adminUser: string
  readonly adminPassword: string
  private readonly dbUser = 'gthulhu'
  private readonly dbPassword = 'ferret-local-only'
  private ferret: ChildProcess | undefined
  private manager: ChildProcess | undefined
  private ports: { mongo: number, ferretDebug: number, manager: number } | undefined

  constructor (dir: string, private readonly options: ManagerOptions) {
    this.dir = dir
    this.adminUser = options.adminUser ?? 'admin@example.com'
    this.adminPassword = options.adminPassword ?? 'manager-local-only'
  }

  get url (): string { return `http://127.0.0.1:${this.ports?.manager ?? 0}` }

  private spawnLogged (name: string, bin: string, args: string[], cwd: string, env: Record<string, string> = {}): ChildProcess {
    mkdirSync(path.join(this.dir, 'logs'), { recursive: true })
    const out = openSync(path.join(this.dir, 'logs', `${name}.log`), 'a')
    const child = spawn(bin, args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: this.dir, ...env }, stdio: ['ignore', out, out] })
    closeSync(out)
    return child
  }

  logTail (name: 'ferretdb' | 'manager' | 'migrate', lines = 30): string {
    try {
      return readFileSync(path.join(this.dir, 'logs', `${name}.log`), 'utf8').split('\n').slice(-lines).join('\n')
    } catch {
      return ''
    }
  }

  /** FerretDB, the migrations, the Manager's CRDs and namespace, then the Manager. */
  async start (): Promise<void> {
    this.ports = { mongo: await freePort(), ferretDebug: await freePort(), manager: await freePort() }
    mkdirSync(path.join(this.dir, 'ferretdb/data'), { recursive: true })
    this.ferret = this.spawnLogged('ferretdb', path.join(GTHULHU_DEPS_BIN, 'ferretdb'), [
      '--handler=sqlite', `--sqlite-url=file:${path.join(this.dir, 'ferretdb/data')}/`, `--state-dir=${path.join(this.dir, 'ferretdb')}`,
      `--listen-addr=127.0.0.1:${this.ports.mongo}`, `--debug-addr=127.0.0.1:${this.ports.ferretDebug}`,
      // No network beyond loopback: telemetry off.
      '--telemetry=disable', '--log-level=warn',
      // SCRAM (what the Manager's driver speaks) needs the new auth and a user made at setup.
      '--test-enable-new-auth', `--setup-username=${this.dbUser}`, `--setup-password=${this.dbPassword}`, '--setup-database=admin'
    ], this.dir)
    await this.migrate()

    // The Manager's custom resources live in the cluster: CRDs and namespace first.
    const crdDir = path.join(GTHULHU_MANAGER_DIR, 'crds')
    for (const f of readdirSync(crdDir).filter(f => f.endsWith('.yaml')).sort()) await this.options.kubectl(['apply', '-f', path.join(crdDir, f)])
    await this.options.kubectl(['create', 'namespace', GTHULHU_NAMESPACE]).catch((e: Error) => { if (!/AlreadyExists/.test(e.message)) throw e })
    for (const f of readdirSync(crdDir).filter(f => f.endsWith('.yaml'))) {
      const name = /^\s*name:\s*(\S+)/m.exec(readFileSync(path.join(crdDir, f), 'utf8'))?.[1]
      if (name !== undefined) await this.options.kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${name}`])
    }
    this.writeConfig()
    await this.startManager()
    // The test's one login, before any agent shares the admin user (see observerToken).
    await this.observerToken()
  }

  private async migrate (): Promise<void> {
    const stripped = path.join(this.dir, 'migrations')
    mkdirSync(stripped, { recursive: true })
    for (const f of readdirSync(path.join(GTHULHU_MANAGER_DIR, 'migrations')).filter(f => f.endsWith('.json'))) {
      writeFileSync(path.join(stripped, f), withoutValidators(readFileSync(path.join(GTHULHU_MANAGER_DIR, 'migrations', f), 'utf8')))
    }
    const url = `mongodb://${this.dbUser}:${this.dbPassword}@127.0.0.1:${this.ports?.mongo ?? 0}/manager?authSource=admin&directConnection=true`
    const deadline = Date.now() + 60_000
    for (;;) {
      try {
        const out = await runTool(path.join(GTHULHU_DEPS_BIN, 'migrate'), ['-path', stripped, '-database', url, 'up'])
        writeFileSync(path.join(this.dir, 'logs', 'migrate.log'), out)
        return
      } catch (error) {
        // FerretDB may still be starting.
        if (Date.now() > deadline) throw new Error(`migrations: ${(error as Error).message}\n${this.logTail('ferretdb')}`)
        await sleep(500)
      }
    }
  }

  private writeConfig (): void {
    const ports = this.ports as NonNullable<typeof this.ports>
    const keys = path.join(this.dir, 'keys')
    mkdirSync(keys, { recursive: true })
    const key = path.join(keys, 'jwt.key')
    if (!existsSync(key)) {
      // A key made here for this run: the Manager signs its RS256 tokens with it.
      execFileSyncQuiet('openssl', ['genrsa', '-traditional', '-out', key, '2048'])
      execFileSyncQuiet('openssl', ['rsa', '-in', key, '-pubout', '-out', path.join(keys, 'jwt.pub')])
    }
    const pem = readFileSync(key, 'utf8').trim()
    const pub = readFileSync(path.join(keys, 'jwt.pub'), 'utf8').trim()
    const config = [
      '[server]', `host = "127.0.0.1:${ports.manager}"`, '',
      '[logging]', 'level = "debug"', 'console = true', '',
      '[mongodb]', 'host = "127.0.0.1"', `port = "${ports.mongo}"`, `user = "${this.dbUser}"`, `password = "${this.dbPassword}"`,
      'database = "manager"', 'options = "authSource=admin&directConnection=true&ssl=false"', 'ca_pem_enable = false', '',
      '[key]', `rsa_private_key_pem = """\n${pem}\n"""`, `dm_public_key_pem = """\n${pub}\n"""`, 'client_id = "manager-client"', '',
      '[account]', `admin_email = "${this.adminUser}"`, `admin_password = "${this.adminPassword}"`, '',
      '[k8s]', `kube_config_path = "${this.options.kubeconfig}"`, 'in_cluster = false', `crd_namespace = "${GTHULHU_NAMESPACE}"`, '',
      '[mtls]', 'enable = false', ''
    ].join('\n')
    mkdirSync(path.join(this.dir, 'config'), { recursive: true })
    writeFileSync(path.join(this.dir, 'config', 'manager_config.toml'), config)
    // Built with -trimpath, the Manager looks for its migrations at the source path
    // github.com/Gthulhu/api/manager/migration relative to its working directory (it only
    // lists them: they are applied already). Give it the stripped copies there.
    const rel = path.join(this.dir, 'work', 'github.com/Gthulhu/api/manager')
    mkdirSync(rel, { recursive: true })
    if (!existsSync(path.join(rel, 'migration'))) symlinkSync(path.join(this.dir, 'migrations'), path.join(rel, 'migration'))
  }

  private async startManager (): Promise<void> {
    this.manager = this.spawnLogged('manager', path.join(GTHULHU_MANAGER_DIR, 'gthulhu-api'), ['manager'], path.join(this.dir, 'work'), {
      MANAGER_CONFIG_DIR_PATH: path.join(this.dir, 'config'),
      MANAGER_CONFIG_NAME: 'manager_config',
      KUBECONFIG: this.options.kubeconfig
    })
    const deadline = Date.now() + 90_000
    while (Date.now() < deadline) {
      if (this.manager.exitCode !== null) throw new Error(`the Gthulhu Manager exited with ${this.manager.exitCode}:\n${this.logTail('manager')}`)
      try {
        const res = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2000) })
        if (res.ok) return
      } catch {
        // not listening yet
      }
      await sleep(300)
    }
    throw new Error(`the Gthulhu Manager did not answer /health within 90 s:\n${this.logTail('manager')}`)
  }

  /** Stops the Manager process (SIGTERM, then SIGKILL) and starts it again on the same port and database. */
  async restart (): Promise<void> {
    await stopChild(this.manager)
    await this.startManager()
  }

  async stopManager (): Promise<void> { await stopChild(this.manager) }
  async startManagerAgain (): Promise<void> { await this.startManager() }

  async stop (): Promise<void> {
    await stopChild(this.manager)
    await stopChild(this.ferret)
  }

  /** The admin's claims, read from one login's access token (uid, tokenVersion, ...). */
  private adminClaims: Record<string, unknown> | undefined

  /**
   * An access token for the admin that costs the Manager no write. The Manager (c969a96) keeps a
   * user's refresh sessions in the user document and rewrites the whole document on every login
   * and refresh, so a test logging in as the user the agent uses can drop the agent's fresh session
   * (a lost update) and force its next refresh into a new login. The test therefore logs in once,
   * before any agent runs, and then signs its own short-lived access tokens with the run's key
   * (the key the Manager signs with, made by this harness): the Manager verifies them like its
   * own and nothing of the agent's session is touched.
   */
  private async observerToken (): Promise<string> {
    if (this.adminClaims === undefined) {
      const login = await fetch(`${this.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: this.adminUser, password: this.adminPassword }) })
      const token = ((await login.json()) as Envelope<{ accessToken: string }>).data?.accessToken
      if (token === undefined) throw new Error(`the Manager refused the admin's login (${login.status})`)
      this.adminClaims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>
    }
    const now = Math.floor(Date.now() / 1000)
    const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url')
    const unsigned = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ ...this.adminClaims, iat: now, nbf: now, exp: now + 60 })}`
    return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), readFileSync(path.join(this.dir, 'keys', 'jwt.key'))).toString('base64url')}`
  }

  /** One call to the Manager's API as the admin, with a token of the test's own (no login, no session write). */
  async api<T> (method: string, apiPath: string, body?: unknown): Promise<{ status: number, body: Envelope<T> }> {
    const res = await fetch(`${this.url}${apiPath}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await this.observerToken()}` },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    return { status: res.status, body: await res.json() as Envelope<T> }
  }
}

function execFileSyncQuiet (bin: string, args: string[]): void {
  // openssl is already a prerequisite of the local cluster (its certificates).
  const r = spawnSync(bin, args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')}: ${r.stderr}`)
}

async function stopChild (child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>(resolve => child.once('exit', () => { resolve() }))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}
