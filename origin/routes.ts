/**
 * What every route is given and what it declares. The dispatcher in `createDevOrigin.ts` matches a
 * request to a route, applies the cross-cutting rules the declaration asks for (fault controls only
 * with `faults` and from loopback, HTML errors for pages) and counts it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OriginState, RouteName } from './OriginState.ts';
import type { ResolvedOptions } from './options.ts';
import type { TokenSigner } from './TokenSigner.ts';

/** The origin's parts, shared by every route. */
export interface OriginContext {
  readonly options: ResolvedOptions;
  readonly state: OriginState;
  readonly signer: TokenSigner;
}

/** One request as a route sees it. */
export interface RouteCall {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The request URL, resolved against `origin`. */
  readonly url: URL;
  /** The pattern's capture groups, still percent-encoded (`undefined` for an optional group not matched). */
  readonly captures: readonly (string | undefined)[];
  /** The origin the request reached, such as `http://127.0.0.1:5173`. */
  readonly origin: string;
}

export interface Route {
  readonly method: 'GET' | 'POST';
  /** Matched against the raw (still percent-encoded) path, so `%2F` never splits a segment. */
  readonly pattern: RegExp;
  /** Counter in `stats.requests`; fault controls are not counted. */
  readonly name: RouteName | null;
  /** A page a browser opens: errors are answered as HTML instead of JSON. */
  readonly page?: boolean;
  /** A fault control: served only with `faults: true`, only to loopback callers. */
  readonly control?: boolean;
  handle(ctx: OriginContext, call: RouteCall): Promise<void>;
}
