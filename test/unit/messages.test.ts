/**
 * Nothing read from the BroadcastChannel is trusted (SPEC section 6): only the exact message shapes
 * pass, and a whole snapshot is copied field by field.
 */
import { describe, expect, it } from 'vitest';
import { isBroadcast, parseSnapshot } from '../../protocol/messages.ts';

const envelope = { v: 1, instance: 'w-1', version: 3 };
const token = { ...envelope, type: 'token', key: 'sess_1|||', jwt: 'a.b.c', expiresAt: 1000, staleAt: 900 };

describe('channel messages', () => {
  it('pass when they have exactly the shape of their type', () => {
    expect(isBroadcast(token)).toBe(true);
    expect(isBroadcast({ ...envelope, type: 'token', key: 'sess_1|api|org_1|3600', jwt: 'a.b.c', expiresAt: 1, staleAt: 0 })).toBe(true);
    expect(isBroadcast({ ...envelope, type: 'evict', key: 'sess_1|||' })).toBe(true);
    expect(isBroadcast({ ...envelope, type: 'signout', sessionId: 'sess_1' })).toBe(true);
    expect(isBroadcast({ ...envelope, type: 'status', status: 'degraded', since: 5, sessionId: null, userId: null, claims: null, storage: 'memory' })).toBe(
      true,
    );
    expect(isBroadcast({ ...envelope, type: 'hello', snapshot: null })).toBe(true);
  });

  it('pass with the fields of a transition published as one message', () => {
    const tokens = {
      'sess_1|||': { jwt: 'a.b.c', expiresAt: 1000, staleAt: 900 },
      'sess_1|api||': { jwt: 'd.e.f', expiresAt: 2000, staleAt: 1900, scheme: 'DPoP' },
    };
    expect(isBroadcast({ ...envelope, type: 'status', status: 'ok', since: 5, sessionId: 'sess_1', userId: 'u', claims: {}, storage: 'memory', tokens })).toBe(
      true,
    );
    expect(
      isBroadcast({ ...envelope, type: 'status', status: 'ok', since: 5, sessionId: 'sess_1', userId: 'u', claims: {}, storage: 'memory', tokens: {} }),
    ).toBe(true);
    expect(isBroadcast({ ...envelope, type: 'signout', sessionId: 'sess_1', status: 'signed-out', since: 7, storage: 'indexeddb' })).toBe(true);
  });

  it.each([
    ['not an object', 'token'],
    ['another protocol version', { ...token, v: 2 }],
    ['no instance', { ...token, instance: '' }],
    ['a negative version', { ...token, version: -1 }],
    ['a fractional version', { ...token, version: 1.5 }],
    ['an unknown type', { ...token, type: 'tokens' }],
    ['a key that is not a cache key', { ...token, key: '__proto__' }],
    ['an empty jwt', { ...token, jwt: '' }],
    ['an expiry that is not a time', { ...token, expiresAt: '1000' }],
    ['an infinite staleness point', { ...token, staleAt: Infinity }],
    ['an unknown status', { ...envelope, type: 'status', status: 'fine', since: 5, sessionId: null, userId: null, claims: null, storage: 'memory' }],
    ['an unknown storage', { ...envelope, type: 'status', status: 'ok', since: 5, sessionId: null, userId: null, claims: null, storage: 'disk' }],
    ['a sign-out of no session', { ...envelope, type: 'signout', sessionId: null }],
    [
      'a status whose tokens are not a map',
      { ...envelope, type: 'status', status: 'ok', since: 5, sessionId: 's', userId: null, claims: null, storage: 'memory', tokens: [] },
    ],
    [
      'a status whose tokens have a key that is not a cache key',
      {
        ...envelope,
        type: 'status',
        status: 'ok',
        since: 5,
        sessionId: 's',
        userId: null,
        claims: null,
        storage: 'memory',
        tokens: JSON.parse('{"__proto__":{"jwt":"a","expiresAt":1,"staleAt":1}}'),
      },
    ],
    [
      'a status whose token has no jwt',
      {
        ...envelope,
        type: 'status',
        status: 'ok',
        since: 5,
        sessionId: 's',
        userId: null,
        claims: null,
        storage: 'memory',
        tokens: { 's|||': { expiresAt: 1, staleAt: 1 } },
      },
    ],
    [
      'a status whose token has a bad scheme',
      {
        ...envelope,
        type: 'status',
        status: 'ok',
        since: 5,
        sessionId: 's',
        userId: null,
        claims: null,
        storage: 'memory',
        tokens: { 's|||': { jwt: 'a', expiresAt: 1, staleAt: 1, scheme: 'Bearer' } },
      },
    ],
    [
      'a status whose token expires at no time',
      {
        ...envelope,
        type: 'status',
        status: 'ok',
        since: 5,
        sessionId: 's',
        userId: null,
        claims: null,
        storage: 'memory',
        tokens: { 's|||': { jwt: 'a', expiresAt: Number.NaN, staleAt: 1 } },
      },
    ],
    ['a sign-out with an unknown status', { ...envelope, type: 'signout', sessionId: 's', status: 'gone', since: 1, storage: 'memory' }],
    ['a sign-out with a status but no since', { ...envelope, type: 'signout', sessionId: 's', status: 'signed-out', storage: 'memory' }],
    ['a sign-out with a status and a bad storage', { ...envelope, type: 'signout', sessionId: 's', status: 'signed-out', since: 1, storage: 'disk' }],
    ['a sign-out with a negative since', { ...envelope, type: 'signout', sessionId: 's', status: 'signed-out', since: -1, storage: 'memory' }],
  ])('are refused with %s', (_, message) => {
    expect(isBroadcast(message)).toBe(false);
  });
});

describe('snapshots', () => {
  const snapshot = {
    version: 2,
    status: 'ok',
    mode: 'local',
    storage: 'indexeddb',
    sessionId: 'sess_1',
    userId: 'user_1',
    claims: { sub: 'user_1' },
    tokens: { 'sess_1|||': { jwt: 'a.b.c', expiresAt: 2, staleAt: 1 } },
  };

  it('are copied and frozen when well formed', () => {
    const parsed = parseSnapshot({ ...snapshot, extra: 'dropped' });
    expect(parsed).toEqual(snapshot);
    expect(Object.isFrozen(parsed) && Object.isFrozen(parsed?.tokens)).toBe(true);
  });

  it.each([
    ['a bad status', { ...snapshot, status: 'fine' }],
    ['a bad mode', { ...snapshot, mode: 'both' }],
    ['a token under a key that is not a cache key', { ...snapshot, tokens: { constructor: { jwt: 'a', expiresAt: 2, staleAt: 1 } } }],
    ['a token without a jwt', { ...snapshot, tokens: { 'sess_1|||': { expiresAt: 2, staleAt: 1 } } }],
  ])('are refused with %s', (_, value) => {
    expect(parseSnapshot(value)).toBeNull();
  });
});
