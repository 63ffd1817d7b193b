// A fixture for the agent's unit tests: an in-memory stand-in for the Gthulhu Manager that keeps
// the rules observed against the real one (e2e/scheduling.test.ts runs the agent against that):
// access tokens live 60 s on the test's clock with no grace, refresh rotates the pair and kills
// the old refresh token, create answers no id and 404 when no pod matches, PUT replaces the whole
// strategy, strategies come back in PascalCase (but `key`/`value` inside LabelSelectors) with K8sNamespace
// null when empty.
import { ManagerError, type ManagerApi, type Strategy, type StrategyBody, type Tokens } from '../../agent/manager.js'

export const TOKEN_LIFE_MS = 60_000

export class FakeManager implements ManagerApi {
  strategies: Strategy[] = []
  /** Label selectors ("k=v,…") for which pods exist. */
  podsFor = new Set<string>()
  password = 'secret'
  unreachable = false
  calls: string[] = []
  /** Calls refused for an expired or unknown access token: the agent should never cause one. */
  refusedTokens = 0
  private nextId = 1
  private access = new Map<string, number>()
  refreshTokens = new Set<string>()
  /** Rejects every body whose commandRegex is this, as a Manager that validated it would (400). */
  rejectRegex: string | undefined

  constructor (private readonly now: () => number) {}

  private issue (): Tokens {
    const n = this.nextId++
    const accessToken = `access-${n}`
    const refreshToken = `refresh-${n}`
    const expiresAt = this.now() + TOKEN_LIFE_MS
    this.access.set(accessToken, expiresAt)
    this.refreshTokens.add(refreshToken)
    return { accessToken, refreshToken, expiresAt }
  }

  private reach (what: string): void {
    this.calls.push(what)
    if (this.unreachable) throw new ManagerError(undefined, `${what}: ECONNREFUSED`)
  }

  private authorize (token: string): void {
    const exp = this.access.get(token)
    if (exp === undefined || this.now() >= exp) {
      this.refusedTokens++
      throw new ManagerError(401, 'HTTP 401: invalid or expired token')
    }
  }

  private hasPods (body: StrategyBody): boolean {
    return this.podsFor.has(body.labelSelectors.map(s => `${s.key}=${s.value}`).join(','))
  }

  async login (username: string, password: string): Promise<Tokens> {
    this.reach('login')
    if (username !== 'admin' || password !== this.password) throw new ManagerError(401, 'HTTP 401: invalid username or password')
    return this.issue()
  }

  async refresh (refreshToken: string): Promise<Tokens> {
    this.reach('refresh')
    if (!this.refreshTokens.delete(refreshToken)) throw new ManagerError(401, 'HTTP 401: invalid refresh token')
    return this.issue()
  }

  async listStrategies (token: string): Promise<Strategy[]> {
    this.reach('list')
    this.authorize(token)
    return structuredClone(this.strategies)
  }

  private stored (id: string, body: StrategyBody): Strategy {
    return {
      ID: id,
      StrategyNamespace: body.strategyNamespace,
      LabelSelectors: body.labelSelectors.map(s => ({ key: s.key, value: s.value })),
      K8sNamespace: body.k8sNamespace.length === 0 ? null : [...body.k8sNamespace],
      CommandRegex: body.commandRegex,
      Priority: body.priority,
      ExecutionTime: body.executionTime
    }
  }

  async createStrategy (token: string, body: StrategyBody): Promise<void> {
    this.reach('create')
    this.authorize(token)
    if (body.commandRegex === this.rejectRegex) throw new ManagerError(400, 'POST /api/v1/strategies: HTTP 400: Invalid request body')
    if (!this.hasPods(body)) throw new ManagerError(404, 'POST /api/v1/strategies: HTTP 404: no pods match the strategy criteria')
    this.strategies.push(this.stored(`65f0000000000000000000${String(this.nextId++).padStart(2, '0')}`, body))
  }

  async updateStrategy (token: string, id: string, body: StrategyBody): Promise<void> {
    this.reach('update')
    this.authorize(token)
    const i = this.strategies.findIndex(s => s.ID === id)
    if (i < 0) throw new ManagerError(404, 'PUT /api/v1/strategies: HTTP 404: strategy not found or you don\'t have permission to update it')
    if (!this.hasPods(body)) throw new ManagerError(404, 'PUT /api/v1/strategies: HTTP 404: no pods match the strategy criteria')
    this.strategies[i] = this.stored(id, body)
  }

  async deleteStrategy (token: string, id: string): Promise<void> {
    this.reach('delete')
    this.authorize(token)
    if (!/^[0-9a-f]{24}$/.test(id)) throw new ManagerError(500, 'DELETE /api/v1/strategies: HTTP 500: Internal Server Error')
    this.strategies = this.strategies.filter(s => s.ID !== id)
  }
}

/** A clock that only moves when the agent sleeps; `until` stops the loop at a virtual time. */
export class FakeClock {
  t = Date.parse('2026-11-20T10:00:00Z')
  private readonly hooks: Array<{ at: number, fn: () => void }> = []
  constructor (private readonly until: number = Number.POSITIVE_INFINITY) {}
  now = (): number => this.t
  /** Runs `fn` once the clock reaches `at` ms after the start. */
  at (ms: number, fn: () => void): void { this.hooks.push({ at: Date.parse('2026-11-20T10:00:00Z') + ms, fn }) }
  sleep = async (ms: number): Promise<void> => {
    const target = this.t + ms
    for (const h of this.hooks.filter(h => h.at > this.t && h.at <= target).sort((a, b) => a.at - b.at)) {
      this.t = h.at
      h.fn()
    }
    this.t = target
  }

  stopped = (): boolean => this.t - Date.parse('2026-11-20T10:00:00Z') >= this.until
}
