/**
 * `tabtoken/react`: hooks over a token manager created outside React (at module scope). Each is a
 * `useSyncExternalStore` over the manager's `subscribe`/`getSnapshot`, with the client snapshot as
 * the server snapshot too: during server-side rendering the hooks give the `connecting` values.
 * Subscriptions are made by React when it commits and released when it unmounts, so a StrictMode
 * double mount leaves no listener behind, and nothing here opens a connection of its own.
 */
import { useMemo, useSyncExternalStore } from 'react';
import type { GetTokenOptions, Snapshot, TokenManager } from 'tabtoken';
import { createTokenStore, optionsKey, type TokenState } from './tokenState.ts';

export type { TokenState } from './tokenState.ts';

/**
 * The manager's snapshot, re-rendering on every change; or, with `select`, the slice it picks,
 * re-rendering only when that slice changes (`Object.is`). A selector that builds a new object or
 * array each time re-renders on every change: pick a value, or an object the snapshot holds.
 *
 * @example
 * import { useTokenSnapshot } from 'tabtoken/react';
 * import { tokens } from './tokens';  // createTokenManager() at module scope
 *
 * function Status() {
 *   const status = useTokenSnapshot(tokens, (s) => s.status); // renders only when the status changes
 *   return <span>{status}</span>;
 * }
 */
export function useTokenSnapshot(tokens: TokenManager): Snapshot;
export function useTokenSnapshot<T>(tokens: TokenManager, select: (snapshot: Snapshot) => T): T;
export function useTokenSnapshot<T>(tokens: TokenManager, select?: (snapshot: Snapshot) => T): Snapshot | T {
  // Kept across renders even with an inline `select`: a new subscription on every render would churn.
  const subscribe = useMemo(() => (listener: () => void) => tokens.subscribe(listener), [tokens]);
  const get = useMemo(() => {
    if (select === undefined) return () => tokens.getSnapshot();
    let last: { snapshot: Snapshot; slice: T } | null = null;
    return (): T => {
      const snapshot = tokens.getSnapshot();
      if (last !== null && last.snapshot === snapshot) return last.slice;
      const slice = select(snapshot);
      last = { snapshot, slice: last !== null && Object.is(last.slice, slice) ? last.slice : slice };
      return last.slice;
    };
  }, [tokens, select]);
  return useSyncExternalStore<Snapshot | T>(subscribe, get, get);
}

/**
 * The token for `options`, kept current as it refreshes: a mint starts when there is none, and
 * every refresh re-renders with the new token. `options` are compared by value (their cache key,
 * leeway and `skipCache`), so an inline object literal restarts nothing.
 *
 * @example
 * import { useToken } from 'tabtoken/react';
 *
 * function Orders() {
 *   const { token, status, error } = useToken(tokens, { template: 'api' });
 *   if (error) return <p>No token: {error.code}</p>;
 *   if (!token) return <p>{status === 'signed-out' ? 'Please sign in' : 'Loading…'}</p>;
 *   return <OrderList token={token} />;
 * }
 */
export function useToken(tokens: TokenManager, options?: GetTokenOptions): TokenState {
  const key = optionsKey(options);
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed by the options' value, so a new literal with the same values keeps the store
  const store = useMemo(() => createTokenStore(tokens, options), [tokens, key]);
  return useSyncExternalStore(store.subscribe, store.getState, store.getState);
}

/** `getToken` and `signOut` of the manager, as `useAuth` hands them out. */
export interface AuthActions {
  getToken: TokenManager['getToken'];
  signOut: TokenManager['signOut'];
}

/** What `useAuth` gives before the manager has its first snapshot. */
export interface AuthLoading {
  isLoaded: false;
  isSignedIn: undefined;
  sessionId: undefined;
  userId: undefined;
  claims: undefined;
  getToken: undefined;
  signOut: undefined;
}

/** Signed out, or no session known (a cold start while the origin is unreachable). */
export interface AuthSignedOut extends AuthActions {
  isLoaded: true;
  isSignedIn: false;
  sessionId: null;
  userId: null;
  claims: null;
}

export interface AuthSignedIn extends AuthActions {
  isLoaded: true;
  isSignedIn: true;
  sessionId: string;
  /** The session's user; `null` until the engine has learnt it. */
  userId: string | null;
  /** The default token's JWT payload; `null` until the engine has one. */
  claims: Readonly<Record<string, unknown>> | null;
}

export type AuthState = AuthLoading | AuthSignedIn | AuthSignedOut;

const LOADING: AuthLoading = Object.freeze({
  isLoaded: false,
  isSignedIn: undefined,
  sessionId: undefined,
  userId: undefined,
  claims: undefined,
  getToken: undefined,
  signOut: undefined,
});

/** One object per manager and state, so `useAuth` re-renders only when one of its fields changes. */
const lastAuth = new WeakMap<TokenManager, AuthSignedIn | AuthSignedOut>();

function authOf(tokens: TokenManager, snapshot: Snapshot): AuthState {
  if (snapshot.status === 'connecting') return LOADING;
  const previous = lastAuth.get(tokens);
  const signedIn = snapshot.sessionId !== null && snapshot.status !== 'signed-out';
  const sessionId = signedIn ? snapshot.sessionId : null;
  const userId = signedIn ? snapshot.userId : null;
  const claims = signedIn ? snapshot.claims : null;
  if (previous && previous.sessionId === sessionId && previous.userId === userId && previous.claims === claims) return previous;
  const actions: AuthActions = previous ?? { getToken: (options) => tokens.getToken(options), signOut: () => tokens.signOut() };
  const next: AuthSignedIn | AuthSignedOut = signedIn
    ? Object.freeze({ isLoaded: true, isSignedIn: true, sessionId: sessionId!, userId, claims, getToken: actions.getToken, signOut: actions.signOut })
    : Object.freeze({ isLoaded: true, isSignedIn: false, sessionId: null, userId: null, claims: null, getToken: actions.getToken, signOut: actions.signOut });
  lastAuth.set(tokens, next);
  return next;
}

/**
 * The session as Clerk's `useAuth` users know it. Before the manager has its first snapshot (and
 * during server-side rendering) `isLoaded` is false and every other field `undefined`; then
 * `isSignedIn`, `sessionId`, `userId` and `claims` follow the session in every tab, and `getToken`
 * and `signOut` are the manager's (the same functions on every render).
 *
 * @example
 * import { useAuth } from 'tabtoken/react';
 *
 * function Account() {
 *   const { isLoaded, isSignedIn, userId, signOut } = useAuth(tokens);
 *   if (!isLoaded) return null;
 *   if (!isSignedIn) return <a href="/sign-in">Sign in</a>;
 *   return <button onClick={() => signOut()}>Sign out {userId}</button>;
 * }
 */
export function useAuth(tokens: TokenManager): AuthState {
  const select = useMemo(() => (snapshot: Snapshot) => authOf(tokens, snapshot), [tokens]);
  return useTokenSnapshot(tokens, select);
}
