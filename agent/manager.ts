// The Gthulhu Manager's REST API (Gthulhu commit c969a96, api/manager/rest), as the agent uses
// it: auth, and the caller's own scheduling strategies. Every reply is an envelope
// `{success, data?, error?, timestamp}`; strategies come back with Go's field names (PascalCase).
// The transport only: what to create or delete is decided in reconcile.ts.

/**
 * A strategy as GET /api/v1/strategies/self lists it: Go's field names (the response struct has
 * no JSON tags) except inside LabelSelectors, whose type has them (`key`, `value`).
 */
export interface Strategy {
  ID: string
  StrategyNamespace: string
  LabelSelectors: Array<{ key: string, value: string }> | null
  /** null when empty. */
  K8sNamespace: string[] | null
  CommandRegex: string
  Priority: number
  ExecutionTime: number
}

/** What POST and PUT /api/v1/strategies take; PUT replaces the whole strategy, so it always gets all of it. */
export interface StrategyBody {
  strategyNamespace: string
  labelSelectors: Array<{ key: string, value: string }>
  k8sNamespace: string[]
  commandRegex: string
  priority: number
  executionTime: number
}

export interface Tokens {
  accessToken: string
  refreshToken: string
  /** When the access token stops being accepted (ms since the epoch), from its `exp`. */
  expiresAt: number
}

/**
 * A reply that is not a success. `status` undefined: the Manager was not reached at all (refused,
 * reset, timed out, or not the Manager).
 */
export class ManagerError extends Error {
  constructor (readonly status: number | undefined, message: string) {
    super(message)
    this.name = 'ManagerError'
  }
}

export interface ManagerApi {
  login: (username: string, password: string) => Promise<Tokens>
  refresh: (refreshToken: string) => Promise<Tokens>
  listStrategies: (accessToken: string) => Promise<Strategy[]>
  createStrategy: (accessToken: string, body: StrategyBody) => Promise<void>
  updateStrategy: (accessToken: string, id: string, body: StrategyBody) => Promise<void>
  deleteStrategy: (accessToken: string, id: string) => Promise<void>
}

/** `exp` of a JWT in ms; the signature is the Manager's business, the agent only plans its refresh. */
export function jwtExpiry (token: string): number | undefined {
  const payload = token.split('.')[1]
  if (payload === undefined) return undefined
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
    const exp = typeof claims === 'object' && claims !== null ? (claims as { exp?: unknown }).exp : undefined
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined
  } catch {
    return undefined
  }
}

interface Envelope { success?: unknown, data?: unknown, error?: unknown }

/** The Manager over HTTP, with a timeout on every call. */
export function httpManager (baseUrl: string, options: { timeoutMs?: number, now?: () => number } = {}): ManagerApi {
  const base = baseUrl.replace(/\/+$/, '')
  const timeoutMs = options.timeoutMs ?? 10_000
  const now = options.now ?? Date.now

  async function call (method: string, path: string, body: unknown, token?: string): Promise<unknown> {
    let res: Response
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs)
      })
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code
      throw new ManagerError(undefined, `${method} ${base}${path}: ${cause ?? (error as Error).message}`)
    }
    const text = await res.text().catch(() => '')
    let envelope: Envelope | undefined
    try {
      envelope = JSON.parse(text) as Envelope
    } catch {
      envelope = undefined
    }
    if (!res.ok || envelope?.success !== true) {
      const said = typeof envelope?.error === 'string' ? envelope.error : text.slice(0, 200)
      // A reply that is no envelope at all (a proxy's page, another service) is not the Manager.
      throw new ManagerError(envelope === undefined && res.ok ? undefined : res.status, `${method} ${path}: HTTP ${res.status}${said === '' ? '' : `: ${said}`}`)
    }
    return envelope.data
  }

  const tokensOf = (data: unknown): Tokens => {
    const d = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>
    const accessToken = typeof d.accessToken === 'string' ? d.accessToken : typeof d.token === 'string' ? d.token : undefined
    const refreshToken = typeof d.refreshToken === 'string' ? d.refreshToken : undefined
    if (accessToken === undefined || refreshToken === undefined) throw new ManagerError(undefined, 'login answered without accessToken and refreshToken')
    // Without an exp, assume the shortest life the Manager is known to give (60 s).
    return { accessToken, refreshToken, expiresAt: jwtExpiry(accessToken) ?? now() + 60_000 }
  }

  return {
    login: async (username, password) => tokensOf(await call('POST', '/api/v1/auth/login', { username, password })),
    refresh: async refreshToken => tokensOf(await call('POST', '/api/v1/auth/refresh', { refreshToken })),
    listStrategies: async token => {
      const data = await call('GET', '/api/v1/strategies/self', undefined, token) as { strategies?: unknown } | null
      return Array.isArray(data?.strategies) ? data.strategies as Strategy[] : []
    },
    createStrategy: async (token, body) => { await call('POST', '/api/v1/strategies', body, token) },
    updateStrategy: async (token, id, body) => { await call('PUT', '/api/v1/strategies', { strategyId: id, ...body }, token) },
    deleteStrategy: async (token, id) => { await call('DELETE', '/api/v1/strategies', { strategyId: id }, token) }
  }
}
