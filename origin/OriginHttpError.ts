/**
 * The one way a route refuses a request: it throws an `OriginHttpError`, and the dispatcher turns
 * it into the JSON error body `{ errors: [{ code, message, long_message }] }` (or an HTML page for
 * the routes a browser opens). Throwing before any state change is what keeps bad input harmless.
 */
export class OriginHttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly longMessage: string;
  /** Extra response headers, such as `Retry-After` or `Allow`. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: string, message: string, longMessage: string = message, headers: Record<string, string> = {}) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.longMessage = longMessage;
    this.headers = headers;
  }
}
