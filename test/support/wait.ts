/**
 * Waiting in tests, the same in Node and in a test page: a poll until something is there, the
 * event loop's next turn, a loop that repeats a round of work until a deadline (the continuous
 * reads of the drills), and — only where nothing marks the moment — a stretch of quiet in which
 * something must not happen. A test waits on what a pause would stand for, never on a pause.
 */

/**
 * A plain pause: the pacing of `waitFor`'s probe and of `repeatUntil`'s rounds. A test that wants
 * something to have happened waits for it with `waitFor`; one that wants something not to happen
 * uses `quietFor`.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The event loop's next turn: resolves once every microtask queued before the call has run (a
 * task, not a span of time). What a check of "nothing left pending" needs first: a promise chain
 * still running could yet open a timer or send a request.
 *
 * @example
 * await nextTurn();
 * expect(process.getActiveResourcesInfo().length).toBeLessThanOrEqual(before);
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Proves an absence: lets `ms` pass in which `what` must not happen. Only for the checks where
 * nothing marks the moment by which it would have happened — a message on a channel that only a
 * breach would post on, an event with nothing after it to order it against; anything with such a
 * mark waits on it with `waitFor`. The caller asserts the absence afterwards; `happened`, polled
 * meanwhile, ends the wait at once with an error naming `what`.
 *
 * @example
 * await quietFor(1000, 'a message on the side channel', () => side.heard.length > 0);
 * expect(side.heard).toEqual([]);
 */
export async function quietFor(ms: number, what: string, happened: () => boolean = () => false): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (happened()) throw new Error(`${what} happened within ${ms} ms`);
    const left = end - Date.now();
    if (left <= 0) return;
    await sleep(Math.min(left, 25));
  }
}

/**
 * Polls `probe` every `everyMs` until it returns something other than undefined, null or false,
 * and returns that; throws naming `what` once `timeoutMs` have passed.
 *
 * @example
 * const tab = await waitFor(() => frame.contentWindow?.tabtoken, 20_000, 'the tab to load');
 */
export async function waitFor<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs: number,
  what: string,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Runs `round`, then pauses `pauseMs`, again and again while `more` holds: a deadline on
 * `Date.now()`, or a check that may itself ask something (the origin's log). Returns how many
 * rounds ran.
 *
 * @example
 * await repeatUntil(Date.now() + 12_000, 50, async () => {
 *   for (const jwt of await readAll(tabs)) seen.add(jwt);
 * });
 */
export async function repeatUntil(more: number | (() => boolean | Promise<boolean>), pauseMs: number, round: () => unknown): Promise<number> {
  const goOn = typeof more === 'number' ? () => Date.now() < more : more;
  let rounds = 0;
  while (await goOn()) {
    await round();
    rounds++;
    await sleep(pauseMs);
  }
  return rounds;
}
