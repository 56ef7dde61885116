/**
 * What the chart and the counters read from the token origin the page runs against, whichever it
 * is: the development origin's mint log, or the OpenID provider's token answers. Each source checks
 * what its server answers and maps the server's clock onto the page's before handing it over.
 */
/** The outage modes of `POST /__origin/outage`. */
export type OutageMode = 'off' | 'missing_expired_token' | 'down';

/** The token requests of a window, on the page's clock (ms), in time order. */
export interface OriginWindow {
  /** When each mint was answered. */
  mints: number[];
  /** When each refused or failed token request was answered (an outage, a 4xx, a dropped connection). */
  refused: number[];
}

/** One reading of the origin's activity. */
export interface Activity {
  /** The marks of the chart's window, on the page's clock. */
  window: OriginWindow;
  /** The counter shown beside the tab count (mints at the origin, or refreshes at the provider). */
  count: number;
  /** The outage mode in force, when the origin says. */
  outage: OutageMode | null;
  /**
   * The lifetime of the tokens the origin hands out, as its newest answer stated it (s), for
   * tokens that do not say themselves (an opaque access token); null when it did not say.
   */
  lifetimeS: number | null;
}

/**
 * @example
 * const source: ActivitySource = kind === 'oidc' ? new ProviderActivity() : new ClerkActivity();
 * const { window, count } = await source.read(Date.now() - 300_000);
 * await source.setOutage('down');
 */
export interface ActivitySource {
  /** The outage modes this origin can be put in, `off` first. */
  readonly outages: readonly OutageMode[];
  /** The activity since `since` (page clock, ms). */
  read(since: number): Promise<Activity>;
  /** Puts the origin in `mode`; rejects when the server refuses. */
  setOutage(mode: OutageMode): Promise<void>;
}
