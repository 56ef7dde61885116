import type { DevOrigin } from '../../../origin/createDevOrigin.ts';
import type { DevOriginOptions } from '../../../origin/options.ts';
import { origin as control } from '../../support/originApi.ts';
import { serveOrigin, type RunningOrigin } from '../../support/servers.ts';
import type { FakeClock } from './FakeClock.ts';

export interface BrowserCall {
  method: string;
  url: URL;
  /** Engine (fake) time the request was sent. */
  at: number;
  body: string;
}

/**
 * The real development origin on a loopback port. The engine under test talks to it over real
 * HTTP through `browser.fetch`, which plays the browser's part: it carries the `__client` cookie
 * and records every request. The origin keeps real time; only the engine's clock is fake.
 */
export class DevOriginHarness {
  readonly origin: DevOrigin;
  readonly base: string;
  readonly #served: RunningOrigin;

  private constructor(served: RunningOrigin) {
    this.#served = served;
    this.origin = served.origin;
    this.base = served.base;
  }

  static async start(options: DevOriginOptions = {}): Promise<DevOriginHarness> {
    return new DevOriginHarness(await serveOrigin({ faults: true, ...options }));
  }

  close(): Promise<void> {
    return this.#served.close();
  }

  /** A browser with its own cookie jar. */
  browser(clock: FakeClock): Browser {
    return new Browser(this, clock);
  }

  async control(path: 'outage' | 'faults' | 'reset' | 'config', body: object = {}): Promise<void> {
    await control(this.base, `/__origin/${path}`, body);
  }

  outage(mode: 'off' | 'missing_expired_token' | 'down'): Promise<void> {
    return this.control('outage', { mode });
  }

  faults(f: { latencyMs?: number; errorRate?: number; status?: number }): Promise<void> {
    return this.control('faults', f);
  }
}

export class Browser {
  readonly calls: BrowserCall[] = [];
  cookie: string | null = null;
  /** Requests sent and not yet answered. */
  inFlight = 0;
  /** When true, requests go to a closed port: a real network error. */
  offline = false;
  readonly #harness: DevOriginHarness;
  readonly #clock: FakeClock;

  constructor(harness: DevOriginHarness, clock: FakeClock) {
    this.#harness = harness;
    this.#clock = clock;
  }

  /** Signs in as `identifier` (creating the client and cookie on first use); returns the session id. */
  async signIn(identifier = 'alice'): Promise<string> {
    const res = await fetch(`${this.#harness.base}/v1/client/sign_ins`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(this.cookie ? { Cookie: this.cookie } : {}) },
      body: new URLSearchParams({ identifier }).toString(),
    });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0]!;
    const body = (await res.json()) as { response: { id: string } };
    return body.response.id;
  }

  /** Ends a session at the origin behind the engine's back (another tab, another device). */
  async endSession(sessionId: string): Promise<void> {
    const res = await fetch(`${this.#harness.base}/v1/client/sessions/${sessionId}/end`, {
      method: 'POST',
      headers: this.cookie ? { Cookie: this.cookie } : {},
    });
    if (!res.ok) throw new Error(`end answered ${res.status}`);
  }

  fetch: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    this.calls.push({ method: (init?.method ?? 'GET').toUpperCase(), url, at: this.#clock.now(), body: typeof init?.body === 'string' ? init.body : '' });
    const headers = new Headers(init?.headers);
    if (this.cookie) headers.set('Cookie', this.cookie);
    const target = this.offline ? `http://127.0.0.1:9${url.pathname}` : url.href;
    this.inFlight++;
    try {
      return await fetch(target, { ...init, headers });
    } finally {
      this.inFlight--;
    }
  };

  mints(filter?: (call: BrowserCall) => boolean): BrowserCall[] {
    return this.calls.filter((c) => c.method === 'POST' && /\/tokens(\/|$)/.test(c.url.pathname) && (!filter || filter(c)));
  }

  count(kind: 'mint' | 'client' | 'end'): number {
    if (kind === 'mint') return this.mints().length;
    if (kind === 'client') return this.calls.filter((c) => c.method === 'GET' && c.url.pathname === '/v1/client').length;
    return this.calls.filter((c) => c.url.pathname.endsWith('/end')).length;
  }
}
