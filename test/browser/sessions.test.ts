/**
 * Sessions the app changes (SPEC 2): `sync()` after the app's own sign-in, `setActiveSession` checked
 * against the origin, the session's user and claims in the snapshot, `cacheKey()`, and failures a
 * caller receives never arriving on the `error` event too.
 */
import { decodeJwt } from 'jose';
import { describe, expect } from 'vitest';
import { it } from './support/fixtures.ts';
import { signIn, stats } from './support/origin.ts';
import { quietFor, uniqueNamespace, waitFor, workerEnded } from './support/tabs.ts';

/** A sign-in the app makes itself, with its own form: the origin answers the session and its user. */
async function appSignIn(identifier: string): Promise<{ sessionId: string; userId: string }> {
  const res = await fetch('/v1/client/sign_ins', { method: 'POST', body: new URLSearchParams({ identifier }) });
  const body = (await res.json()) as { response: { id: string; user_id: string } };
  return { sessionId: body.response.id, userId: body.response.user_id };
}

describe('sessions the app changes', () => {
  it('sync() right after the app signs in shows the session in every tab at once, without waiting for a poll', async ({ tabs }) => {
    // A poll interval of a minute: without sync() the tabs would stay signed out that long.
    const list = await tabs.open(3, { namespace: uniqueNamespace('sync'), pollIntervalMs: 60_000 });
    const before = list[0]!.api.manager.getSnapshot();
    const { sessionId, userId } = await appSignIn(`sync-${Math.random().toString(36).slice(2, 8)}`);
    expect(list[1]!.api.manager.getSnapshot().sessionId).toBe(before.sessionId);
    await list[0]!.api.manager.sync();
    // Resolved: this tab's snapshot already shows it.
    expect(list[0]!.api.manager.getSnapshot()).toMatchObject({ sessionId, userId, status: 'ok' });
    for (const tab of list) await waitFor(() => tab.api.manager.getSnapshot().sessionId === sessionId, 2000, 'every tab to follow');
    expect(await list[2]!.api.manager.getToken()).toMatch(/^eyJ/);
  });

  it('sync() adopts the origin’s last active session even after this worker dismissed it', async ({ tabs }) => {
    const sessionId = await signIn();
    const [tab] = await tabs.open(1, { namespace: uniqueNamespace('sync-dismissed'), pollIntervalMs: 60_000 });
    await waitFor(() => tab!.api.manager.getSnapshot().sessionId === sessionId, 5000, 'the session');
    await tab!.api.manager.setActiveSession(null); // signed out here only: the session lives on at the origin
    expect(tab!.api.manager.getSnapshot()).toMatchObject({ status: 'signed-out', sessionId: null });
    await tab!.api.manager.sync();
    expect(tab!.api.manager.getSnapshot()).toMatchObject({ status: 'ok', sessionId });
  });

  it('setActiveSession() with an id the origin does not list rejects and signs no tab out', async ({ tabs }) => {
    const sessionId = await signIn();
    const list = await tabs.open(2, { namespace: uniqueNamespace('set-active') });
    await Promise.all(list.map((t) => t.api.manager.getToken()));
    const snapshots = list.map((t) => t.api.manager.getSnapshot());
    const error = await list[0]!.api.manager.setActiveSession('sess_doesnotexist').then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(list[0]!.api.InvalidArgumentError);
    expect(String((error as Error).message)).toContain('sess_doesnotexist');
    // Everything the worker said about the refused id has reached every tab. On the channel: a
    // token of another key, minted now, is broadcast after it, and a channel delivers in order, so
    // a mirror at that token's version has applied all of it. On the ports: one round trip each,
    // answered after any resync those messages made the tab ask for (a failure the worker reported
    // while refusing went out before the refusal's answer, long before this).
    await list[0]!.api.manager.getToken({ template: 'api' });
    const marker = list[0]!.api.manager.getSnapshot().version;
    await waitFor(() => list.every((t) => t.api.manager.getSnapshot().version >= marker), 2000, 'every tab to apply the marker token');
    await Promise.all(list.map((t) => t.api.manager.stats()));
    list.forEach((t, i) => {
      const now = t.api.manager.getSnapshot();
      expect([now.status, now.sessionId, now.userId]).toEqual([snapshots[i]!.status, sessionId, snapshots[i]!.userId]);
      expect(now.tokens[`${sessionId}|||`]).toBeDefined();
    });
    expect(list.flatMap((t) => t.api.events.filter((e) => e.type === 'signout' || e.type === 'error'))).toEqual([]);

    // A real second session of this browser: every tab follows, and the snapshot names its user.
    const second = await appSignIn('second-user');
    await list[1]!.api.manager.setActiveSession(second.sessionId);
    expect(list[1]!.api.manager.getSnapshot()).toMatchObject({ sessionId: second.sessionId, userId: second.userId });
    await waitFor(() => list[0]!.api.manager.getSnapshot().sessionId === second.sessionId, 2000, 'the other tab');
  });

  it('the snapshot carries the user and the default token’s claims, found with cacheKey(); a reload restores them with no request', async ({ tabs }) => {
    const { sessionId, userId } = await appSignIn(`claims-${Math.random().toString(36).slice(2, 8)}`);
    const namespace = uniqueNamespace('claims');
    const [tab] = await tabs.open(1, { namespace });
    const jwt = await tab!.api.manager.getToken();
    const snapshot = tab!.api.manager.getSnapshot();
    expect(snapshot).toMatchObject({ sessionId, userId });
    expect(tab!.api.cacheKey(sessionId)).toBe(`${sessionId}|||`);
    expect(tab!.api.cacheKey(sessionId, { template: 'api', organizationId: 'org_1', expiresInSeconds: 3600 })).toBe(`${sessionId}|api|org_1|3600`);
    expect(snapshot.tokens[tab!.api.cacheKey(sessionId)]?.jwt).toBe(jwt);
    expect(snapshot.claims).toEqual(decodeJwt(jwt as string));
    expect(Object.isFrozen(snapshot.claims)).toBe(true);
    tab!.close();

    await workerEnded({ namespace }); // the worker notices the tab closed and ends with it
    const before = (await stats()).requests;
    const [again] = await tabs.open(1, { namespace });
    expect(again!.api.manager.getSnapshot()).toMatchObject({ sessionId, userId, claims: decodeJwt(jwt as string) });
    const after = (await stats()).requests;
    expect(after.client).toBe(before.client);
  });

  it('a failure the caller awaits is not also an error event; a background failure is', async ({ tabs }) => {
    await signIn();
    const [tab] = await tabs.open(1, { namespace: uniqueNamespace('error-once') });
    await tab!.api.manager.getToken();
    const error = await tab!.api.manager.getToken({ template: 'nope' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'origin_response', status: 404 });
    // Had the worker also reported this failure to the tab (on the callback port of its hello), it
    // would have sent it while answering the call: a round trip over the tab's port begun after
    // that answer comes back after it.
    await tab!.api.manager.stats();
    expect(tab!.api.events.filter((e) => e.type === 'error')).toEqual([]);

    // Nobody awaits a peekToken's mint: its failure is the error event's.
    expect(tab!.api.manager.peekToken({ template: 'nope' })).toBeNull();
    await waitFor(() => tab!.api.events.some((e) => e.type === 'error'), 5000, 'the background failure');
  });

  it('ready’s rejection is not an error event', async ({ tabs }) => {
    const tab = await tabs.openUnready({ namespace: uniqueNamespace('ready-reject'), mode: 'shared', workerUrl: '/nowhere/worker.js' });
    await expect(tab.api.manager.ready).rejects.toMatchObject({ code: 'connection' });
    // No worker started, so no round trip can mark the moment a late event would have come by.
    await quietFor(100, 'an error event after ready rejected', () => tab.api.events.some((e) => e.type === 'error'));
    expect(tab.api.events.filter((e) => e.type === 'error')).toEqual([]);
  });
});
