/**
 * OpenID Connect as a token origin (SPEC 11): the second implementation of the engine's seam.
 * The engine keeps one access token fresh exactly as for the Clerk Frontend API; this holds the
 * grant — the refresh token, the ID token, the DPoP key — and speaks to the provider. Loaded only
 * by OpenID Connect managers (a chunk of its own in the worker and the local-mode engine).
 *
 * Every token-endpoint request runs under the Web Lock `{worker key}:grant` and reads the refresh
 * token from the store inside it; a rotated refresh token is stored the moment its answer is parsed,
 * before anything else about the answer is checked, so a refresh token whose successor has arrived
 * is never presented again, even by two workers sharing the stored grant during a deploy. (One whose
 * request met no answer is presented again: whether the provider rotated it cannot be known here.)
 *
 *   worker A  lock ── read RT1 ── POST refresh ── store RT2 ── check the rest ── unlock
 *   worker B         (waits)                                                    lock ── read RT2 ── …
 */
import { OIDC_TRAITS } from './traits.ts';
import { randomId } from '../../protocol/randomId.ts';
import { grantLockName, workerKey } from '../../protocol/names.ts';
import type { Clock } from '../../protocol/clock.ts';
import { ConnectionError, InvalidArgumentError, OriginResponseError, OriginUnavailableError, TokenInvalidError, isRecord } from '../../protocol/errors.ts';
import { decodeJwt } from 'jose';
import type { Claims, EngineConfig, OidcConfig, ProofRequest, SignInRequest } from '../../protocol/types.ts';
import type { FailureKind, MintTarget, MintedToken, OriginCounters, OriginSessions, SignInResult, TokenFacts, TokenOrigin } from '../../engine/TokenOrigin.ts';
import { createDpopKey, dpopProof, randomToken, sha256 } from './dpop.ts';
import type { Grant, GrantAccess, GrantKeeper, PendingIdToken, StoredDiscovery } from './grant.ts';
import { changedIdentityClaim, parseOidc, parseProofRequest, parseSignInRequest, parseUrl } from './oidcChecks.ts';
import { ProviderClient, checkDiscovery, type ProviderMetadata, type TokenAnswer } from './ProviderClient.ts';

/** How long a sign-in may take between `signIn()` and `handleRedirect()`. */
export const SIGN_IN_TTL_MS = 10 * 60_000;

/** A discovery document older than this is fetched again at the next refresh (and at every `signIn()`). */
export const DISCOVERY_MAX_AGE_MS = 24 * 60 * 60_000;

/** What the adapter is given. */
export interface OidcDeps {
  clock: Clock;
  fetch: typeof fetch;
  /** Web Locks (OpenID Connect needs them: the grant lock); undefined outside a secure context. */
  locks: LockManager | undefined;
  /** Where the grant lives (the worker gives IndexedDB under the worker key: storage/GrantStore.ts). */
  store: GrantKeeper;
}

/** The discovery document in use, checked, and when it was fetched (local ms). */
interface KnownDiscovery {
  metadata: ProviderMetadata;
  fetchedAt: number;
}

/** A stored discovery document read back: checked again (it may predate a check), else ignored. */
function knownFrom(stored: StoredDiscovery | null, issuer: string): KnownDiscovery | null {
  if (!isRecord(stored) || !isRecord(stored.document) || typeof stored.fetchedAt !== 'number' || !Number.isFinite(stored.fetchedAt)) return null;
  try {
    return { metadata: checkDiscovery(stored.document, issuer), fetchedAt: stored.fetchedAt };
  } catch {
    return null;
  }
}

/** A refresh token an answer carries, or null (none, or not a usable string). */
function refreshTokenOf(body: Record<string, unknown>): string | null {
  const token = body.refresh_token;
  return typeof token === 'string' && token.length > 0 && token.length <= 64 * 1024 ? token : null;
}

/** The provider says the grant is gone (or this worker has none): every tab signs out. */
const grantGone = (why: string) => new OriginResponseError(400, [{ code: 'invalid_grant', message: why }], null, `The grant ended: ${why}`);

/**
 * @example
 * const origin = new OidcOrigin(config, { clock: systemClock, fetch, locks: navigator.locks });
 * await origin.ready;
 * location.assign(await origin.beginSignIn({ prompt: null, loginHint: null, returnTo: '/' }));
 */
export class OidcOrigin implements TokenOrigin {
  readonly ready: Promise<void>;
  readonly traits = OIDC_TRAITS;
  readonly #oidc: OidcConfig;
  readonly #clock: Clock;
  readonly #locks: LockManager;
  readonly #lockName: string;
  readonly #store: GrantKeeper;
  readonly #provider: ProviderClient;
  /** The discovery document in use: null until first needed, and again once dropped with the grant. */
  #known: KnownDiscovery | null = null;
  /** The discovery fetch in flight, shared by every caller. */
  #discovering: Promise<ProviderMetadata> | null = null;
  /** Rises each time the grant (and with it the document) is dropped: a fetch begun before keeps nothing. */
  #dropped = 0;
  /** The grant as this worker last read or wrote it: what `inspect` answers from. */
  #grant: Grant | null = null;

  constructor(config: EngineConfig, deps: OidcDeps) {
    if (!config.oidc) throw new InvalidArgumentError('OidcOrigin needs the oidc option');
    // PKCE, DPoP and the grant lock need WebCrypto and Web Locks, which only a secure context has.
    if (!globalThis.crypto?.subtle || !deps.locks) {
      throw new ConnectionError('OpenID Connect needs a secure context (https, or http on localhost) and Web Locks; this page lacks them');
    }
    this.#oidc = parseOidc(config.oidc);
    this.#clock = deps.clock;
    this.#locks = deps.locks;
    const key = workerKey(config);
    this.#lockName = grantLockName(key);
    this.#store = deps.store;
    this.#provider = new ProviderClient(config.oidc, deps);
    this.ready = this.#start();
  }

  async #start(): Promise<void> {
    this.#grant = await this.#store.getGrant().catch(() => null);
    this.#known = knownFrom(await this.#store.getDiscovery().catch(() => null), this.#oidc.issuer);
    // Asked for explicitly, DPoP must be there: checked now (one request), so `ready` can refuse.
    if (this.#oidc.dpop === true) await this.#dpopWanted(await this.#discovery());
  }

  counters(): OriginCounters {
    return { ...this.#provider.counts, failed: this.#provider.failed };
  }

  abortAll(): void {
    this.#provider.abortAll();
  }

  /** The stored grant is the session: no request is made. */
  async readSessions(): Promise<OriginSessions> {
    const grant = await this.#store.getGrant();
    this.#grant = grant;
    const sessions = new Set<string>(grant ? [grant.sessionId] : []);
    return { sessions, lastActiveSessionId: grant?.sessionId ?? null, endsAt: new Map(), users: new Map(grant ? [[grant.sessionId, grant.sub]] : []) };
  }

  classify(error: unknown): FailureKind {
    if (error instanceof OriginUnavailableError) return 'outage';
    if (!(error instanceof OriginResponseError)) return 'error';
    // Revoked, expired, or a refresh token presented twice (also after an answer lost on the way back).
    if (error.errors[0]?.code === 'invalid_grant') return 'signout';
    return error.status === 429 || error.status >= 500 ? 'outage' : 'error';
  }

  inspect(jwt: string, sessionId: string): TokenFacts | null {
    const grant = this.#grant;
    const access = grant?.sessionId === sessionId ? grant.access : null;
    return access && access.token === jwt
      ? { oiat: null, iat: access.iat, lifetimeS: access.lifetimeS, claims: grant!.claims, ...(access.scheme ? { scheme: access.scheme } : {}) }
      : null;
  }

  /**
   * A refresh with the stored grant (one access token per grant: `target` is the default). What a
   * 2xx answer carries is taken in this order, each step kept before the next can fail:
   * 1. the rotated refresh token, stored (memory, and IndexedDB with `persist`) as soon as the JSON
   *    is read — an access token or ID token that then fails cannot lose it;
   * 2. the access token, checked;
   * 3. the ID token, if any, checked against the grant's: one that cannot be checked now waits in
   *    the grant for the next refresh, one that fails is dropped and reported; the refresh stands.
   * A request that meets no answer at all changes nothing here, so the next attempt presents the
   * same refresh token (what a provider's reuse interval or grace period is for).
   */
  mint(sessionId: string, _target: MintTarget, _expiredToken: string | null): Promise<MintedToken> {
    return this.#locked(async () => {
      const grant = await this.#store.getGrant();
      if (!grant || grant.sessionId !== sessionId) throw grantGone('this browser holds no grant for the session any more');
      if (!grant.refreshToken) {
        // No refresh token (no offline_access consent): the access token serves until it expires.
        if (grant.access && grant.access.expiresAt > this.#clock.now()) return this.#minted(grant.access, grant.claims);
        await this.#drop();
        throw grantGone('the provider gave no refresh token and the access token has expired: sign in again');
      }
      const metadata = await this.#discovery();
      let answer: TokenAnswer;
      try {
        // The grant's DPoP key goes with every refresh, whatever token_type the last answer named.
        answer = await this.#provider.token(metadata, { grant_type: 'refresh_token', refresh_token: grant.refreshToken }, grant.dpopKey);
      } catch (error) {
        if (this.classify(error) === 'signout') await this.#drop();
        throw error;
      }
      this.#provider.counts.mints++;
      let current = grant;
      const rotated = refreshTokenOf(answer.body);
      if (rotated !== null && rotated !== grant.refreshToken) {
        current = { ...grant, refreshToken: rotated };
        await this.#save(current);
      }
      const access = this.#access(answer);
      const { warning, ...identity } = await this.#refreshedIdentity(metadata, current, answer);
      current = { ...current, ...identity, access };
      await this.#save(current);
      // A refreshed ID token that failed its checks was dropped: the refresh stands, and the engine
      // reports the failure on the `error` event (no caller receives it).
      return { ...this.#minted(access, current.claims), ...(warning ? { warning } : {}) };
    });
  }

  /**
   * The ID token and claims after a refresh. The newest ID token to check is the answer's, else
   * one an earlier refresh left waiting; it must verify and keep the grant's identity
   * ({@link changedIdentityClaim}). Its times are judged as of its arrival, so a token that waited
   * for the JWKS is not refused for having aged meanwhile.
   *
   *   refresh 1  200 { RT2, id_token A } ── JWKS unreachable ── claims unchanged, A pending, token served
   *   refresh 2  200 { RT3 }             ── JWKS answers ────── A checked: its claims now the grant's
   */
  async #refreshedIdentity(
    metadata: ProviderMetadata,
    grant: Grant,
    answer: TokenAnswer,
  ): Promise<Pick<Grant, 'idToken' | 'claims' | 'pendingIdToken'> & { warning?: TokenInvalidError }> {
    const kept = { idToken: grant.idToken, claims: grant.claims, pendingIdToken: null };
    const arrived = answer.body.id_token;
    if (arrived !== undefined && typeof arrived !== 'string')
      return {
        ...kept,
        pendingIdToken: grant.pendingIdToken ?? null,
        warning: new TokenInvalidError('A refresh answer carried an id_token that is not a string: it was dropped'),
      };
    const candidate: PendingIdToken | null =
      typeof arrived === 'string' ? { token: arrived, arrivedAtMs: this.#provider.now() } : (grant.pendingIdToken ?? null);
    if (!candidate) return kept;
    try {
      const payload = await this.#provider.verifyIdToken(metadata, candidate.token, { nowMs: candidate.arrivedAtMs, nonce: null });
      const changed = changedIdentityClaim(grant.claims, payload);
      if (changed) throw new TokenInvalidError(`A refreshed ID token changed the grant's ${changed}: it was dropped, and the claims are those of the sign-in`);
      return { idToken: candidate.token, claims: Object.freeze({ ...payload }), pendingIdToken: null };
    } catch (error) {
      // The JWKS did not answer: the token is not known to be bad. The claims stay as they were,
      // and it is checked at the next refresh (unless a newer one arrives first).
      if (error instanceof OriginUnavailableError) return { ...kept, pendingIdToken: candidate };
      return {
        ...kept,
        warning: error instanceof TokenInvalidError ? error : new TokenInvalidError('A refreshed ID token could not be checked', { cause: error }),
      };
    }
  }

  async beginSignIn(untrusted: SignInRequest): Promise<string> {
    const request = parseSignInRequest(untrusted, this.#oidc.redirectUri);
    // Fetched again at every sign-in: the endpoint a tab is about to be sent to is today's, checked.
    const metadata = await this.#discovery({ refetch: true });
    await this.#dpopWanted(metadata);
    const verifier = randomToken();
    const state = randomToken();
    const nonce = randomToken();
    const now = this.#clock.now();
    await this.#store.putSignIn({ state, verifier, nonce, returnTo: request.returnTo, createdAt: now }, now - SIGN_IN_TTL_MS);
    const url = new URL(metadata.authorization_endpoint);
    const params: Record<string, string | null> = {
      response_type: 'code',
      client_id: this.#oidc.clientId,
      redirect_uri: this.#oidc.redirectUri,
      scope: this.#oidc.scope,
      state,
      nonce,
      code_challenge: await sha256(verifier),
      code_challenge_method: 'S256',
      prompt: request.prompt,
      login_hint: request.loginHint,
      resource: this.#oidc.resource,
    };
    for (const [name, value] of Object.entries(params)) if (value !== null) url.searchParams.set(name, value);
    return url.href;
  }

  async completeSignIn(href: string): Promise<SignInResult> {
    const answer = new URL(parseUrl(href, 'the redirect URL'));
    const param = (name: string) => answer.searchParams.get(name);
    const redirect = new URL(this.#oidc.redirectUri);
    if (answer.origin !== redirect.origin || answer.pathname !== redirect.pathname)
      throw new InvalidArgumentError(`handleRedirect: ${answer.origin}${answer.pathname} is not the redirectUri ${redirect.href}`);
    if (param('code') === null && param('error') === null) throw new InvalidArgumentError('handleRedirect: the URL carries neither code nor error');
    // Any attempt uses up its state, whatever comes next.
    const state = param('state');
    const pending = state === null ? null : await this.#store.takeSignIn(state);
    if (!pending || this.#clock.now() - pending.createdAt > SIGN_IN_TTL_MS)
      throw new TokenInvalidError("handleRedirect: the answer's state is unknown, used or expired (sign in again)");
    const metadata = await this.#discovery();
    // RFC 9207: the answer names its issuer; one that names another, or none where it must, is refused.
    const iss = param('iss');
    if (iss !== null ? iss !== this.#oidc.issuer : metadata.authorization_response_iss_parameter_supported === true)
      throw new TokenInvalidError(`handleRedirect: the answer's issuer ${JSON.stringify(iss)} is not ${this.#oidc.issuer}`);
    const error = param('error');
    if (error !== null)
      throw new OriginResponseError(
        400,
        [{ code: error, ...(param('error_description') ? { message: param('error_description')! } : {}) }],
        null,
        `The provider refused the sign-in: ${error}${param('error_description') ? `: ${param('error_description')}` : ''}`,
      );
    const dpopKey = (await this.#dpopWanted(metadata)) ? await createDpopKey() : null;
    return this.#locked(async () => {
      const tokens = await this.#provider.token(
        metadata,
        { grant_type: 'authorization_code', code: param('code')!, redirect_uri: this.#oidc.redirectUri, code_verifier: pending.verifier },
        dpopKey,
      );
      const payload = await this.#provider.verifyIdToken(metadata, tokens.body.id_token, { nowMs: this.#provider.now(), nonce: pending.nonce });
      const access = this.#access(tokens);
      const claims: Claims = Object.freeze({ ...payload });
      const grant: Grant = {
        sessionId: `oidc_${randomId()}`,
        sub: payload.sub!,
        refreshToken: typeof tokens.body.refresh_token === 'string' ? tokens.body.refresh_token : null,
        idToken: tokens.body.id_token as string,
        claims,
        // Kept whatever token_type says: with Bearer the refresh token is still bound to the key
        // (RFC 9449 section 5), and a refresh without a proof from it would fail.
        dpopKey,
        access,
        pendingIdToken: null,
      };
      // The grant before it is dropped, not revoked: providers issue every code of one provider
      // session under one grant, so revoking the old refresh token would revoke the new one too.
      await this.#save(grant);
      return { sessionId: grant.sessionId, userId: grant.sub, token: this.#minted(access, claims), returnTo: pending.returnTo };
    });
  }

  /** The provider's logout with `id_token_hint`, when `postLogoutRedirectUri` is set and the provider has one. */
  async signOutRedirect(sessionId: string): Promise<string | null> {
    const grant = await this.#store.getGrant();
    if (!this.#oidc.postLogoutRedirectUri || grant?.sessionId !== sessionId) return null;
    const metadata = await this.#discovery();
    if (!metadata.end_session_endpoint) return null;
    const url = new URL(metadata.end_session_endpoint);
    url.searchParams.set('id_token_hint', grant.idToken);
    url.searchParams.set('post_logout_redirect_uri', this.#oidc.postLogoutRedirectUri);
    url.searchParams.set('client_id', this.#oidc.clientId);
    return url.href;
  }

  /**
   * Drops the grant (and the discovery document with it) everywhere, then revokes its refresh token
   * (RFC 7009) where the provider can, at the revocation endpoint of the document in hand.
   */
  endSession(sessionId: string): Promise<void> {
    return this.#locked(async () => {
      const grant = await this.#store.getGrant();
      if (grant?.sessionId !== sessionId) return;
      const known = this.#known?.metadata ?? null;
      await this.#drop();
      if (!grant.refreshToken) return;
      // With no document in hand, one is fetched for this call only: it is not kept after a sign-out.
      await this.#provider.revoke(known ?? (await this.#provider.discover()), grant.refreshToken);
    });
  }

  /** The grant dropped here, without telling the provider (`setActiveSession(null)`). */
  async forget(sessionId: string): Promise<void> {
    await this.#locked(async () => {
      if ((await this.#store.getGrant())?.sessionId === sessionId) await this.#drop();
    });
  }

  async proof(sessionId: string, untrusted: ProofRequest): Promise<string> {
    const request = parseProofRequest(untrusted);
    const grant = await this.#store.getGrant();
    if (grant?.sessionId !== sessionId || !grant.dpopKey) throw new InvalidArgumentError("proof: the session's token is not DPoP-bound");
    return dpopProof(grant.dpopKey, {
      htm: request.htm,
      htu: request.htu,
      nowS: Math.floor(this.#provider.now() / 1000),
      nonce: request.nonce,
      accessToken: request.token,
    });
  }

  /**
   * The discovery document: the one in hand while it is younger than {@link DISCOVERY_MAX_AGE_MS},
   * else fetched and checked (`refetch`: fetched whatever its age, as at every `signIn()`). When an
   * old document is due and the provider cannot be reached, the old one serves until it answers;
   * a document that fails its checks is never used (`TokenInvalidError`).
   */
  async #discovery(o: { refetch?: boolean } = {}): Promise<ProviderMetadata> {
    const known = this.#known;
    const age = known ? this.#clock.now() - known.fetchedAt : NaN;
    // A clock set back makes the age negative: that document is treated as due, not as new.
    if (known && !o.refetch && age >= 0 && age < DISCOVERY_MAX_AGE_MS) return known.metadata;
    try {
      return await this.#fetchDiscovery();
    } catch (error) {
      if (known && !o.refetch && this.classify(error) === 'outage') return known.metadata;
      throw error;
    }
  }

  /**
   * One discovery fetch at a time, kept with the grant — unless the grant was dropped while it was
   * on its way (a sign-out drops the document with it, and a late answer must not bring it back):
   *
   *   refresh    GET discovery ─────────────────────────▶ 200   not kept: #dropped moved on
   *   signOut()        drop grant + document (#dropped++)
   */
  #fetchDiscovery(): Promise<ProviderMetadata> {
    this.#discovering ??= (async () => {
      const dropped = this.#dropped;
      const metadata = await this.#provider.discover();
      const fetchedAt = this.#clock.now();
      if (dropped === this.#dropped) {
        this.#known = { metadata, fetchedAt };
        await this.#store.setDiscovery({ document: metadata as unknown as Record<string, unknown>, fetchedAt }).catch(() => {});
      }
      return metadata;
    })().finally(() => {
      this.#discovering = null;
    });
    return this.#discovering;
  }

  /** Whether the grant gets a DPoP key: the option, else what the provider lists. */
  async #dpopWanted(metadata: ProviderMetadata): Promise<boolean> {
    const supported = Array.isArray(metadata.dpop_signing_alg_values_supported) && metadata.dpop_signing_alg_values_supported.includes('ES256');
    if (this.#oidc.dpop === true && !supported)
      throw new InvalidArgumentError(`oidc.dpop is true but ${this.#oidc.issuer} does not list ES256 in dpop_signing_alg_values_supported`);
    return this.#oidc.dpop ?? supported;
  }

  /**
   * The access token of an answer, placed on this machine's clock: `expires_in` from its arrival;
   * without it, a JWT's `exp` measured against the provider's time (SPEC 3); an opaque token without
   * `expires_in` cannot be placed, and is refused.
   */
  #access(answer: TokenAnswer): GrantAccess {
    const { access_token: token, token_type: type, expires_in: expiresIn } = answer.body;
    if (typeof token !== 'string' || token === '' || token.length > 64 * 1024) throw new TokenInvalidError('The token answer carries no access_token');
    let lifetimeS: number;
    if (typeof expiresIn === 'number' && expiresIn > 0 && Number.isFinite(expiresIn)) {
      lifetimeS = expiresIn;
    } else {
      let claims: ReturnType<typeof decodeJwt>;
      try {
        claims = decodeJwt(token);
      } catch (cause) {
        throw new TokenInvalidError('The token answer has no expires_in and its access token is opaque: its expiry is unknown', { cause });
      }
      const originNowS = answer.dateMs !== null ? answer.dateMs / 1000 : (claims.iat ?? NaN);
      if (typeof claims.exp !== 'number' || !(claims.exp > originNowS))
        throw new TokenInvalidError('The token answer has no expires_in and its access token has no exp in the future');
      lifetimeS = claims.exp - originNowS;
    }
    const scheme = typeof type === 'string' && type.toLowerCase() === 'dpop' ? ({ scheme: 'DPoP' } as const) : {};
    return { token, expiresAt: answer.receivedAt + lifetimeS * 1000, iat: Math.floor(answer.receivedAt / 1000), lifetimeS, ...scheme };
  }

  #minted(access: GrantAccess, claims: Claims): MintedToken {
    return {
      jwt: access.token,
      expiresAt: access.expiresAt,
      oiat: null,
      iat: access.iat,
      lifetimeS: access.lifetimeS,
      claims,
      ...(access.scheme ? { scheme: access.scheme } : {}),
    };
  }

  async #save(grant: Grant): Promise<void> {
    this.#grant = grant;
    await this.#store.setGrant(grant);
  }

  /** The grant goes, and the discovery document with it (sign-out, `invalid_grant`, forget). */
  async #drop(): Promise<void> {
    this.#grant = null;
    this.#known = null;
    this.#dropped++;
    await this.#store.deleteGrant();
    await this.#store.deleteDiscovery().catch(() => {});
  }

  #locked<T>(fn: () => Promise<T>): Promise<T> {
    return this.#locks.request(this.#lockName, fn) as Promise<T>;
  }
}
