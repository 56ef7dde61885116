import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, startOrigin, type RunningOrigin } from './harness.ts';

const APP = 'http://app.localhost:5173';
let withCors: RunningOrigin;
let without: RunningOrigin;

beforeAll(async () => {
  withCors = await startOrigin({ allowedOrigins: [APP] });
  without = await startOrigin();
});
afterAll(async () => {
  await withCors.close();
  await without.close();
});

describe('CORS', () => {
  it('lets an allowed origin read answers with credentials, exposing Date and Retry-After', async () => {
    const browser = new Browser(withCors.base);
    const sid = await browser.signIn();
    const res = await browser.mint(sid, { headers: { origin: APP } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-expose-headers')).toBe('Date, Retry-After');
    expect(res.headers.get('vary')).toBe('Origin');
  });

  it('answers a preflight of an allowed origin with the methods and the headers asked for', async () => {
    const res = await fetch(`${withCors.base}/v1/client/sessions/sess_x/tokens`, {
      method: 'OPTIONS',
      headers: { origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
    expect(res.headers.get('access-control-allow-headers')).toBe('content-type');
  });

  it('sends no CORS headers to an origin that is not allowed, on answers and preflights', async () => {
    const res = await fetch(`${withCors.base}/v1/client`, { headers: { origin: 'http://evil.localhost' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    const preflight = await fetch(`${withCors.base}/v1/client`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.localhost', 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.headers.get('access-control-allow-methods')).toBeNull();
  });

  it('sends no CORS headers at all without allowedOrigins', async () => {
    const res = await fetch(`${without.base}/v1/client`, { headers: { origin: APP } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('vary')).toBeNull();
  });

  it('refuses an allowedOrigins entry that is not a bare origin', async () => {
    const { createDevOrigin } = await import('../../origin/createDevOrigin.ts');
    expect(() => createDevOrigin({ allowedOrigins: ['http://app.localhost:5173/'] })).toThrow(/allowedOrigins/);
    expect(() => createDevOrigin({ allowedOrigins: ['*'] })).toThrow(/allowedOrigins/);
  });
});
