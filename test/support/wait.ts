/**
 * Waiting in tests, the same in Node and in a test page: a pause, a poll until something is there,
 * and a loop that repeats a round of work until a deadline (the continuous reads of the drills).
 */

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
