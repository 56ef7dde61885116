/**
 * An HTTP-aware fault layer around the provider's own request handler, for what the stoppable TCP
 * proxy cannot do: act on one path while every other keeps answering. The provider stays the real
 * one — it handles every request that is not dropped, exactly as it would — and the layer changes
 * only what reaches the wire:
 * - `drop`: the connection is closed before the provider sees the request (a JWKS path that is
 *   unreachable while discovery and the token endpoint answer);
 * - `hold`: the provider handles the request at once (a refresh token rotates, its events fire) and
 *   its answer leaves `ms` later (an answer slow on the way back);
 * - `rewrite`: the answer's JSON body is changed on its way out (a provider that names another
 *   `token_type` than oidc-provider does).
 *
 * It sits behind the proxy (app → proxy → fault layer → provider), so stopping the proxy still takes
 * the whole provider down, and the `Host` the provider sees is still the proxy's.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

/** What happens to a request a rule matches. */
export type Fault = { kind: 'drop' } | { kind: 'hold'; ms: number } | { kind: 'rewrite'; body: (json: Record<string, unknown>) => Record<string, unknown> };

/** Which requests a fault applies to. */
export interface FaultRule {
  /** The request path (no query), e.g. `/jwks`. */
  path: string;
  /** Only this method (`'POST'`); default any. */
  method?: string;
  fault: Fault;
  /** How many requests it applies to before it stops by itself; default every one until removed. */
  times?: number;
}

/** The faults of a running provider. */
export interface ProviderFaults {
  /** Adds a rule (the first matching rule applies); returns the function that removes it. */
  add(rule: FaultRule): () => void;
  /** Shorthand: every request to `path` meets a closed connection until the returned function is called. */
  unreachable(path: string): () => void;
  /** Shorthand: the answers to the next `times` (default 1) POSTs to `path` leave `ms` after the provider sent them. */
  hold(path: string, ms: number, times?: number): () => void;
  /** Removes every rule. */
  clear(): void;
  /** Requests each path's rules have acted on so far. */
  hits(path: string): number;
}

type Writer = (...args: unknown[]) => unknown;

/** `res.write` and `res.end` queued until `ms` after the provider ends its answer. */
function holdAnswer(res: ServerResponse, ms: number): void {
  const target = res as unknown as { write: Writer; end: Writer };
  const write = target.write.bind(res);
  const end = target.end.bind(res);
  const queued: unknown[][] = [];
  target.write = (...args) => {
    queued.push(args);
    return true;
  };
  target.end = (...args) => {
    const timer = setTimeout(() => {
      for (const chunk of queued) write(...chunk);
      end(...args);
    }, ms);
    // The client gave up: nothing is left to send to.
    res.once('close', () => clearTimeout(timer));
    return res;
  };
}

/** The answer's JSON body passed through `change` (a body that is not a JSON object leaves untouched). */
function rewriteAnswer(res: ServerResponse, change: (json: Record<string, unknown>) => Record<string, unknown>): void {
  const target = res as unknown as { end: Writer };
  const end = target.end.bind(res);
  target.end = (chunk?: unknown, ...rest: unknown[]) => {
    if (typeof chunk !== 'string' && !Buffer.isBuffer(chunk)) return end(chunk, ...rest);
    let json: unknown;
    try {
      json = JSON.parse(chunk.toString());
    } catch {
      return end(chunk, ...rest);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return end(chunk, ...rest);
    const body = JSON.stringify(change(json as Record<string, unknown>));
    if (!res.headersSent) res.setHeader('content-length', Buffer.byteLength(body));
    return end(body, ...rest);
  };
}

interface ActiveRule extends FaultRule {
  remaining: number;
}

/**
 * A fault layer with no rules: `wrap` puts it around a request handler, `faults` controls it.
 *
 * @example
 * const layer = faultLayer();
 * const server = createServer(layer.wrap(provider.callback()));
 * const restore = layer.faults.unreachable('/jwks');   // the JWKS path is down, the rest answers
 * layer.faults.hold('/token', 15_000);                 // the next token answer leaves 15 s late
 * restore();
 */
export function faultLayer(): { faults: ProviderFaults; wrap(listener: RequestListener): RequestListener } {
  const rules: ActiveRule[] = [];
  const hits = new Map<string, number>();

  const add = (rule: FaultRule): (() => void) => {
    const active: ActiveRule = { ...rule, remaining: rule.times ?? Infinity };
    rules.push(active);
    return () => {
      const at = rules.indexOf(active);
      if (at >= 0) rules.splice(at, 1);
    };
  };

  const faults: ProviderFaults = {
    add,
    unreachable: (path) => add({ path, fault: { kind: 'drop' } }),
    hold: (path, ms, times = 1) => add({ path, method: 'POST', fault: { kind: 'hold', ms }, times }),
    clear: () => void rules.splice(0),
    hits: (path) => hits.get(path) ?? 0,
  };

  const wrap =
    (listener: RequestListener): RequestListener =>
    (req: IncomingMessage, res: ServerResponse) => {
      const path = new URL(req.url ?? '/', 'http://provider.invalid').pathname;
      const rule = rules.find((r) => r.path === path && (r.method === undefined || r.method === req.method) && r.remaining > 0);
      if (!rule) return listener(req, res);
      rule.remaining -= 1;
      if (rule.remaining <= 0) rules.splice(rules.indexOf(rule), 1);
      hits.set(path, (hits.get(path) ?? 0) + 1);
      switch (rule.fault.kind) {
        case 'drop':
          // No answer at all: the client sees the connection close, as with a path that is down.
          req.socket.destroy();
          return;
        case 'hold':
          holdAnswer(res, rule.fault.ms);
          return listener(req, res);
        case 'rewrite':
          rewriteAnswer(res, rule.fault.body);
          return listener(req, res);
      }
    };

  return { faults, wrap };
}
