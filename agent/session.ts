// A logged-in session with the Manager. Access tokens live 60 s with no grace, so the session
// refreshes ahead of expiry; refresh rotates the pair (the old refresh token dies), and when
// refresh fails it logs in again. A call answered 401 gets one fresh login and one retry.
import type { AgentFailure as AgentFailureReason } from '../contract/index.js'
import { ManagerError, type ManagerApi, type Tokens } from './manager.js'

export interface Credentials { username: string, password: string }

/** The agent cannot go on without a change by a person: it exits and says why. */
export class AgentFailure extends Error {
  constructor (readonly reason: AgentFailureReason, message: string) {
    super(message)
    this.name = 'AgentFailure'
  }
}

/** Refresh when less than this is left of the access token's life. */
export const REFRESH_MARGIN_MS = 20_000

export class Session {
  private tokens: Tokens | undefined
  /** How often each way of getting a token was used; the tests read them. */
  readonly counts = { logins: 0, refreshes: 0, failedRefreshes: 0 }

  constructor (
    private readonly api: ManagerApi,
    private readonly credentials: () => Promise<Credentials>,
    private readonly now: () => number
  ) {}

  private async login (): Promise<Tokens> {
    const { username, password } = await this.credentials()
    try {
      this.counts.logins++
      this.tokens = await this.api.login(username, password)
      return this.tokens
    } catch (error) {
      this.tokens = undefined
      if (error instanceof ManagerError && error.status !== undefined && error.status >= 400 && error.status < 500) {
        throw new AgentFailure('AuthFailed', `the Manager refused the login of "${username}": ${error.message}`)
      }
      throw error
    }
  }

  /**
   * The renewal in flight, shared by every caller that needs a token meanwhile: refresh rotates
   * the pair, so a second refresh with the same refresh token would be refused and force a login.
   */
  private renewing: Promise<Tokens> | undefined

  /** A token that is valid for at least REFRESH_MARGIN_MS more (or a fresh login). */
  async accessToken (): Promise<string> {
    const tokens = this.tokens
    if (tokens !== undefined && this.now() < tokens.expiresAt - REFRESH_MARGIN_MS) return tokens.accessToken
    this.renewing ??= this.renew(tokens).finally(() => { this.renewing = undefined })
    return (await this.renewing).accessToken
  }

  private async renew (tokens: Tokens | undefined): Promise<Tokens> {
    if (tokens === undefined) return await this.login()
    try {
      this.counts.refreshes++
      this.tokens = await this.api.refresh(tokens.refreshToken)
      return this.tokens
    } catch (error) {
      // Unreachable: keep the pair, the refresh token may still work once the Manager is back.
      if (error instanceof ManagerError && error.status === undefined) throw error
      this.counts.failedRefreshes++
      this.tokens = undefined
      return await this.login()
    }
  }

  /** Runs one authenticated call; a 401 (token revoked, Manager restarted with new keys) gets one new login. */
  async call<T> (fn: (token: string) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.accessToken())
    } catch (error) {
      if (!(error instanceof ManagerError) || error.status !== 401) throw error
      this.tokens = undefined
      return await fn(await this.accessToken())
    }
  }
}
