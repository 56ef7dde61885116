/**
 * The manager's methods that are not on the path to a token — switching, re-reading and ending the
 * session, signing in by redirect (OpenID Connect), `tokens.fetch`, `stats()` — loaded on first use
 * (and ahead of it, once the manager is ready, so that a sign-out does not wait for the network).
 */
import { MIN_LEEWAY_S } from '../protocol/constants.ts';
import { InvalidArgumentError } from '../protocol/errors.ts';
import type { Operation, Operations } from '../protocol/operations.ts';
import { validateSessionId } from './options.ts';
import type { EngineConfig, Snapshot, Stats, TokenRequest } from '../protocol/types.ts';
import { systemClock } from '../protocol/clock.ts';
import type { TokenManager } from './TokenManager.ts';
import type { SnapshotMirror } from './SnapshotMirror.ts';
import { authorizedFetch } from './authorizedFetch.ts';

/** What the actions need of the manager that loaded them. */
export interface ManagerCore {
  config: EngineConfig;
  fetchOrigins: readonly string[];
  call<K extends Operation>(op: K, arg: Operations[K][0]): Promise<Operations[K][1]>;
  /** The tab's copy of the engine's snapshot. */
  mirror: SnapshotMirror;
  /** The manager's token path (`getToken`, `getSnapshot`). */
  tokens: Pick<TokenManager, 'getToken' | 'peekToken' | 'getSnapshot'>;
  reads: { hits: number; misses: number };
}

const PARAMS_OF_THE_ANSWER = ['code', 'state', 'iss', 'session_state', 'error', 'error_description', 'error_uri'];

function oidcOnly(m: ManagerCore, what: string): void {
  if (!m.config.oidc)
    throw new InvalidArgumentError(
      `${what}() is for OpenID Connect managers (the oidc option); ${m.config.endpoint ? 'with endpoint the app signs in on its own page, then calls sync()' : 'a Clerk manager signs in at its origin, then calls sync()'}`,
    );
}

function text(value: unknown, option: string): string | null {
  if (value === undefined) return null;
  if (typeof value === 'string' && value.length > 0 && value.length <= 256) return value;
  throw new InvalidArgumentError(`signIn: ${option} must be a string of 1 to 256 characters`);
}

/** Resolves once this tab's snapshot shows `version` (or after a moment, in any case). */
const atVersion = (m: ManagerCore, version: number): Promise<void> => shown(m, undefined, (s) => s.version >= version, 2000);

export async function setActiveSession(m: ManagerCore, sessionId: string | null): Promise<void> {
  await atVersion(m, await m.call('setActiveSession', sessionId === null ? null : validateSessionId(sessionId)));
}

export async function sync(m: ManagerCore): Promise<void> {
  await atVersion(m, await m.call('sync', null));
}

/**
 * Where the worker sends this tab (the provider's authorization or logout endpoint), as a URL the
 * tab may navigate to: http or https only. The worker checked the endpoint already; a second look
 * here means that no bug or hostile value on the way can make `location.assign` run a
 * `javascript:` URL in the app's origin.
 */
function navigable(value: unknown): string | null {
  try {
    const url = typeof value === 'string' ? new URL(value) : null;
    return url && (url.protocol === 'https:' || url.protocol === 'http:') ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * `returnTo` as the URL parser reads it against this page's origin: its path, search and hash, or
 * null when it names another origin. `/\t/evil.com`, `/\evil.com` and `//evil.com` all resolve to
 * `https://evil.com/`; `/%09/evil.com` stays a path.
 */
function resolveReturnTo(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 2048) return null;
  let url: URL;
  try {
    url = new URL(value, location.origin);
  } catch {
    return null;
  }
  return url.origin === location.origin ? url.pathname + url.search + url.hash : null;
}

export async function signOut(m: ManagerCore): Promise<void> {
  const { version, redirect } = await m.call('signOut', null);
  await atVersion(m, version);
  // An OpenID provider's logout: this tab goes there (the others are signed out already). Anything
  // but an http(s) URL is not followed: the sign-out has happened, and the promise still resolves.
  const to = redirect ? navigable(redirect) : null;
  if (to) location.assign(to);
}

export async function stats(m: ManagerCore): Promise<Stats> {
  return { ...(await m.call('stats', null)), tab: { ...m.reads } };
}

function fetchWithToken(m: ManagerCore, input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const isDpop = (token: string) => Object.values(m.tokens.getSnapshot().tokens).some((e) => e.jwt === token && e.scheme === 'DPoP');
  const renew = (refused: string) =>
    m.call('getToken', { template: null, organizationId: null, expiresInSeconds: null, skipCache: true, leewayInSeconds: MIN_LEEWAY_S, refused });
  return authorizedFetch(
    { getToken: (options) => m.tokens.getToken(options), peekToken: () => m.tokens.peekToken(), renew, isDpop, proof: (request) => m.call('proof', request) },
    m.fetchOrigins,
    input,
    init,
  );
}

/** Has the engine make an authorization request, then sends this tab to the provider. */
export async function signIn(m: ManagerCore, options: unknown): Promise<void> {
  oidcOnly(m, 'signIn');
  const o = (options ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object' || Object.keys(o).some((k) => !['prompt', 'loginHint', 'returnTo'].includes(k))) {
    throw new InvalidArgumentError('signIn options must be an object with only prompt, loginHint, returnTo');
  }
  // A place in this app, never another site: what the app navigates to afterwards is kept as a path.
  const returnTo = resolveReturnTo(o.returnTo ?? location.pathname + location.search + location.hash);
  if (returnTo === null) throw new InvalidArgumentError(`signIn: returnTo must be a path of this app (a URL on ${location.origin})`);
  const to = navigable(await m.call('signIn', { prompt: text(o.prompt, 'prompt'), loginHint: text(o.loginHint, 'loginHint'), returnTo }));
  if (!to) throw new InvalidArgumentError("signIn: the provider's authorization endpoint is not an http(s) URL; this tab stays here");
  location.assign(to);
}

/**
 * Hands the provider's answer to the engine and resolves once this tab's snapshot shows the new
 * grant. The answer's parameters leave the address bar either way: a reload must not present a used
 * `state` again.
 */
export async function handleRedirect(m: ManagerCore, url: unknown = location.href): Promise<{ returnTo: string }> {
  oidcOnly(m, 'handleRedirect');
  if (typeof url !== 'string' && !(url instanceof URL)) throw new InvalidArgumentError('handleRedirect: url must be a string or a URL');
  const answer = new URL(url, location.href);
  if (!answer.searchParams.has('code') && !answer.searchParams.has('error')) {
    throw new InvalidArgumentError(`handleRedirect: ${answer.origin}${answer.pathname} carries neither code nor error: it is not an answer of the provider`);
  }
  try {
    const { returnTo, version } = await m.call('handleRedirect', answer.href);
    await atVersion(m, version);
    return { returnTo };
  } finally {
    if (answer.href === location.href) {
      for (const name of PARAMS_OF_THE_ANSWER) answer.searchParams.delete(name);
      history.replaceState(history.state, '', answer.href);
    }
  }
}

export { fetchWithToken as fetch };

/**
 * Resolves with `value` once this tab's mirror `shows` it, so that after `await getToken()` the
 * snapshot and `peekToken()` agree with it, and after `await sync()` the snapshot shows the
 * session. The reply and the channel message travel apart, in either order:
 *
 *   worker  publish token ─────channel──────────────► mirror applies
 *           reply ─────port────► getToken waits ──────────────────► resolves
 *
 * What the mirror never shows (a token replaced at once by a newer one, a version of a worker that
 * died meanwhile, a channel message lost or forged) is given after a moment anyway, and the mirror,
 * which the engine's answer contradicts, asks for the engine's snapshot (SPEC 6).
 */
export function shown<T>(m: ManagerCore, value: T, shows: (snapshot: Snapshot) => boolean, ms = 250): Promise<T> {
  return new Promise<T>((resolve) => {
    const done = () => {
      off();
      systemClock.clearTimeout(timer);
      resolve(value);
    };
    const check = () => shows(m.mirror.snapshot) && done();
    const off = m.mirror.subscribe(check);
    const timer = systemClock.setTimeout(() => {
      m.mirror.resync();
      done();
    }, ms);
    check();
  });
}

/** A read the mirror could not answer: the engine's answer, once this tab's snapshot shows it. */
export async function fromEngine(m: ManagerCore, request: TokenRequest): Promise<string | null> {
  const jwt = await m.call('getToken', request);
  return shown(m, jwt, (s) => jwt === null || Object.values(s.tokens).some((t) => t.jwt === jwt));
}
