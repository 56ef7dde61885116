/**
 * One token-keeping design as a bench page drives it. Every contender answers the same reads
 * against the same development origin, so the runner can put their figures side by side.
 */
export interface Contender {
  /** Resolves once the contender can answer a read (signed in, connected). */
  readonly ready: Promise<void>;
  /** The read an app makes before each API call; `null` when there is no token. */
  read(): Promise<string | null>;
  /** A synchronous read, for designs that offer one. */
  readonly peek?: () => string | null;
  /** One message round trip to the design's shared engine, for designs that have one. */
  readonly roundTrip?: () => Promise<unknown>;
  /** Forces a new token now (the fan-out measurement's trigger), for designs that offer it. */
  readonly refresh?: () => Promise<string | null>;
  /**
   * Calls `listener` with the token whenever the tab's copy changes, for designs that announce it
   * (the fan-out measurement).
   */
  readonly onChange?: (listener: (jwt: string) => void) => void;
  close(): void;
}

/** What the page tells a contender factory. */
export interface ContenderParams {
  /** Separates workers, channels, locks and storage of runs sharing a browser context. */
  namespace: string;
  /** This tab signs in first (the first tab of a run). */
  signIn: boolean;
}
