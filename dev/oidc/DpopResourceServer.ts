/**
 * A resource server that accepts only DPoP-bound access tokens (RFC 9449 section 7), for the tests
 * of `tokens.fetch`: it refuses `Authorization: Bearer` for a bound token, and accepts
 * `Authorization: DPoP <token>` with a proof whose signature, `typ`, `alg`, `htm`, `htu`, `iat`,
 * `jti`, `ath` and key all check, the key being the one the provider bound the token to (`cnf.jkt`
 * from introspection). It can demand a nonce, and lets the app's origins read `DPoP-Nonce`,
 * `WWW-Authenticate` and `Date`.
 *
 * It runs on a server of its own beside the provider (an API is not the authorization server),
 * and introspects at the provider's own address, so stopping the proxy in front of the provider
 * leaves it working.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify, type JWK } from 'jose';
import { accessTokenHash } from './dpopKey.ts';

/** What introspection says of a token (RFC 7662), as far as this server reads it. */
export interface Introspection {
  active: boolean;
  sub?: string;
  client_id?: string;
  scope?: string;
  exp?: number;
  token_type?: string;
  cnf?: { jkt?: string };
  [key: string]: unknown;
}

/** One request as the resource server answered it. */
export interface ResourceRequest {
  at: number;
  method: string;
  path: string;
  /** The scheme of the `Authorization` header, or null. */
  scheme: string | null;
  status: number;
  /** The `error` of the `WWW-Authenticate` challenge, or null on success. */
  error: string | null;
}

export interface DpopResourceServerOptions {
  /** Introspects an access token at the provider. */
  introspect(token: string): Promise<Introspection>;
  /** Origins allowed to call it from a page (CORS). */
  appOrigins: readonly string[];
  /** Demand a server nonce in every proof (default false; can be switched later). */
  requireNonce?: boolean;
  /** How far a proof's `iat` may be from this server's clock, in seconds (default 30). */
  iatWindowSeconds?: number;
  host?: string;
}

/** The running resource server. */
export interface DpopResourceServer {
  /** `http://{host}:{port}`; the protected route is `{url}/resource` (and every path below it). */
  readonly url: string;
  /** `{url}/resource`. */
  readonly resourceUrl: string;
  /** Every request answered, in order. */
  readonly requests: readonly ResourceRequest[];
  /** The nonce proofs must carry while nonces are required. */
  readonly nonce: string;
  setRequireNonce(required: boolean): void;
  /** Issues a new nonce: proofs with the old one get `use_dpop_nonce` again. */
  rotateNonce(): string;
  stop(): Promise<void>;
}

/** Thrown while checking a request; becomes a 401 with a DPoP challenge (or the given status). */
class Refusal extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 401,
  ) {
    super(description);
  }
}

const quote = (s: string): string => `"${s.replace(/["\\]/g, '')}"`;

/**
 * Starts the resource server on a free port.
 *
 * @example
 * const rs = await startDpopResourceServer({ introspect, appOrigins: ['http://127.0.0.1:5173'] });
 * await fetch(rs.resourceUrl, { headers: { authorization: `DPoP ${at}`, dpop: proof } }); // 200
 */
export async function startDpopResourceServer(o: DpopResourceServerOptions): Promise<DpopResourceServer> {
  const origins = new Set(o.appOrigins);
  const iatWindow = o.iatWindowSeconds ?? 30;
  let requireNonce = o.requireNonce ?? false;
  let nonce = randomBytes(16).toString('base64url');
  const requests: ResourceRequest[] = [];
  /** Proof ids seen within the `iat` window: a proof is good for one request. */
  const seenJti = new Map<string, number>();

  const cors = (req: IncomingMessage, res: ServerResponse): boolean => {
    const origin = req.headers.origin;
    res.setHeader('vary', 'Origin');
    if (origin === undefined) return true;
    if (!origins.has(origin)) return false;
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-expose-headers', 'DPoP-Nonce, WWW-Authenticate, Date');
    return true;
  };

  const verify = async (req: IncomingMessage, url: URL): Promise<Record<string, unknown>> => {
    const authorization = req.headers.authorization ?? '';
    const [scheme = '', token = '', ...rest] = authorization.split(' ');
    // RFC 6750 section 3.1: a request with no credentials gets a challenge without an error code.
    if (!authorization) throw new Refusal('', 'this resource requires a DPoP-bound access token');
    if (rest.length > 0 || !token) throw new Refusal('invalid_request', 'malformed Authorization header', 400);
    if (scheme.toLowerCase() === 'bearer') {
      const info = await o.introspect(token);
      if (!info.active) throw new Refusal('invalid_token', 'the access token is not active');
      throw new Refusal(
        'invalid_token',
        info.cnf?.jkt ? 'a DPoP-bound access token must be presented with the DPoP scheme and a proof' : 'this resource requires a DPoP-bound access token',
      );
    }
    if (scheme.toLowerCase() !== 'dpop') throw new Refusal('invalid_request', `unsupported authorization scheme ${scheme}`, 400);
    const proof = req.headers.dpop;
    if (typeof proof !== 'string' || proof.includes(',')) throw new Refusal('invalid_dpop_proof', 'exactly one DPoP proof header is required');

    let payload: Record<string, unknown>;
    let jwk: JWK;
    try {
      const verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] });
      payload = verified.payload;
      jwk = verified.protectedHeader.jwk as JWK;
    } catch (error) {
      throw new Refusal('invalid_dpop_proof', `the DPoP proof does not verify: ${(error as Error).message}`);
    }
    if ('d' in jwk) throw new Refusal('invalid_dpop_proof', 'the proof header carries a private key');
    if (payload.htm !== req.method) throw new Refusal('invalid_dpop_proof', 'htm does not match the request method');
    const htu = typeof payload.htu === 'string' ? URL.parse(payload.htu) : null;
    if (htu) {
      htu.search = '';
      htu.hash = '';
    }
    const expected = `http://${req.headers.host ?? ''}${url.pathname}`;
    if (!htu || htu.href !== new URL(expected).href) throw new Refusal('invalid_dpop_proof', `htu does not match ${expected}`);
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.iat !== 'number' || Math.abs(now - payload.iat) > iatWindow)
      throw new Refusal('invalid_dpop_proof', `iat is not within ${iatWindow} s of now`);
    if (typeof payload.jti !== 'string' || payload.jti.length === 0) throw new Refusal('invalid_dpop_proof', 'the proof has no jti');
    for (const [jti, at] of seenJti) if (at < now - 2 * iatWindow) seenJti.delete(jti);
    if (seenJti.has(payload.jti)) throw new Refusal('invalid_dpop_proof', 'the proof was used before');
    if (payload.ath !== accessTokenHash(token)) throw new Refusal('invalid_dpop_proof', 'ath does not match the access token');
    if (requireNonce && payload.nonce !== nonce) throw new Refusal('use_dpop_nonce', 'the proof must carry the nonce in DPoP-Nonce');
    seenJti.set(payload.jti, now);

    const info = await o.introspect(token);
    if (!info.active) throw new Refusal('invalid_token', 'the access token is not active');
    const jkt = await calculateJwkThumbprint(jwk, 'sha256');
    if (!info.cnf?.jkt) throw new Refusal('invalid_token', 'the access token is not DPoP-bound');
    if (info.cnf.jkt !== jkt) throw new Refusal('invalid_token', 'the access token is bound to another key');
    return { sub: info.sub ?? null, client_id: info.client_id ?? null, scope: info.scope ?? null, jkt, method: req.method, path: url.pathname };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://resource.invalid');
    const record = (status: number, error: string | null): void => {
      requests.push({
        at: performance.timeOrigin + performance.now(),
        method: req.method ?? '',
        path: url.pathname,
        scheme: (req.headers.authorization ?? '').split(' ')[0] || null,
        status,
        error,
      });
    };
    const json = (status: number, body: unknown): void => {
      res.statusCode = status;
      res.setHeader('content-type', 'application/json');
      res.setHeader('cache-control', 'no-store');
      res.end(JSON.stringify(body));
    };
    if (!cors(req, res)) {
      record(403, 'origin_not_allowed');
      return json(403, { error: 'origin_not_allowed' });
    }
    if (req.method === 'OPTIONS') {
      res.statusCode = 204;
      res.setHeader('access-control-allow-methods', 'GET, POST, PUT, PATCH, DELETE');
      res.setHeader('access-control-allow-headers', 'authorization, dpop, content-type');
      res.setHeader('access-control-max-age', '600');
      return void res.end();
    }
    if (url.pathname !== '/resource' && !url.pathname.startsWith('/resource/')) {
      record(404, 'not_found');
      return json(404, { error: 'not_found' });
    }
    // The body is not needed: drain it so the connection can be reused.
    req.resume();
    if (requireNonce) res.setHeader('dpop-nonce', nonce);
    try {
      const body = await verify(req, url);
      record(200, null);
      json(200, body);
    } catch (error) {
      const refusal = error instanceof Refusal ? error : new Refusal('server_error', (error as Error).message, 500);
      res.setHeader(
        'www-authenticate',
        refusal.error ? `DPoP error=${quote(refusal.error)}, error_description=${quote(refusal.description)}, algs="ES256"` : 'DPoP algs="ES256"',
      );
      record(refusal.status, refusal.error || 'no_credentials');
      json(refusal.status, { error: refusal.error || 'invalid_token', error_description: refusal.description });
    }
  };

  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, o.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://${o.host ?? '127.0.0.1'}:${port}`;
  return {
    url,
    resourceUrl: `${url}/resource`,
    requests,
    get nonce() {
      return nonce;
    },
    setRequireNonce(required) {
      requireNonce = required;
    },
    rotateNonce() {
      nonce = randomBytes(16).toString('base64url');
      return nonce;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
