/**
 * `tabtoken/react` in a real browser: React 19 rendering into the test page, a manager on a real
 * SharedWorker talking to the development origin over real HTTP. The manager is created outside
 * React, as the README shows; a counting wrapper around it sees every subscription and read the
 * hooks make.
 */
import { decodeJwt } from 'jose';
import { StrictMode, useState, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { createTokenManager, type GetTokenOptions, type Snapshot, type TokenManager } from 'tabtoken';
import { describe, expect, onTestFinished } from 'vitest';
import { useAuth, useToken, useTokenSnapshot, type AuthState } from '../../bindings/react.ts';
import { counted } from './support/counted.ts';
import { endAllSessions } from './support/drills.ts';
import { it } from './support/fixtures.ts';
import { advanceOriginClock, signIn } from './support/origin.ts';
import { uniqueNamespace, waitFor } from './support/tabs.ts';

function manager(options: Parameters<typeof createTokenManager>[0] = {}): TokenManager {
  const tokens = createTokenManager({ namespace: uniqueNamespace('react'), ...options });
  onTestFinished(() => tokens.close());
  return tokens;
}

function mount(node: ReactNode): { container: HTMLElement; root: Root } {
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  root.render(node);
  onTestFinished(() => {
    root.unmount();
    container.remove();
  });
  return { container, root };
}

/** The element's text, or null when it is missing or empty. */
const text = (container: HTMLElement, id: string) => container.querySelector(`[data-id="${id}"]`)?.textContent || null;
/** The element's attribute, or null when it is missing or empty. */
const attr = (container: HTMLElement, id: string, name: string) => container.querySelector(`[data-id="${id}"]`)?.getAttribute(name) || null;

function ShowToken({ tokens, options, id = 'token' }: { tokens: TokenManager; options?: GetTokenOptions; id?: string }) {
  const { token, status, error } = useToken(tokens, options);
  return (
    <p data-id={id} data-status={status} data-error={error?.code ?? ''}>
      {token ?? ''}
    </p>
  );
}

/**
 * A component the test re-renders on demand, to learn that React is done: a store's change reaches
 * React as an update of the highest priority (useSyncExternalStore), a state set from outside an
 * event as a default one, and React renders by priority — so once the marker shows its new value,
 * every render a snapshot change asked for before it has happened (and its effects have run).
 */
function renderMarker(): { Marker: () => ReactNode; rendered(container: HTMLElement): Promise<void> } {
  let bumps = 0;
  let set: (n: number) => void = () => {};
  function Marker() {
    const [n, setN] = useState(0);
    set = setN;
    return <i data-id="marker" data-n={n} />;
  }
  return {
    Marker,
    async rendered(container) {
      const n = ++bumps;
      set(n);
      await waitFor(() => attr(container, 'marker', 'data-n') === String(n), 5_000, 'the marker to render');
    },
  };
}

describe('tabtoken/react', () => {
  it('under StrictMode a double mount opens one worker connection and leaves no listener behind', async () => {
    await signIn();
    const RealSharedWorker = globalThis.SharedWorker;
    let workers = 0;
    globalThis.SharedWorker = class extends RealSharedWorker {
      constructor(...args: ConstructorParameters<typeof SharedWorker>) {
        super(...args);
        workers++;
      }
    };
    let tokens: TokenManager;
    try {
      tokens = manager();
      await tokens.ready;
    } finally {
      globalThis.SharedWorker = RealSharedWorker;
    }
    const { manager: watched, counts } = counted(tokens);
    function App() {
      const version = useTokenSnapshot(watched).version;
      const status = useTokenSnapshot(watched, (s) => s.status);
      const auth = useAuth(watched);
      return (
        <div>
          <p data-id="meta">{`${status} ${version} ${auth.isSignedIn}`}</p>
          <ShowToken tokens={watched} />
        </div>
      );
    }
    const { root, container } = mount(
      <StrictMode>
        <App />
      </StrictMode>,
    );
    const jwt = await waitFor(() => text(container, 'token'), 20_000, 'the token to render');
    expect(jwt).toBe(await tokens.getToken());
    // Four hooks hold one subscription each; StrictMode subscribed each once more and released it.
    await waitFor(() => counts.subscribed - counts.unsubscribed === 4, 5_000, 'four live subscriptions');
    expect(counts.subscribed).toBe(8);
    expect(workers).toBe(1);
    expect((await tokens.stats()).tabs).toBe(1);
    // The double-mounted useToken shared one read: its store was subscribed twice, read once.
    expect(counts.reads).toBeLessThanOrEqual(1);
    root.unmount();
    expect(counts.subscribed - counts.unsubscribed).toBe(0);
  });

  it('a selector re-renders only when its slice changes; the whole snapshot re-renders on every change', async () => {
    const sessionId = await signIn();
    const tokens = manager();
    await tokens.ready;
    const renders = { status: 0, whole: 0, session: 0 };
    function StatusOnly() {
      const status = useTokenSnapshot(tokens, (s) => s.status); // an inline selector, as apps write it
      renders.status++;
      return <p data-id="status">{status}</p>;
    }
    function SessionOnly() {
      const session = useTokenSnapshot(tokens, (s) => s.sessionId);
      renders.session++;
      return <p data-id="session">{session ?? 'none'}</p>;
    }
    function Whole() {
      const snapshot: Snapshot = useTokenSnapshot(tokens);
      renders.whole++;
      return <p data-id="version">{snapshot.version}</p>;
    }
    const { Marker, rendered } = renderMarker();
    const { container } = mount(
      <>
        <StatusOnly />
        <SessionOnly />
        <Whole />
        <Marker />
      </>,
    );
    /** Nothing is left on its way: a round trip over the port lands any resync the mirror asked for, then React renders what it had. */
    const settled = async () => {
      await tokens.stats();
      await rendered(container);
    };
    await tokens.getToken();
    await waitFor(() => text(container, 'version') === String(tokens.getSnapshot().version), 5_000, 'the snapshot to render');
    expect(text(container, 'status')).toBe('ok');
    expect(text(container, 'session')).toBe(sessionId);
    const before = { ...renders };
    // Two new tokens for the session: the snapshot changes twice, the status and session do not.
    for (let i = 0; i < 2; i++) {
      await advanceOriginClock(1000); // a later iat
      const version = tokens.getSnapshot().version;
      await tokens.getToken({ skipCache: true });
      expect(tokens.getSnapshot().version).toBeGreaterThan(version);
      await waitFor(() => text(container, 'version') === String(tokens.getSnapshot().version), 5_000, 'the new snapshot to render');
    }
    await settled();
    expect(renders.whole).toBeGreaterThanOrEqual(before.whole + 2);
    expect(renders.status).toBe(before.status);
    expect(renders.session).toBe(before.session);
    // The status changes: that selector renders once more.
    await tokens.signOut();
    await waitFor(() => text(container, 'status') === 'signed-out', 5_000, 'the sign-out to render');
    await settled();
    expect(renders.status).toBe(before.status + 1);
  });

  it('useToken starts the mint, follows every refresh, restarts nothing for an inline literal, and reads new options', async () => {
    await signIn();
    const tokens = manager({ pollIntervalMs: 1000 });
    const { manager: watched, counts } = counted(tokens);
    let rerender: () => void = () => {};
    let choose: (template: string) => void = () => {};
    function Page() {
      const [n, setN] = useState(0);
      const [template, setTemplate] = useState('api');
      rerender = () => setN((x) => x + 1);
      choose = setTemplate;
      return (
        <div data-n={n}>
          <ShowToken tokens={watched} />
          {/* A new object literal on every render. */}
          <ShowToken tokens={watched} options={{ template }} id="templated" />
        </div>
      );
    }
    const { container } = mount(<Page />);
    // Nothing was asked for before the hooks: they started the mints.
    const first = await waitFor(() => text(container, 'token'), 20_000, 'the default token');
    expect(first).toBe(await tokens.getToken());
    const api = await waitFor(() => text(container, 'templated'), 20_000, 'the api token');
    expect(decodeJwt(api).aud).toBe('api');

    // A refresh of the default token, from anywhere, reaches the hook.
    await advanceOriginClock(1000);
    const refreshed = await tokens.getToken({ skipCache: true });
    expect(refreshed).not.toBe(first);
    await waitFor(() => text(container, 'token') === refreshed, 5_000, 'the refreshed token to render');

    // Re-rendering with a new literal of the same options restarts nothing.
    const { subscribed, reads } = counts;
    // Five re-renders, each on its own: the next one only once the last has shown.
    for (let n = 1; n <= 5; n++) {
      rerender();
      await waitFor(() => container.querySelector(`[data-n="${n}"]`), 2_000, `re-render ${n} of five`);
    }
    expect(counts.subscribed).toBe(subscribed);
    expect(counts.reads).toBe(reads);
    expect(text(container, 'templated')).toBe(api);

    // New options: the token of the new key. `short` lives 20 s, so it turns stale 5 s after it
    // arrives; the hook follows its refreshes with no call from the page.
    choose('short');
    const short = await waitFor(
      () => {
        const jwt = text(container, 'templated');
        return jwt && jwt !== api ? jwt : null;
      },
      10_000,
      'the short token',
    );
    expect(decodeJwt(short).aud).toBeUndefined();
    const next = await waitFor(
      () => {
        const jwt = text(container, 'templated');
        return jwt && jwt !== short ? jwt : null;
      },
      25_000,
      'the short token to be refreshed',
    );
    expect(decodeJwt(next).exp).toBeGreaterThan(decodeJwt(short).exp!);
    expect(attr(container, 'templated', 'data-status')).toBe('ok');
  });

  it('useToken reports a failed read as its error, with no token', async () => {
    await signIn();
    const tokens = manager();
    const { container } = mount(<ShowToken tokens={tokens} options={{ template: 'nope' }} />);
    await waitFor(() => attr(container, 'token', 'data-error'), 20_000, 'the error to render');
    expect(attr(container, 'token', 'data-error')).toBe('origin_response');
    expect(text(container, 'token')).toBeNull();
    expect(attr(container, 'token', 'data-status')).toBe('ok');
  });

  it('useAuth: not loaded, then signed out, signed in when the browser signs in, signed out again', async () => {
    await endAllSessions();
    const tokens = manager({ pollIntervalMs: 1000 });
    const seen: AuthState[] = [];
    let current: AuthState | null = null;
    function Account() {
      const auth = useAuth(tokens);
      current = auth;
      if (seen.at(-1) !== auth) seen.push(auth);
      if (!auth.isLoaded) return <p data-id="auth">loading</p>;
      return (
        <div>
          <p data-id="auth">{auth.isSignedIn ? `in ${auth.sessionId}` : 'out'}</p>
          {auth.isSignedIn && (
            <button type="button" data-id="signout" onClick={() => void auth.signOut()}>
              Sign out
            </button>
          )}
        </div>
      );
    }
    const { container } = mount(<Account />);
    await waitFor(() => seen.length > 0, 5_000, 'the first render');
    expect(seen[0]).toEqual({
      isLoaded: false,
      isSignedIn: undefined,
      sessionId: undefined,
      userId: undefined,
      claims: undefined,
      getToken: undefined,
      signOut: undefined,
    });
    await waitFor(() => text(container, 'auth') === 'out', 20_000, 'signed out');
    expect(current).toMatchObject({ isLoaded: true, isSignedIn: false, sessionId: null, userId: null, claims: null });

    // A sign-in made outside the manager (the app's own form) reaches it at its next poll.
    const sessionId = await signIn();
    await waitFor(() => text(container, 'auth') === `in ${sessionId}`, 10_000, 'signed in');
    const auth = current as unknown as AuthState;
    if (!auth.isSignedIn) throw new Error('expected a signed-in state');
    const snapshot = tokens.getSnapshot();
    expect(auth.userId).toBe(snapshot.userId);
    expect(auth.claims).toBe(snapshot.claims);
    const jwt = await auth.getToken();
    expect(decodeJwt(jwt!).sid).toBe(sessionId);

    (container.querySelector('[data-id="signout"]') as HTMLButtonElement).click();
    await waitFor(() => text(container, 'auth') === 'out', 10_000, 'signed out again');
    const client = (await (await fetch('/v1/client')).json()) as { response: { sessions: { id: string; status: string }[] } | null };
    expect(client.response?.sessions.some((s) => s.id === sessionId && s.status === 'active') ?? false).toBe(false);
    expect(await tokens.getToken()).toBeNull();
  });
});
