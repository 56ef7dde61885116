/**
 * `tabtoken/vue` in a real browser: Vue 3 in the test page, a manager on a real SharedWorker talking
 * to the development origin over real HTTP, created outside any component as the README shows. A
 * counting wrapper around it sees every subscription and read the composables make.
 */
import { decodeJwt } from 'jose';
import { createTokenManager, type TokenManager } from 'tabtoken';
import { describe, expect, onTestFinished } from 'vitest';
import { createApp, effectScope, h, isReadonly, isRef, nextTick, ref, type EffectScope } from 'vue';
import { useToken, useTokenSnapshot } from '../../bindings/vue.ts';
import { counted, type Counts } from './support/counted.ts';
import { it } from './support/fixtures.ts';
import { advanceOriginClock, signIn } from './support/origin.ts';
import { uniqueNamespace, waitFor } from './support/tabs.ts';

async function signedInManager(): Promise<{ tokens: TokenManager; manager: TokenManager; counts: Counts }> {
  await signIn();
  const tokens = createTokenManager({ namespace: uniqueNamespace('vue') });
  onTestFinished(() => tokens.close());
  await tokens.ready;
  return { tokens, ...counted(tokens) };
}

function scope(): EffectScope {
  const s = effectScope();
  onTestFinished(() => s.stop());
  return s;
}

describe('tabtoken/vue', () => {
  it('useTokenSnapshot: a readonly ref that follows the snapshot, released with its effect scope', async () => {
    const { tokens, manager, counts } = await signedInManager();
    const s = scope();
    const snapshot = s.run(() => useTokenSnapshot(manager))!;
    expect(isRef(snapshot)).toBe(true);
    expect(isReadonly(snapshot)).toBe(true);
    expect(snapshot.value).toBe(tokens.getSnapshot());
    await tokens.getToken();
    await advanceOriginClock(1000);
    await tokens.getToken({ skipCache: true });
    // The very object the manager holds, not a copy or a proxy.
    expect(snapshot.value).toBe(tokens.getSnapshot());
    expect(Object.keys(snapshot.value.tokens).length).toBeGreaterThan(0);
    expect(counts.subscribed - counts.unsubscribed).toBe(1);

    s.stop();
    expect(counts.subscribed - counts.unsubscribed).toBe(0);
    const kept = snapshot.value;
    await advanceOriginClock(1000);
    await tokens.getToken({ skipCache: true });
    expect(tokens.getSnapshot()).not.toBe(kept);
    expect(snapshot.value).toBe(kept);
  });

  it('in a component: the refs render and follow refreshes, and unmounting releases everything', async () => {
    const { tokens, manager, counts } = await signedInManager();
    const el = document.createElement('div');
    document.body.append(el);
    onTestFinished(() => el.remove());
    const app = createApp({
      setup() {
        const snapshot = useTokenSnapshot(manager);
        const { token, status } = useToken(manager);
        return () => h('p', { 'data-status': status.value, 'data-version': snapshot.value.version }, token.value ?? '');
      },
    });
    app.mount(el);
    const first = await waitFor(() => el.textContent || null, 20_000, 'the token to render');
    expect(first).toBe(await tokens.getToken());
    expect(el.querySelector('p')!.dataset.status).toBe('ok');
    await advanceOriginClock(1000);
    const refreshed = await tokens.getToken({ skipCache: true });
    await waitFor(() => el.textContent === refreshed, 5_000, 'the refreshed token to render');
    expect(el.querySelector('p')!.dataset.version).toBe(String(tokens.getSnapshot().version));
    expect(counts.subscribed - counts.unsubscribed).toBe(2);
    app.unmount();
    expect(counts.subscribed - counts.unsubscribed).toBe(0);
  });

  it('useToken with options in a ref: a new cache key reads the new token; an equal value restarts nothing', async () => {
    const { manager, counts } = await signedInManager();
    const options = ref<{ template: string }>({ template: 'api' });
    const { token, status, error } = scope().run(() => useToken(manager, options))!;
    expect(isReadonly(token)).toBe(true);
    const api = await waitFor(() => token.value, 20_000, 'the api token');
    expect(decodeJwt(api).aud).toBe('api');
    expect(status.value).toBe('ok');
    expect(error.value).toBeNull();

    const { subscribed, reads } = counts;
    options.value = { template: 'api' }; // a new object, the same key
    await nextTick(); // the watchers have run: a new key would have subscribed and read by now
    expect(counts.subscribed).toBe(subscribed);
    expect(counts.reads).toBe(reads);
    expect(token.value).toBe(api);

    options.value = { template: 'short' };
    const short = await waitFor(() => (token.value !== api ? token.value : null), 10_000, 'the short token');
    expect(decodeJwt(short).aud).toBeUndefined();
    expect(counts.subscribed - counts.unsubscribed).toBe(1);

    options.value = { template: 'nope' };
    await waitFor(() => error.value, 10_000, 'the error of an unknown template');
    expect(error.value!.code).toBe('origin_response');
    expect(token.value).toBeNull();
  });

  it('useToken with options from a getter follows the refs it reads', async () => {
    const { manager } = await signedInManager();
    const org = ref<string | null>(null);
    const { token } = scope().run(() => useToken(manager, () => ({ template: 'api', organizationId: org.value })))!;
    const plain = await waitFor(() => token.value, 20_000, 'the token without an organization');
    expect(decodeJwt(plain).org_id).toBeUndefined();
    org.value = 'org_1';
    const withOrg = await waitFor(() => (token.value !== plain ? token.value : null), 10_000, 'the organization token');
    expect(decodeJwt(withOrg).org_id).toBe('org_1');
    org.value = null;
    // Back to the first key: its token is still cached.
    await waitFor(() => token.value === plain, 5_000, 'the first token again');
  });
});
