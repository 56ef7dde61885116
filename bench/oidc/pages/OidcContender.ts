/**
 * One OpenID Connect client as a bench tab drives it, against the real provider. Every contender
 * signs in through the provider's own login page and is read the same way, so the runner can set
 * their figures side by side, all counted from the provider's events.
 */
export interface OidcContender {
  /** Resolves once the contender can answer a read. */
  readonly ready: Promise<void>;
  /** Starts a sign-in: the tab navigates to the authorization endpoint (never resolves normally). */
  signIn(): Promise<void>;
  /** On the redirect page: completes the sign-in from the authorization answer in `url`. */
  handleRedirect(url: string): Promise<void>;
  /** The read an app makes before each API call: the access token, or null when it has none that is valid. */
  read(): Promise<string | null>;
  /** Whether the tab holds a sign-in with an unexpired access token now. */
  signedIn(): Promise<boolean>;
  close(): void;
}

/** What the bench server tells every tab (`GET /bench-oidc/config.json`). */
export interface OidcBenchConfig {
  issuer: string;
  clientId: string;
  redirectUri: string;
  /** Seconds before expiry at which a contender refreshes (tabtoken's leeway; oidc-client-ts's expiring notification). */
  refreshMarginS: number | null;
}

export interface OidcContenderParams extends OidcBenchConfig {
  /** Separates runs that could share storage (each run has its own browser context as well). */
  namespace: string;
}
