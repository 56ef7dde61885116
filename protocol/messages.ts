/**
 * BroadcastChannel messages (SPEC section 6) and their validation. Nothing read from a channel is
 * trusted: `parseBroadcast` returns null for anything that is not exactly one of these shapes.
 */
import { PROTOCOL_VERSION } from './constants.ts';
import type { SerializedError } from './errors.ts';
import type { Snapshot, Status, StorageKind, TokenRequest } from './types.ts';

interface Envelope {
  v: typeof PROTOCOL_VERSION;
  instance: string;
  version: number;
}

export interface TokenMessage extends Envelope {
  type: 'token';
  key: string;
  jwt: string;
  expiresAt: number;
  staleAt: number;
}
export interface EvictMessage extends Envelope {
  type: 'evict';
  key: string;
}
export interface SignoutMessage extends Envelope {
  type: 'signout';
  sessionId: string;
}
export interface StatusMessage extends Envelope {
  type: 'status';
  status: Status;
  since: number;
  sessionId: string | null;
  storage: StorageKind;
}
/**
 * A local-mode leader announcing itself with its whole snapshot. `parseBroadcast` leaves the
 * snapshot unchecked (shared-mode tabs ignore `hello`); a follower validates it with `parseSnapshot`.
 */
export interface HelloMessage extends Envelope {
  type: 'hello';
  snapshot: unknown;
}

export type BroadcastMessage = TokenMessage | EvictMessage | SignoutMessage | StatusMessage | HelloMessage;

/** Local mode, follower → leader on the `:rpc` channel. */
export interface RpcRequest {
  v: typeof PROTOCOL_VERSION;
  type: 'request';
  id: string;
  tab: string;
  op: 'getToken' | 'refresh' | 'noteReads' | 'visible' | 'setActiveSession' | 'signOut' | 'stats' | 'hello';
  opts: unknown;
}

/** Local mode, leader → follower on the `:rpc` channel. */
export interface RpcReply {
  v: typeof PROTOCOL_VERSION;
  type: 'reply';
  id: string;
  instance: string;
  result?: unknown;
  jwt?: string | null;
  error?: SerializedError;
}

/** Local mode, leader → every follower on the `:rpc` channel: a failure no call awaits. */
export interface RpcEvent {
  v: typeof PROTOCOL_VERSION;
  type: 'event';
  instance: string;
  error: SerializedError;
}

const STATUSES: readonly string[] = ['connecting', 'ok', 'degraded', 'signed-out'];
const MAX_FIELD = 64 * 1024;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
function isShortString(value: unknown, max = MAX_FIELD): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max;
}
function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
function isSessionIdOrNull(value: unknown): value is string | null {
  return value === null || isShortString(value, 128);
}
function isStorage(value: unknown): value is StorageKind {
  return value === 'indexeddb' || value === 'memory';
}
function isSnapshotToken(value: unknown): value is { jwt: string; expiresAt: number; staleAt: number } {
  return isRecord(value) && isShortString(value.jwt) && isTime(value.expiresAt) && isTime(value.staleAt);
}

/** Validates a whole snapshot (from a `hello` or a welcome); null when any field is off. */
export function parseSnapshot(value: unknown): Snapshot | null {
  if (!isRecord(value)) return null;
  const { version, status, mode, storage, sessionId, tokens } = value;
  if (!Number.isSafeInteger(version) || (version as number) < 0) return null;
  if (typeof status !== 'string' || !STATUSES.includes(status)) return null;
  if (mode !== 'shared' && mode !== 'local') return null;
  if (!isStorage(storage) || !isSessionIdOrNull(sessionId) || !isRecord(tokens)) return null;
  const copy: Record<string, { jwt: string; expiresAt: number; staleAt: number }> = {};
  for (const [key, token] of Object.entries(tokens)) {
    if (!isShortString(key, 512) || !isSnapshotToken(token)) return null;
    copy[key] = { jwt: token.jwt, expiresAt: token.expiresAt, staleAt: token.staleAt };
  }
  return Object.freeze({
    version: version as number,
    status: status as Status,
    mode,
    storage,
    sessionId,
    tokens: Object.freeze(copy),
  });
}

/**
 * Validates one message read from the BroadcastChannel. Returns a clean copy, or null for anything
 * malformed. Never throws.
 */
export function parseBroadcast(data: unknown): BroadcastMessage | null {
  try {
    if (!isRecord(data) || data.v !== PROTOCOL_VERSION) return null;
    const { instance, version, type } = data;
    if (!isShortString(instance, 128) || !Number.isSafeInteger(version) || (version as number) < 0) return null;
    const env = { v: PROTOCOL_VERSION, instance, version: version as number } as const;
    switch (type) {
      case 'token':
        if (!isShortString(data.key, 512) || !isShortString(data.jwt) || !isTime(data.expiresAt) || !isTime(data.staleAt)) return null;
        return { ...env, type, key: data.key, jwt: data.jwt, expiresAt: data.expiresAt, staleAt: data.staleAt };
      case 'evict':
        if (!isShortString(data.key, 512)) return null;
        return { ...env, type, key: data.key };
      case 'signout':
        if (!isShortString(data.sessionId, 128)) return null;
        return { ...env, type, sessionId: data.sessionId };
      case 'status':
        if (typeof data.status !== 'string' || !STATUSES.includes(data.status)) return null;
        if (!isTime(data.since) || !isSessionIdOrNull(data.sessionId) || !isStorage(data.storage)) return null;
        return { ...env, type, status: data.status as Status, since: data.since, sessionId: data.sessionId, storage: data.storage };
      case 'hello':
        return { ...env, type, snapshot: data.snapshot };
      default:
        return null;
    }
  } catch {
    // A getter on a hostile object can throw; such a message is simply not ours.
    return null;
  }
}

/** Whether a value is a well-formed normalised `TokenRequest` (validated again at the engine's edge). */
export function isTokenRequest(value: unknown): value is TokenRequest {
  return (
    isRecord(value) &&
    (value.template === null || typeof value.template === 'string') &&
    (value.organizationId === null || typeof value.organizationId === 'string') &&
    (value.expiresInSeconds === null || typeof value.expiresInSeconds === 'number') &&
    typeof value.skipCache === 'boolean' &&
    typeof value.leewayInSeconds === 'number'
  );
}
