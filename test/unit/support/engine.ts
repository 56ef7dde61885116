import { DEFAULT_ENDPOINTS, MIN_LEEWAY_S } from '../../../protocol/constants.ts';
import type { EngineConfig, TokenRequest } from '../../../protocol/types.ts';
import { createEngine, type EngineOverrides } from '../../../worker/createEngine.ts';
import type { TokenStore } from '../../../engine/TokenStore.ts';
import { FakeClock, flush, until } from './FakeClock.ts';
import type { Browser, DevOriginHarness } from './DevOriginHarness.ts';
import { ScriptedOrigin } from './ScriptedOrigin.ts';

export function engineConfig(overrides: Partial<EngineConfig> = {}): EngineConfig {
  return {
    frontendApi: 'https://origin.test',
    namespace: '',
    persist: false,
    pollIntervalMs: 5000,
    verify: null,
    endpoints: { ...DEFAULT_ENDPOINTS },
    credentials: 'include',
    oidc: null,
    endpoint: null,
    ...overrides,
  };
}

export function req(overrides: Partial<TokenRequest> = {}): TokenRequest {
  return { template: null, organizationId: null, expiresInSeconds: null, skipCache: false, leewayInSeconds: MIN_LEEWAY_S, ...overrides };
}

/** An engine on a fake clock talking to a ScriptedOrigin; ready, one tab, the default token minted. */
export async function scripted(
  o: {
    config?: Partial<EngineConfig>;
    store?: TokenStore | null;
    random?: () => number;
    clock?: FakeClock;
    origin?: ScriptedOrigin;
    tabs?: number;
    waitDefault?: boolean;
  } = {},
) {
  const clock = o.clock ?? new FakeClock();
  const origin = o.origin ?? new ScriptedOrigin(clock);
  const deps: EngineOverrides = { clock, fetch: origin.fetch, store: o.store ?? null, random: o.random ?? (() => 0.5) };
  const engine = createEngine(engineConfig({ persist: o.store != null, ...o.config }), deps);
  const errors: unknown[] = [];
  engine.onError((e) => errors.push(e));
  await engine.ready;
  engine.setTabCount(o.tabs ?? 1);
  if (o.waitDefault !== false) await until(() => engine.snapshot().tokens[`${origin.lastActive ?? 'sess_1'}|||`]);
  return { clock, origin, engine, errors };
}

/** An engine on a fake clock talking over real HTTP to the development origin, signed in as a new browser. */
export async function withOrigin(
  harness: DevOriginHarness,
  o: {
    clock?: FakeClock;
    browser?: Browser;
    signIn?: boolean;
    store?: TokenStore | null;
    tabs?: number;
    config?: Partial<EngineConfig>;
    random?: () => number;
    waitDefault?: boolean;
  } = {},
) {
  const clock = o.clock ?? new FakeClock();
  const browser = o.browser ?? harness.browser(clock);
  const sessionId = o.signIn === false ? null : await browser.signIn();
  const engine = createEngine(engineConfig({ frontendApi: harness.base, persist: o.store != null, ...o.config }), {
    clock,
    fetch: browser.fetch,
    store: o.store ?? null,
    random: o.random ?? (() => 0.5),
  });
  const errors: unknown[] = [];
  engine.onError((e) => errors.push(e));
  await engine.ready;
  engine.setTabCount(o.tabs ?? 0);
  if (sessionId !== null && o.waitDefault !== false) await until(() => engine.snapshot().tokens[`${sessionId}|||`]);
  const settle = async () => {
    await until(() => browser.inFlight === 0);
    await flush(20);
  };
  return { clock, browser, engine, errors, sessionId: sessionId ?? '', settle, defaultKey: `${sessionId}|||` };
}
