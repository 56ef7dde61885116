/**
 * The library's SharedWorker, unmodified, plus one observer for the fan-out benchmark: it stamps
 * the moment the worker publishes a token on the tabs' BroadcastChannel, on the clock SPEC section 10
 * names (`performance.timeOrigin + performance.now()`), and reports it on a side channel. The stamp
 * is taken just before the real message is posted and the report goes out just after it, so the
 * observer never delays what the tabs receive.
 */
import '../../worker/sharedWorker.ts';
import { PUBLISH_CHANNEL, type PublishStamp } from './publishStamp.ts';

function publishedJwt(message: unknown): string | null {
  if (typeof message !== 'object' || message === null || !('type' in message) || message.type !== 'token') return null;
  return 'jwt' in message && typeof message.jwt === 'string' ? message.jwt : null;
}

const post = BroadcastChannel.prototype.postMessage;
const stamps = new BroadcastChannel(PUBLISH_CHANNEL);
// Module imports run first, but the worker posts nothing before a tab connects, and `connect` is
// dispatched only after this module finished evaluating: the observer is in place for every post.
BroadcastChannel.prototype.postMessage = function (this: BroadcastChannel, message: unknown): void {
  const at = performance.timeOrigin + performance.now();
  post.call(this, message);
  const jwt = this === stamps ? null : publishedJwt(message);
  if (jwt !== null) {
    const stamp: PublishStamp = { jwt, at };
    post.call(stamps, stamp);
  }
};
