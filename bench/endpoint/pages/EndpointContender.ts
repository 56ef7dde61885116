/**
 * One contender of the token-endpoint benchmark as a bench tab drives it. Every contender is read
 * the same way — once per read interval, as an app reads before an API call — so the runner can
 * set their figures side by side, counted from the servers' own answers.
 */

/** Which server a contender's tokens come from. */
export type TokenServer = 'app' | 'betterAuth';

/** What one read did. */
export interface ReadOutcome {
  /** Every token the read used (a read that retried with a new token used two), null when it had none. */
  tokens: string[];
  /** Status of the protected API call, when the contender calls one (`GET /app/api/me`); null otherwise. */
  apiStatus: number | null;
}

export interface EndpointContender {
  /** Resolves once the contender can answer a read. */
  readonly ready: Promise<void>;
  /** One read as an app makes it before an API call (and, against the app's server, the API call). */
  read(): Promise<ReadOutcome>;
  /**
   * Whether the tab has ended up signed out: its token source refused it (a 401 or 403 from the token
   * route), so the app would send the person to its sign-in page. Reads stop then.
   */
  signedOut(): boolean;
  close(): void;
}

export interface EndpointContenderParams {
  /** Separates runs that could share storage (each run has its own browser context and origin as well). */
  namespace: string;
}
