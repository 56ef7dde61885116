/**
 * What the provider itself saw, from its own events — not from any client's counters — so a test or
 * the benchmark can count refreshes, `invalid_grant` answers and revocations per grant, and check
 * that every refresh presented the grant's newest refresh token.
 *
 * oidc-provider events used (all verified against v9):
 * - `grant.success` (ctx): a 2xx token-endpoint answer; `ctx.body` holds the answer, so it tells which
 *   refresh token was presented (`ctx.oidc.params.refresh_token`) and which one was issued;
 * - `grant.error` (ctx, err): every error answer of the token endpoint (`invalid_grant`,
 *   `invalid_dpop_proof`, `use_dpop_nonce`, …) with its status;
 * - `grant.revoked` (ctx, grantId): the provider dropped a whole grant — on the token route that is
 *   reuse detection (a consumed refresh token presented again), on `revocation` RFC 7009, on
 *   `end_session` a logout;
 * - `refresh_token.saved` / `refresh_token.consumed`: a refresh token issued / rotated away;
 * - `authorization_code.consumed`, `end_session.success`, and the `*.error` events of the
 *   introspection, revocation, end-session and authorization endpoints, plus `server_error`.
 */
import type { KoaContextWithOIDC, Provider, errors } from 'oidc-provider';

/** ms since the epoch on this process's clock (`performance.timeOrigin + performance.now()`). */
const now = (): number => performance.timeOrigin + performance.now();

/** A 2xx answer to `grant_type=authorization_code`. */
export interface CodeEvent {
  type: 'code';
  at: number;
  grantId: string;
  clientId: string;
  accountId: string | null;
  /** The refresh token issued, or null when the answer had none (no `offline_access`). */
  refreshToken: string | null;
  accessToken: string;
  /** `expires_in` of the answer. */
  expiresIn: number;
  /** The DPoP key thumbprint the tokens are bound to, or null (Bearer). */
  dpopJkt: string | null;
}

/** A 2xx answer to `grant_type=refresh_token`: a mint as SPEC section 10 counts it. */
export interface RefreshEvent {
  type: 'refresh';
  at: number;
  grantId: string;
  clientId: string;
  /** The refresh token the client presented. */
  presented: string;
  /** Whether it was the newest refresh token the provider had issued for this grant. */
  presentedWasNewest: boolean;
  /** The refresh token the answer carried (the presented one again when it did not rotate). */
  refreshToken: string;
  rotated: boolean;
  accessToken: string;
  expiresIn: number;
  dpopJkt: string | null;
}

/** An error answer of the token endpoint. */
export interface TokenErrorEvent {
  type: 'token_error';
  at: number;
  grantType: string | null;
  /** The grant the presented token belonged to, when the provider or this log knows it. */
  grantId: string | null;
  clientId: string | null;
  status: number;
  /** The OAuth error code: `invalid_grant`, `invalid_dpop_proof`, `use_dpop_nonce`, … */
  error: string;
  description: string | null;
  /**
   * The provider's reason, which it does not send (the answer says only "grant request is
   * invalid"): `refresh token already used`, `failed jkt verification`, `refresh token not found`, …
   */
  detail: string | null;
  /** The refresh token presented, for `grant_type=refresh_token`. */
  presented: string | null;
  presentedWasNewest: boolean | null;
}

/** The provider revoked a whole grant. */
export interface GrantRevokedEvent {
  type: 'grant_revoked';
  at: number;
  grantId: string;
  /** The route that did it: `token` (reuse detected), `revocation`, `end_session`, … */
  route: string;
}

/** A refresh token was rotated away (consumed) or issued (saved). */
export interface RefreshTokenEvent {
  type: 'refresh_token_saved' | 'refresh_token_consumed';
  at: number;
  grantId: string;
  token: string;
  rotations: number;
}

/** Any other endpoint's error, and `server_error` (a provider bug or a bad configuration). */
export interface EndpointErrorEvent {
  type: 'endpoint_error';
  at: number;
  /** The provider's event name, e.g. `introspection.error`, `revocation.error`, `server_error`. */
  event: string;
  route: string | null;
  status: number;
  error: string;
  description: string | null;
  detail: string | null;
}

/** An authorization code redeemed, or an RP-initiated logout completed. */
export interface FlowEvent {
  type: 'authorization_code_consumed' | 'end_session';
  at: number;
  grantId: string | null;
}

export type ProviderEvent = CodeEvent | RefreshEvent | TokenErrorEvent | GrantRevokedEvent | RefreshTokenEvent | EndpointErrorEvent | FlowEvent;

/** One grant as the provider saw it. */
export interface GrantRecord {
  grantId: string;
  clientId: string;
  accountId: string | null;
  /** Every refresh token issued for the grant, oldest first. */
  refreshTokens: string[];
  /** 2xx refresh answers, in order. */
  refreshes: RefreshEvent[];
  /** Token-endpoint error answers that presented one of this grant's tokens. */
  errors: TokenErrorEvent[];
  /** How many of `errors` were `invalid_grant`. */
  invalidGrants: number;
  /** Whether every 2xx refresh presented the newest refresh token of its moment. */
  everyRefreshUsedNewest: boolean;
  /** When and by which route the provider revoked the grant; null while it stands. */
  revoked: { at: number; route: string } | null;
}

function errorFields(err: errors.OIDCProviderError | Error): { error: string; description: string | null; detail: string | null; status: number } {
  const e = err as Partial<errors.OIDCProviderError>;
  return {
    error: typeof e.error === 'string' ? e.error : 'server_error',
    description: typeof e.error_description === 'string' ? e.error_description : err.message || null,
    detail: typeof e.error_detail === 'string' ? e.error_detail : null,
    status: typeof e.statusCode === 'number' ? e.statusCode : 500,
  };
}

function bodyOf(ctx: KoaContextWithOIDC): Record<string, unknown> {
  const body: unknown = ctx.body;
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
}

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * Records a provider's events from the moment it is attached.
 *
 * @example
 * const log = new ProviderEventLog(provider);
 * // … the app refreshes …
 * const grant = log.grant(grantId);
 * expect(grant.refreshes.length).toBe(3);
 * expect(grant.everyRefreshUsedNewest).toBe(true);
 * expect(grant.invalidGrants).toBe(0);
 */
export class ProviderEventLog {
  readonly #events: ProviderEvent[] = [];
  /** Refresh token → its grant, for errors about tokens the provider has already deleted. */
  readonly #grantOfToken = new Map<string, string>();
  /** Grant → the newest refresh token it issued. */
  readonly #newest = new Map<string, string>();
  /** Grant → who it belongs to, from its code redemption; kept across {@link ProviderEventLog.clear}. */
  readonly #grants = new Map<string, { clientId: string; accountId: string | null }>();
  readonly #listeners = new Set<(event: ProviderEvent) => void>();

  constructor(provider: Provider) {
    provider.on('grant.success', (ctx) => this.#onSuccess(ctx));
    provider.on('grant.error', (ctx, err) => this.#onTokenError(ctx, err));
    provider.on('grant.revoked', (ctx, grantId) => this.#push({ type: 'grant_revoked', at: now(), grantId, route: ctx.oidc?.route ?? 'unknown' }));
    provider.on('refresh_token.saved', (token) => {
      if (token.grantId) this.#grantOfToken.set(token.jti, token.grantId);
      this.#push({ type: 'refresh_token_saved', at: now(), grantId: token.grantId ?? '', token: token.jti, rotations: token.rotations ?? 0 });
    });
    provider.on('refresh_token.consumed', (token) => {
      this.#push({ type: 'refresh_token_consumed', at: now(), grantId: token.grantId ?? '', token: token.jti, rotations: token.rotations ?? 0 });
    });
    provider.on('authorization_code.consumed', (code) => this.#push({ type: 'authorization_code_consumed', at: now(), grantId: code.grantId ?? null }));
    provider.on('end_session.success', (ctx) => this.#push({ type: 'end_session', at: now(), grantId: ctx.oidc.entities.Grant?.jti ?? null }));
    const endpointError =
      (event: string) =>
      (ctx: KoaContextWithOIDC, err: errors.OIDCProviderError): void =>
        this.#push({ type: 'endpoint_error', at: now(), event, route: ctx.oidc?.route ?? null, ...errorFields(err) });
    provider.on('introspection.error', endpointError('introspection.error'));
    provider.on('revocation.error', endpointError('revocation.error'));
    provider.on('end_session.error', endpointError('end_session.error'));
    provider.on('authorization.error', endpointError('authorization.error'));
    provider.on('discovery.error', endpointError('discovery.error'));
    provider.on('jwks.error', endpointError('jwks.error'));
    provider.on('userinfo.error', endpointError('userinfo.error'));
    provider.on('server_error', (ctx, err) =>
      this.#push({ type: 'endpoint_error', at: now(), event: 'server_error', route: ctx.oidc?.route ?? null, ...errorFields(err) }),
    );
  }

  #push(event: ProviderEvent): void {
    this.#events.push(event);
    for (const listener of this.#listeners) listener(event);
  }

  #onSuccess(ctx: KoaContextWithOIDC): void {
    const grantType = str(ctx.oidc.params?.grant_type);
    const body = bodyOf(ctx);
    const accessToken = str(body.access_token) ?? '';
    const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : NaN;
    const clientId = ctx.oidc.client?.clientId ?? '';
    const at = now();
    if (grantType === 'authorization_code') {
      const code = ctx.oidc.entities.AuthorizationCode;
      const grantId = code?.grantId ?? ctx.oidc.entities.Grant?.jti ?? '';
      const refreshToken = str(body.refresh_token);
      if (refreshToken) {
        this.#grantOfToken.set(refreshToken, grantId);
        this.#newest.set(grantId, refreshToken);
      }
      this.#grants.set(grantId, { clientId, accountId: code?.accountId ?? null });
      this.#push({
        type: 'code',
        at,
        grantId,
        clientId,
        accountId: code?.accountId ?? null,
        refreshToken,
        accessToken,
        expiresIn,
        dpopJkt: ctx.oidc.entities.AccessToken?.jkt ?? null,
      });
    } else if (grantType === 'refresh_token') {
      const presented = str(ctx.oidc.params?.refresh_token) ?? '';
      const grantId = ctx.oidc.entities.RefreshToken?.grantId ?? this.#grantOfToken.get(presented) ?? '';
      const refreshToken = str(body.refresh_token) ?? presented;
      const presentedWasNewest = this.#newest.get(grantId) === presented;
      this.#grantOfToken.set(refreshToken, grantId);
      this.#newest.set(grantId, refreshToken);
      this.#push({
        type: 'refresh',
        at,
        grantId,
        clientId,
        presented,
        presentedWasNewest,
        refreshToken,
        rotated: refreshToken !== presented,
        accessToken,
        expiresIn,
        dpopJkt: ctx.oidc.entities.AccessToken?.jkt ?? null,
      });
    }
  }

  #onTokenError(ctx: KoaContextWithOIDC, err: errors.OIDCProviderError): void {
    const grantType = str(ctx.oidc?.params?.grant_type);
    const presented = grantType === 'refresh_token' ? str(ctx.oidc.params?.refresh_token) : null;
    const grantId =
      ctx.oidc?.entities.RefreshToken?.grantId ??
      (presented ? this.#grantOfToken.get(presented) : undefined) ??
      ctx.oidc?.entities.AuthorizationCode?.grantId ??
      null;
    this.#push({
      type: 'token_error',
      at: now(),
      grantType,
      grantId,
      clientId: ctx.oidc?.client?.clientId ?? null,
      ...errorFields(err),
      presented,
      presentedWasNewest: presented && grantId ? this.#newest.get(grantId) === presented : null,
    });
  }

  /** Every event so far, in the order the provider emitted them (a copy). */
  get events(): ProviderEvent[] {
    return [...this.#events];
  }

  /** Calls `listener` with every later event; returns the function that stops it. */
  subscribe(listener: (event: ProviderEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Ids of the grants that redeemed a code, in order. */
  grantIds(): string[] {
    return [...this.#grants.keys()];
  }

  /** One grant as the provider saw it; `null` for a grant no code of which was redeemed here. */
  grant(grantId: string): GrantRecord | null {
    const owner = this.#grants.get(grantId);
    if (!owner) return null;
    const mine = this.#events.filter((e) => 'grantId' in e && e.grantId === grantId);
    const refreshes = mine.filter((e): e is RefreshEvent => e.type === 'refresh');
    const errors = mine.filter((e): e is TokenErrorEvent => e.type === 'token_error');
    const revoked = mine.find((e): e is GrantRevokedEvent => e.type === 'grant_revoked');
    const refreshTokens = [
      ...new Set(mine.flatMap((e) => (e.type === 'code' && e.refreshToken ? [e.refreshToken] : e.type === 'refresh' ? [e.refreshToken] : []))),
    ];
    return {
      grantId,
      ...owner,
      refreshTokens,
      refreshes,
      errors,
      invalidGrants: errors.filter((e) => e.error === 'invalid_grant').length,
      everyRefreshUsedNewest: refreshes.every((r) => r.presentedWasNewest),
      revoked: revoked ? { at: revoked.at, route: revoked.route } : null,
    };
  }

  /** Every grant seen, as {@link ProviderEventLog.grant} gives them. */
  grants(): GrantRecord[] {
    return this.grantIds()
      .map((id) => this.grant(id))
      .filter((g): g is GrantRecord => g !== null);
  }

  /** The grant an access or refresh token was issued under, by this provider, or null. */
  grantOf(token: string): string | null {
    const grantId = this.#grantOfToken.get(token);
    if (grantId) return grantId;
    const issued = this.#events.find((e) => (e.type === 'code' || e.type === 'refresh') && e.accessToken === token);
    return issued && 'grantId' in issued ? issued.grantId : null;
  }

  /**
   * Resolves with the first event (already recorded or later) that `match` accepts; rejects after
   * `timeoutMs` saying what it waited for.
   */
  waitFor<E extends ProviderEvent>(match: (event: ProviderEvent) => event is E, timeoutMs?: number): Promise<E>;
  waitFor(match: (event: ProviderEvent) => boolean, timeoutMs?: number): Promise<ProviderEvent>;
  waitFor(match: (event: ProviderEvent) => boolean, timeoutMs = 10_000): Promise<ProviderEvent> {
    const seen = this.#events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`no matching provider event within ${timeoutMs} ms (last: ${JSON.stringify(this.#events.at(-1)?.type ?? null)})`));
      }, timeoutMs);
      const stop = this.subscribe((event) => {
        if (!match(event)) return;
        clearTimeout(timer);
        stop();
        resolve(event);
      });
    });
  }

  /**
   * Forgets every event so far (a benchmark counts one window at a time); the grants themselves, and
   * which refresh token of each is the newest, live on.
   */
  clear(): void {
    this.#events.length = 0;
  }
}
