/**
 * The operation table as the hosts run it (SPEC 6): only its own operations, by name; a DPoP proof
 * only for a URL that `tokens.fetch` may send the token to — the page's origin and the calling tab's
 * `fetchOrigins`, judged by the URL parser; the snapshot a resync asks for, stamped with the mode.
 */
import { describe, expect, it } from 'vitest';
import { invoke, isOperation, type OperationContext } from '../../protocol/operations.ts';
import type { Engine, EngineSnapshot, ProofRequest } from '../../protocol/types.ts';
import { parseHello } from '../../worker/TabRegistry.ts';
import { engineConfig } from './support/engine.ts';

const PAGE = 'https://app.example.com';

function context(origins: readonly string[] = [PAGE, 'https://api.example.com']) {
  const proofs: ProofRequest[] = [];
  const snapshot: EngineSnapshot = { version: 3, status: 'ok', storage: 'memory', sessionId: 's', userId: null, claims: null, tokens: {} };
  const engine = {
    proof: async (request: ProofRequest) => {
      proofs.push(request);
      return 'proof.jwt';
    },
    snapshot: () => snapshot,
  } as unknown as Engine;
  const c: OperationContext = { engine, mode: 'local', origins };
  return { c, proofs };
}

const request = (htu: unknown): unknown => ({ htm: 'GET', htu, token: 'at', nonce: null });

describe('the operation table', () => {
  it.each([`${PAGE}/api/me`, `${PAGE}:443/x?y=1`, 'https://api.example.com/v1/orders'])('signs a proof for %s, on the page or a fetch origin', async (htu) => {
    const { c, proofs } = context();
    await expect(invoke(c, 'proof', request(htu))).resolves.toBe('proof.jwt');
    expect(proofs).toHaveLength(1);
  });

  it.each([
    'https://evil.example/steal',
    'https://app.example.com.evil.example/x',
    'https://app.example.com@evil.example/x',
    'http://app.example.com/api/me',
    'https://app.example.com:8443/x',
    'https://API.example.com:444/x',
    '/api/me',
    '//evil.example/x',
    'javascript:alert(1)',
    'data:,x',
    '',
    42,
    null,
  ])('refuses a proof for %s with InvalidArgumentError, and the engine signs nothing', async (htu) => {
    const { c, proofs } = context();
    await expect(invoke(c, 'proof', request(htu))).rejects.toMatchObject({ name: 'InvalidArgumentError', code: 'invalid_argument' });
    expect(proofs).toEqual([]);
  });

  it('signs for the page only, when the tab named no fetch origins', async () => {
    const { c, proofs } = context([PAGE]);
    await expect(invoke(c, 'proof', request('https://api.example.com/x'))).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(invoke(c, 'proof', 'not a request')).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(proofs).toEqual([]);
  });

  it("answers the snapshot of a resync stamped with the host's mode", async () => {
    const { c } = context();
    await expect(invoke(c, 'snapshot', null)).resolves.toEqual({
      version: 3,
      status: 'ok',
      storage: 'memory',
      sessionId: 's',
      userId: null,
      claims: null,
      tokens: {},
      mode: 'local',
    });
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', ''])('runs nothing for %s, which is not an operation', async (op) => {
    expect(isOperation(op)).toBe(false);
    const { c } = context();
    await expect(invoke(c, op as 'stats', null)).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});

describe("a tab's hello", () => {
  const hello = { tabId: 'tab-1', config: engineConfig(), sessionId: null, visible: true };

  it("carries the tab's fetch origins, each an origin as URL.origin spells it", () => {
    expect(parseHello({ ...hello, fetchOrigins: ['https://api.example.com', 'http://localhost:8080'] }).fetchOrigins).toEqual([
      'https://api.example.com',
      'http://localhost:8080',
    ]);
  });

  it.each([
    ['none', undefined],
    ['not a list', 'https://api.example.com'],
    ['a path', ['https://api.example.com/v1']],
    ['a trailing slash', ['https://api.example.com/']],
    ['another scheme', ['javascript:alert(1)']],
    ['a host only', ['api.example.com']],
  ])('refuses fetch origins that are %s', (_, fetchOrigins) => {
    expect(() => parseHello({ ...hello, fetchOrigins })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});
