import { testKeys, signToken } from './tokens.ts';
import type { FakeClock } from './FakeClock.ts';

export interface Call {
  method: string;
  url: URL;
  route: 'mint' | 'client' | 'end' | 'jwks' | 'other';
  sessionId: string | null;
  template: string | null;
  body: URLSearchParams;
  /** Engine (fake) time the request was sent. */
  at: number;
  /** Aborted when the engine gives up on the request (its 10 s timeout, close). */
  signal: AbortSignal | null;
}

export type Handler = (call: Call, origin: ScriptedOrigin) => Response | Promise<Response>;

/**
 * A fetch that answers like the token origin, for the responses a real origin cannot be asked to
 * produce (invalid tokens, exact status codes and headers) and for races that need a response held
 * back. Its time is the engine's fake time plus `offsetMs`, so tokens age as the fake clock moves.
 */
export class ScriptedOrigin {
  readonly base = 'https://origin.test';
  readonly calls: Call[] = [];
  /** Sessions GET /v1/client lists as active; the first is last_active. null: no client. */
  sessions: string[] | null = ['sess_1'];
  lastActive: string | null = 'sess_1';
  lifetimeS = 60;
  /** When the listed sessions end (`expire_at`, origin time); after it they are no longer listed. */
  sessionEndsAt: number | null = null;
  /** Origin time minus engine time. */
  offsetMs = 0;
  /** Answers for the next mint requests, in order; then `mintHandler`. */
  readonly #queue: Handler[] = [];
  mintHandler: Handler = (call, origin) => origin.mintOk(call);
  #clock: FakeClock;

  constructor(clock: FakeClock) {
    this.#clock = clock;
  }

  originNowMs(): number {
    return this.#clock.now() + this.offsetMs;
  }

  /** The next mint gets this answer. */
  once(handler: Handler): this {
    this.#queue.push(handler);
    return this;
  }

  /** The next mint waits until `release()` (then answers with `handler`, default a valid token). */
  hold(handler?: Handler): { release: () => void; started: Promise<void> } {
    let release!: () => void;
    let started!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const startedP = new Promise<void>((r) => (started = r));
    this.#queue.push(async (call, origin) => {
      started();
      await gate;
      return (handler ?? ((c, o) => o.mintOk(c)))(call, origin);
    });
    return { release, started: startedP };
  }

  mints(): Call[] {
    return this.calls.filter((c) => c.route === 'mint');
  }

  count(route: Call['route']): number {
    return this.calls.filter((c) => c.route === route).length;
  }

  fetch: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = (init?.method ?? 'GET').toUpperCase();
    const body = new URLSearchParams(typeof init?.body === 'string' ? init.body : '');
    const path = url.pathname;
    const mint = method === 'POST' ? path.match(/^\/v1\/client\/sessions\/([^/]+)\/tokens(?:\/([^/]+))?$/) : null;
    const end = method === 'POST' ? path.match(/^\/v1\/client\/sessions\/([^/]+)\/end$/) : null;
    const call: Call = { method, url, route: 'other', sessionId: null, template: null, body, at: this.#clock.now(), signal: init?.signal ?? null };
    if (mint) {
      call.route = 'mint';
      call.sessionId = decodeURIComponent(mint[1]!);
      call.template = mint[2] === undefined ? null : decodeURIComponent(mint[2]);
    } else if (end) {
      call.route = 'end';
      call.sessionId = decodeURIComponent(end[1]!);
    } else if (method === 'GET' && path === '/v1/client') call.route = 'client';
    else if (method === 'GET' && path === '/.well-known/jwks.json') call.route = 'jwks';
    this.calls.push(call);
    if (init?.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    switch (call.route) {
      case 'mint': {
        const handler = this.#queue.shift() ?? this.mintHandler;
        const response = handler(call, this);
        return init?.signal ? raceAbort(Promise.resolve(response), init.signal) : response;
      }
      case 'client': {
        const ended = this.sessionEndsAt !== null && this.originNowMs() >= this.sessionEndsAt;
        return this.json(200, {
          response:
            this.sessions === null
              ? null
              : {
                  sessions: ended
                    ? []
                    : this.sessions.map((id) => ({ id, status: 'active', user_id: 'user_1', expire_at: this.sessionEndsAt ?? this.originNowMs() + 3_600_000 })),
                  last_active_session_id: ended ? null : this.lastActive,
                },
        });
      }
      case 'end':
        return this.json(200, { response: { id: call.sessionId, status: 'ended' } });
      case 'jwks':
        return this.json(200, { keys: [(await testKeys()).jwk] });
      default:
        return this.error(404, 'not_found');
    }
  };

  /** A JSON response stamped with the origin's Date. */
  json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
    return new Response(JSON.stringify(body), {
      status,
      headers: { 'Content-Type': 'application/json', Date: new Date(this.originNowMs()).toUTCString(), ...headers },
    });
  }

  error(status: number, code: string, headers: Record<string, string> = {}): Response {
    return this.json(status, { errors: [{ code, message: code, long_message: code }] }, headers);
  }

  /** A valid token for the call, like the real origin would mint; `claims` overrides. */
  async mintOk(call: Call, claims: { iat?: number; exp?: number; oiat?: number | null; sid?: string; lifetimeS?: number } = {}): Promise<Response> {
    return this.json(200, { object: 'token', jwt: await this.token(call, claims) });
  }

  async token(
    call: Pick<Call, 'sessionId' | 'body'>,
    claims: { iat?: number; exp?: number; oiat?: number | null; sid?: string; lifetimeS?: number } = {},
  ): Promise<string> {
    const iat = claims.iat ?? Math.floor(this.originNowMs() / 1000);
    const requested = call.body.get('expires_in_seconds');
    const lifetime = claims.lifetimeS ?? (requested ? Number(requested) : this.lifetimeS);
    return signToken({
      sid: claims.sid ?? call.sessionId ?? 'sess_1',
      iat,
      exp: claims.exp ?? iat + lifetime,
      ...(claims.oiat !== undefined ? { oiat: claims.oiat } : {}),
    });
  }
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new DOMException('The operation was aborted', 'AbortError'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
