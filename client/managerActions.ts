/**
 * The manager's methods that are not on the path to a token — switching, re-reading and ending the
 * session, signing in by redirect (OpenID Connect), `tokens.fetch`, `stats()` — loaded on first use
 * (and ahead of it, once the manager is ready, so that a sign-out does not wait for the network).
 */
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
  /** Resolves once this tab's snapshot shows `version` (or after a moment, in any case). */
  atVersion(version: number): Promise<void>;
  /** The tab's copy of the engine's snapshot. */
  mirror: SnapshotMirror;
  /** The manager's token path (`getToken`, `getSnapshot`). */
  tokens: Pick<TokenManager, 'getToken' | 'getSnapshot'>;
  reads: { hits: number; misses: number };
}

const PARAMS_OF_THE_ANSWER = ['code', 'state', 'iss', 'session_state', 'error', 'error_description', 'error_uri'];

function oidcOnly(m: ManagerCore, what: string): void {
  if (!m.config.oidc) throw new InvalidArgumentError(`${what}() is for OpenID Connect managers (the oidc option); a Clerk manager signs in at its origin`);
}

function text(value: unknown, option: string): string | null {
  if (value === undefined) return null;
  if (typeof value === 'string' && value.length > 0 && value.length <= 256) return value;
  throw new InvalidArgumentError(`signIn: ${option} must be a string of 1 to 256 characters`);
}

export async function setActiveSession(m: ManagerCore, sessionId: string | null): Promise<void> {
  await m.atVersion(await m.call('setActiveSession', sessionId === null ? null : validateSessionId(sessionId)));
}

export async function sync(m: ManagerCore): Promise<void> {
  await m.atVersion(await m.call('sync', null));
}

export async function signOut(m: ManagerCore): Promise<void> {
  const { version, redirect } = await m.call('signOut', null);
  await m.atVersion(version);
  // An OpenID provider's logout: this tab goes there (the others are signed out already).
  if (redirect) location.assign(redirect);
}

export async function stats(m: ManagerCore): Promise<Stats> {
  return { ...(await m.call('stats', null)), tab: { ...m.reads } };
}

function fetchWithToken(m: ManagerCore, input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const isDpop = (token: string) => Object.values(m.tokens.getSnapshot().tokens).some((e) => e.jwt === token && e.scheme === 'DPoP');
  return authorizedFetch({ getToken: (options) => m.tokens.getToken(options), isDpop, proof: (request) => m.call('proof', request) }, m.fetchOrigins, input, init);
}

/** Has the engine make an authorization request, then sends this tab to the provider. */
export async function signIn(m: ManagerCore, options: unknown): Promise<void> {
  oidcOnly(m, 'signIn');
  const o = (options ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object' || Object.keys(o).some((k) => !['prompt', 'loginHint', 'returnTo'].includes(k))) {
    throw new InvalidArgumentError('signIn options must be an object with only prompt, loginHint, returnTo');
  }
  const returnTo = o.returnTo ?? location.pathname + location.search + location.hash;
  // A path of this app, never a URL: what the app navigates to afterwards cannot be another site.
  if (typeof returnTo !== 'string' || !/^\/(?![/\\])/.test(returnTo)) throw new InvalidArgumentError('signIn: returnTo must be a path starting with a single "/"');
  location.assign(await m.call('signIn', { prompt: text(o.prompt, 'prompt'), loginHint: text(o.loginHint, 'loginHint'), returnTo }));
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
    await m.atVersion(version);
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
