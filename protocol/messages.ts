/**
 * BroadcastChannel messages (SPEC section 6) and their validation. Nothing read from a channel is
 * trusted: `isBroadcast` refuses anything that is not exactly one of these shapes.
 */
import { PROTOCOL_VERSION } from './constants.ts';
import { isRecord, type SerializedError } from './errors.ts';
import type { Operation } from './operations.ts';
import type { Claims, EngineChange, Snapshot, SnapshotToken, Status, StorageKind } from './types.ts';

/** What every channel message carries besides the change: the protocol and the engine instance. */
interface Envelope {
  v: typeof PROTOCOL_VERSION;
  instance: string;
}

/**
 * A change of the engine (`EngineChange` in types.ts: the fields of each kind are written once,
 * there) as it travels on the channel, in its envelope.
 */
type ChangeMessage<T extends EngineChange['type']> = Envelope & Extract<EngineChange, { type: T }>;
export type TokenMessage = ChangeMessage<'token'>;
export type EvictMessage = ChangeMessage<'evict'>;
export type SignoutMessage = ChangeMessage<'signout'>;
export type StatusMessage = ChangeMessage<'status'>;
/**
 * A local-mode leader announcing itself with its whole snapshot. `isBroadcast` leaves the
 * snapshot unchecked (shared-mode tabs ignore `hello`); a follower validates it with `parseSnapshot`.
 */
export interface HelloMessage extends Envelope {
  type: 'hello';
  version: number;
  snapshot: unknown;
}

export type BroadcastMessage = TokenMessage | EvictMessage | SignoutMessage | StatusMessage | HelloMessage;

/** Local mode, follower → leader on the `:rpc` channel. */
export interface RpcRequest {
  v: typeof PROTOCOL_VERSION;
  type: 'request';
  id: string;
  tab: string;
  op: Operation | 'hello';
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

const STATUSES: readonly unknown[] = ['connecting', 'ok', 'degraded', 'signed-out'];

function isShortString(value: unknown, max = 64 * 1024): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max;
}
// `typeof` first: '5' >= 0 is true. NaN fails both comparisons.
function isTime(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value < Infinity;
}
function isVersion(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
function isSessionIdOrNull(value: unknown): value is string | null {
  return value === null || isShortString(value, 128);
}
/** A cache key, `sessionId|template|organizationId|expiresInSeconds` (never `__proto__` and the like). */
function isKey(value: unknown): value is string {
  return isShortString(value, 512) && /^[\w-]+\|[\w-]*\|[\w-]*\|\d*$/.test(value);
}
function isStorage(value: unknown): value is StorageKind {
  return value === 'indexeddb' || value === 'memory';
}
function isUserIdOrNull(value: unknown): value is string | null {
  return value === null || isShortString(value, 256);
}
const isScheme = (value: unknown): value is 'DPoP' | undefined => value === undefined || value === 'DPoP';
/** A JWT payload: a plain object (a structured clone carries no getters or prototypes). */
function isClaimsOrNull(value: unknown): value is Claims | null {
  return value === null || isRecord(value);
}

/**
 * A token entry as tabs see it, from anything that holds one (the engine's cache entry, a validated
 * message or map): a frozen copy of its own fields only, `scheme` only for a DPoP-bound token.
 */
export const snapshotToken = ({ jwt, expiresAt, staleAt, scheme }: SnapshotToken): SnapshotToken =>
  Object.freeze(scheme ? { jwt, expiresAt, staleAt, scheme } : { jwt, expiresAt, staleAt });

/**
 * Validates a token map (of a snapshot, or of a `status` message) into a copy of frozen entries
 * holding only their fields; null when any key or entry is off.
 */
export function parseTokens(value: unknown): Record<string, SnapshotToken> | null {
  if (!isRecord(value)) return null;
  const copy: Record<string, SnapshotToken> = {};
  for (const [key, token] of Object.entries(value)) {
    if (!isKey(key) || !isRecord(token) || !isShortString(token.jwt) || !isTime(token.expiresAt) || !isTime(token.staleAt) || !isScheme(token.scheme))
      return null;
    // Its fields were checked just above.
    copy[key] = snapshotToken(token as unknown as SnapshotToken);
  }
  return copy;
}

/** Validates a whole snapshot (from a `hello`, a welcome or a resync) into a frozen copy; null when any field is off. */
export function parseSnapshot(value: unknown): Snapshot | null {
  if (!isRecord(value)) return null;
  const { version, status, mode, storage, sessionId, userId, claims } = value;
  const tokens = parseTokens(value.tokens);
  if (!isVersion(version) || !STATUSES.includes(status) || (mode !== 'shared' && mode !== 'local')) return null;
  if (!isStorage(storage) || !isSessionIdOrNull(sessionId) || !isUserIdOrNull(userId) || !isClaimsOrNull(claims) || !tokens) return null;
  return Object.freeze({
    version,
    status: status as Status,
    mode,
    storage,
    sessionId,
    userId,
    claims: claims && Object.freeze({ ...claims }),
    tokens: Object.freeze(tokens),
  });
}

/**
 * Whether a message read from the BroadcastChannel is exactly one of the shapes above. What a
 * channel delivers is a structured clone (plain data: no getters, no prototypes of the sender), so
 * checking the fields a reader uses is enough; nothing else of the message is ever read.
 */
export function isBroadcast(data: unknown): data is BroadcastMessage {
  if (!isRecord(data) || data.v !== PROTOCOL_VERSION || !isShortString(data.instance, 128) || !isVersion(data.version)) return false;
  switch (data.type) {
    case 'token':
      return parseTokens({ [data.key as string]: data }) !== null && (data.claims === undefined || isRecord(data.claims));
    case 'evict':
      return isKey(data.key);
    case 'signout':
      // A sign-out published with its status carries status, since and storage together.
      return (
        isShortString(data.sessionId, 128) && (data.status === undefined || (STATUSES.includes(data.status) && isTime(data.since) && isStorage(data.storage)))
      );
    case 'status':
      return (
        STATUSES.includes(data.status) &&
        isTime(data.since) &&
        isSessionIdOrNull(data.sessionId) &&
        isUserIdOrNull(data.userId) &&
        isClaimsOrNull(data.claims) &&
        isStorage(data.storage) &&
        (data.tokens === undefined || parseTokens(data.tokens) !== null)
      );
    case 'hello':
      return true;
  }
  return false;
}
