/**
 * Everything the development origin remembers, in memory: users, clients (one per browser cookie),
 * sessions, test session tokens, the fault controls and the counters, and (in `AppSessions`) the
 * app session routes' token families. Routes validate first and call in here only to change state,
 * so a refused request changes nothing.
 */
import { AppSessions, type AppStats } from './AppSessions.ts';
import { randomId, randomSecret, userIdFor } from './ids.ts';

/** How long a session made by a sign-in lasts at most. */
export const SIGN_IN_SESSION_MAX_DURATION_S = 7 * 24 * 3600;

export interface User {
  readonly id: string;
  readonly createdAt: number;
}

/** One browser, known by its `__client` cookie. */
export interface Client {
  readonly id: string;
  readonly sessionIds: string[];
  /** The session signed in (or accepted) last on this client. */
  lastActiveSessionId: string | null;
}

export interface Session {
  readonly id: string;
  readonly clientId: string;
  readonly userId: string;
  status: 'active' | 'ended';
  readonly createdAt: number;
  /** Creation plus the session's max duration (ms); past it the session is expired. */
  readonly expireAt: number;
}

export type TestSessionTokenStatus = 'pending' | 'accepted' | 'revoked';

export interface TestSessionTokenRecord {
  readonly id: string;
  readonly userId: string;
  readonly token: string;
  status: TestSessionTokenStatus;
  readonly url: string;
  /** Absolute URL on the origin, checked when the token was created. */
  readonly redirectUrl: string;
  readonly sessionMaxDurationSeconds: number;
  readonly createdAt: number;
  updatedAt: number;
  /** The session its acceptance created. */
  sessionId: string | null;
}

export type OutageMode = 'off' | 'missing_expired_token' | 'down';

/**
 * What a hostile (broken, misconfigured or malicious) origin answers a mint with instead of a token
 * (`POST /__origin/faults { hostile }`):
 * - `html`: 200 with an HTML page (a proxy or an SPA fallback answering for the origin);
 * - `html_error`: 403 with an HTML error page (a web application firewall);
 * - `non_json`: 200 `application/json` whose body is cut off mid-way;
 * - `not_jwt`: `{ object: 'token', jwt: 'not-a-jwt' }`;
 * - `wrong_sid`: a token signed here for another session;
 * - `expired`: a token signed here whose `exp` has passed;
 * - `alg_none`: an unsigned token (`alg: none`) with valid claims;
 * - `bad_signature`: a token of this session whose signature does not verify;
 * - `huge`: a 5 MB body, streamed without a Content-Length.
 */
export const HOSTILE_KINDS = ['html', 'html_error', 'non_json', 'not_jwt', 'wrong_sid', 'expired', 'alg_none', 'bad_signature', 'huge'] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];

/** Faults injected on the frontend token routes. */
export interface Faults {
  latencyMs: number;
  /** A random extra latency in [0, jitterMs) on top of `latencyMs`. */
  jitterMs: number;
  errorRate: number;
  status: number;
  /** Answer every mint that passed the checks with this instead of a token; null: answer normally. */
  hostile: HostileKind | null;
}

export const NO_FAULTS: Readonly<Faults> = Object.freeze({ latencyMs: 0, jitterMs: 0, errorRate: 0, status: 503, hostile: null });

/** One request to a frontend token route, as `GET /__origin/log` lists it. */
export interface MintRecord {
  /** When it arrived, on the origin's clock (ms). */
  at: number;
  /** How long until its answer was sent (or the connection closed), ms. */
  ms: number;
  /** The session of the URL (whatever the answer). */
  sessionId: string | null;
  template: string | null;
  /** The status answered; 0 when the connection closed before an answer. */
  status: number;
  /** Whether the URL carried an `expired_token` (the outage re-mint of seed 003). */
  expiredToken: boolean;
  /** The hostile answer sent instead of a token, if any. */
  hostile: HostileKind | null;
  /** Whether it counted as a mint in `GET /__origin/stats` (a token was signed and answered). */
  minted: boolean;
}

/** How many mint records `GET /__origin/log` keeps (the oldest are dropped). */
export const MAX_MINT_RECORDS = 10_000;

/**
 * Names under which `GET /__origin/stats` counts requests. Every name is present (0 until used) so a
 * reader can subtract two snapshots without checking for missing keys.
 */
export const ROUTE_NAMES = [
  'sign_in',
  'client',
  'mint',
  'end',
  'jwks',
  'backend_mint',
  'test_session_token_create',
  'test_session_token_get',
  'test_session_token_revoke',
  'test_session_token_accept',
  'app_login',
  'app_token',
  'app_logout',
  'app_me',
  'preflight',
] as const;
/** A route's counter: one of `ROUTE_NAMES`, or the name of a route mounted beside the origin's own. */
export type RouteName = (typeof ROUTE_NAMES)[number] | (string & {});

/** The answer of `GET /__origin/stats`. */
export interface OriginStats {
  /** 2xx answers of the frontend token routes (the backend API is not counted). */
  mints: number;
  /** Requests by route name (see `ROUTE_NAMES`), whatever their answer. */
  requests: Record<string, number>;
  /** Frontend mints by session id. */
  sessions: Record<string, { mints: number }>;
  /** The outage mode in force (added after the first three fields; readers of those are unaffected). */
  outage: OutageMode;
  /** The app session routes' counters (see `AppStats`). */
  app: AppStats;
}

function zeroRequests(): Record<string, number> {
  return Object.fromEntries(ROUTE_NAMES.map((name) => [name, 0]));
}

/**
 * The origin's memory.
 *
 * @example
 * const state = new OriginState(Date.now, 60);
 * const client = state.createClient();
 * const session = state.startSession(client, state.userForIdentifier('alice').id, 3600);
 */
export class OriginState {
  readonly #now: () => number;
  readonly #defaultLifetimeSeconds: number;
  readonly #users = new Map<string, User>();
  readonly #clients = new Map<string, Client>();
  readonly #sessions = new Map<string, Session>();
  readonly #testTokens = new Map<string, TestSessionTokenRecord>();
  readonly #testTokensBySecret = new Map<string, TestSessionTokenRecord>();

  #outage: OutageMode = 'off';
  #faults: Faults = { ...NO_FAULTS };
  #lifetimeOverride: number | null = null;
  #mints = 0;
  #requests = zeroRequests();
  #sessionMints = new Map<string, number>();
  #mintLog: MintRecord[] = [];
  /** How far `POST /__origin/clock` has moved this origin's clock ahead of the one it was given (ms). */
  #clockOffsetMs = 0;
  /** The app session routes' families, on this origin's clock. */
  readonly app: AppSessions;

  constructor(now: () => number, defaultLifetimeSeconds: number) {
    this.#now = now;
    this.#defaultLifetimeSeconds = defaultLifetimeSeconds;
    this.app = new AppSessions(() => this.now());
  }

  // Users, clients, sessions

  /** The user of a sign-in identifier, created on first use. */
  userForIdentifier(identifier: string): User {
    return this.ensureUser(userIdFor(identifier));
  }

  /** The user with this id, created on first use (test session tokens name users by id). */
  ensureUser(userId: string): User {
    let user = this.#users.get(userId);
    if (!user) {
      user = { id: userId, createdAt: this.now() };
      this.#users.set(userId, user);
    }
    return user;
  }

  client(clientId: string | null): Client | null {
    return clientId === null ? null : (this.#clients.get(clientId) ?? null);
  }

  createClient(): Client {
    const client: Client = { id: randomId('client'), sessionIds: [], lastActiveSessionId: null };
    this.#clients.set(client.id, client);
    return client;
  }

  session(sessionId: string): Session | null {
    return this.#sessions.get(sessionId) ?? null;
  }

  /** Starts a session on the client and makes it the client's last active one. */
  startSession(client: Client, userId: string, maxDurationSeconds: number): Session {
    const now = this.now();
    const session: Session = { id: randomId('sess'), clientId: client.id, userId, status: 'active', createdAt: now, expireAt: now + maxDurationSeconds * 1000 };
    this.#sessions.set(session.id, session);
    client.sessionIds.push(session.id);
    client.lastActiveSessionId = session.id;
    return session;
  }

  isExpired(session: Session): boolean {
    return this.now() >= session.expireAt;
  }

  /** The sessions `GET /v1/client` lists: active and within their max duration, oldest first. */
  listedSessions(client: Client): Session[] {
    return client.sessionIds.map((id) => this.#sessions.get(id)).filter((s): s is Session => s !== undefined && s.status === 'active' && !this.isExpired(s));
  }

  /** The last active session when it is still listed, else the newest listed one, else null. */
  lastActiveSessionId(client: Client): string | null {
    const listed = this.listedSessions(client);
    if (listed.some((s) => s.id === client.lastActiveSessionId)) return client.lastActiveSessionId;
    return listed.at(-1)?.id ?? null;
  }

  endSession(session: Session): void {
    session.status = 'ended';
  }

  // Test session tokens

  createTestSessionToken(input: {
    userId: string;
    sessionMaxDurationSeconds: number;
    redirectUrl: string;
    urlFor: (token: string) => string;
  }): TestSessionTokenRecord {
    const now = this.now();
    const token = randomSecret();
    const record: TestSessionTokenRecord = {
      id: randomId('tst'),
      userId: input.userId,
      token,
      status: 'pending',
      url: input.urlFor(token),
      redirectUrl: input.redirectUrl,
      sessionMaxDurationSeconds: input.sessionMaxDurationSeconds,
      createdAt: now,
      updatedAt: now,
      sessionId: null,
    };
    this.#testTokens.set(record.id, record);
    this.#testTokensBySecret.set(token, record);
    return record;
  }

  testSessionToken(id: string): TestSessionTokenRecord | null {
    return this.#testTokens.get(id) ?? null;
  }

  testSessionTokenBySecret(token: string): TestSessionTokenRecord | null {
    return this.#testTokensBySecret.get(token) ?? null;
  }

  /** Accepts a pending token on the client: the user exists, a session starts, the token is used. */
  acceptTestSessionToken(record: TestSessionTokenRecord, client: Client): Session {
    this.ensureUser(record.userId);
    const session = this.startSession(client, record.userId, record.sessionMaxDurationSeconds);
    record.status = 'accepted';
    record.sessionId = session.id;
    record.updatedAt = this.now();
    return session;
  }

  /** Revokes the token; the session its acceptance created ends. Revoking twice changes nothing more. */
  revokeTestSessionToken(record: TestSessionTokenRecord): void {
    if (record.status === 'revoked') return;
    record.status = 'revoked';
    record.updatedAt = this.now();
    const session = record.sessionId === null ? null : this.session(record.sessionId);
    if (session) this.endSession(session);
  }

  // Fault controls

  get outage(): OutageMode {
    return this.#outage;
  }

  set outage(mode: OutageMode) {
    this.#outage = mode;
  }

  get faults(): Readonly<Faults> {
    return this.#faults;
  }

  set faults(faults: Faults) {
    this.#faults = { ...faults };
  }

  /** The lifetime of a token minted without a template lifetime or `expires_in_seconds`. */
  get tokenLifetimeSeconds(): number {
    return this.#lifetimeOverride ?? this.#defaultLifetimeSeconds;
  }

  set tokenLifetimeSeconds(seconds: number) {
    this.#lifetimeOverride = seconds;
  }

  // Counters

  countRequest(name: RouteName): void {
    this.#requests[name] = (this.#requests[name] ?? 0) + 1;
  }

  countMint(sessionId: string): void {
    this.#mints += 1;
    this.#sessionMints.set(sessionId, (this.#sessionMints.get(sessionId) ?? 0) + 1);
  }

  /** Records one request of a frontend token route once it is answered. */
  logMint(record: MintRecord): void {
    this.#mintLog.push(record);
    if (this.#mintLog.length > MAX_MINT_RECORDS) this.#mintLog.splice(0, this.#mintLog.length - MAX_MINT_RECORDS);
  }

  /**
   * The mint requests answered since the last reset, in the order they were answered (a copy); with
   * `since`, only those that arrived at or after it (origin clock, ms).
   */
  mintLog(since = -Infinity): MintRecord[] {
    return this.#mintLog.filter((r) => r.at >= since).map((r) => ({ ...r }));
  }

  /**
   * The origin's clock, ms: the clock it was given plus the offset of `POST /__origin/clock`. Every
   * time the origin states or checks (iat, exp, nbf, session expiry, the mint log, `Date`) is read
   * here, so moving the clock moves them all together.
   */
  now(): number {
    return this.#now() + this.#clockOffsetMs;
  }

  /** How far the clock has been moved ahead since the last reset, ms. */
  get clockOffsetMs(): number {
    return this.#clockOffsetMs;
  }

  /** Moves the clock `ms` ahead (`POST /__origin/clock`), until the next reset. */
  advanceClock(ms: number): void {
    this.#clockOffsetMs += ms;
  }

  /** A copy of the counters. */
  stats(): OriginStats {
    return {
      mints: this.#mints,
      requests: { ...this.#requests },
      sessions: Object.fromEntries([...this.#sessionMints].map(([sid, mints]) => [sid, { mints }])),
      outage: this.#outage,
      app: this.app.stats(),
    };
  }

  /**
   * Clears the counters, the mint log, the outage mode, the faults, the lifetime and reuse interval
   * overrides and the clock offset. Users, clients, sessions, test session tokens and app token
   * families stay, so the cookies other tests hold keep working.
   */
  reset(): void {
    this.app.reset();
    this.#mintLog = [];
    this.#clockOffsetMs = 0;
    this.#outage = 'off';
    this.#faults = { ...NO_FAULTS };
    this.#lifetimeOverride = null;
    this.#mints = 0;
    this.#requests = zeroRequests();
    this.#sessionMints = new Map();
  }
}
