/**
 * Which token origin the page runs against, chosen by the address (`?origin=oidc`,
 * `?origin=endpoint`, `?origin=better-auth`) and nothing else: a reload, "Open ten tabs" and a
 * shared link all keep it, and no storage is involved. The switch in the header is plain links, so
 * changing origin is a navigation like any other.
 */

/**
 * The token origins `npm start` serves: the Clerk-shaped development origin, the OpenID provider,
 * the app's own token endpoint (the development origin's app session routes, a rotating refresh
 * cookie) and better-auth (its `jwt` plugin, on the same origin at `/api/auth`).
 */
export type OriginKind = 'clerk' | 'oidc' | 'endpoint' | 'better-auth';

/** The kinds that speak the `endpoint` option: signed in on the app's own sign-in page. */
export type EndpointKind = Extract<OriginKind, 'endpoint' | 'better-auth'>;

/**
 * Whether `kind` is one of the app's own endpoints.
 *
 * @example
 * isEndpointKind('better-auth') // true
 */
export function isEndpointKind(kind: OriginKind): kind is EndpointKind {
  return kind === 'endpoint' || kind === 'better-auth';
}

/** How the page names each origin, and what differs in its wording between them. */
export interface OriginTexts {
  /** The switch's label for it. */
  name: string;
  signIn: string;
  /** What the counter beside the tab count counts. */
  counter: string;
  /** The chart's measured line, in the legend. */
  measuredLegend: string;
  /** The refused marks, in the legend. */
  refusedLegend: string;
  /** The outage box's legend. */
  outageLegend: string;
  /** One line under the outage box. */
  outageNote: string;
  /** One line under the sign-out button; empty when there is nothing to say. */
  signOutNote: string;
}

export const ORIGIN_TEXTS: Readonly<Record<OriginKind, OriginTexts>> = {
  clerk: {
    name: 'Clerk-shaped development origin',
    signIn: 'Sign in (test session token)',
    counter: 'mints at the origin',
    measuredLegend: 'tabtoken: mints measured at the origin, one mark each on the time axis',
    refusedLegend: 'refused token request',
    outageLegend: 'Origin outage',
    outageNote: '',
    signOutNote: '',
  },
  oidc: {
    name: 'OpenID provider (oidc-provider)',
    signIn: "Sign in (the provider's login page)",
    counter: 'refreshes at the provider',
    measuredLegend: 'tabtoken: refresh-token grants answered by the provider, one mark each on the time axis',
    refusedLegend: 'token request the provider refused (while its proxy is down nothing reaches it)',
    outageLegend: 'Provider outage',
    outageNote: 'down stops the proxy in front of the provider (its grants survive): the tabs serve the cached token until it expires.',
    signOutNote: 'The provider then asks whether to end its own session too; either answer brings this tab back here, signed out like every other.',
  },
  endpoint: {
    name: 'Your own endpoint (rotating cookie)',
    signIn: "Sign in (the app's own form)",
    counter: 'token requests answered',
    measuredLegend: 'tabtoken: POST /app/session/token answers, one mark each on the time axis',
    refusedLegend: 'token request refused (401 signed out, 503 in an outage)',
    outageLegend: 'Token endpoint outage',
    outageNote:
      'down answers 503 at /app/session/token: the tabs serve the cached token until it expires. The refresh cookie rotates at every call and a reused one signs the user out: only the worker calls.',
    signOutNote: 'signOut() POSTs /app/session/logout, which revokes the refresh cookie, then every tab signs out.',
  },
  'better-auth': {
    name: 'better-auth (jwt plugin)',
    signIn: 'Sign in (email and password)',
    counter: 'GET /api/auth/token answered',
    measuredLegend: "tabtoken: better-auth's GET /api/auth/token answers, one mark each on the time axis",
    refusedLegend: 'token request refused (401 signed out, 503 in an outage)',
    outageLegend: 'better-auth outage',
    outageNote: "down makes the demo's server answer 503 in front of GET /api/auth/token: the tabs serve the cached token until it expires.",
    signOutNote: "signOut() POSTs better-auth's /api/auth/sign-out, which ends the session, then every tab signs out.",
  },
};

const KINDS: readonly OriginKind[] = ['clerk', 'oidc', 'endpoint', 'better-auth'];

/**
 * The origin the address asks for: `?origin=oidc`, `?origin=endpoint` or `?origin=better-auth`;
 * anything else is the Clerk-shaped origin (the page opened bare is the demo it always was).
 *
 * @example
 * chosenOrigin('?origin=endpoint') // 'endpoint'
 * chosenOrigin('')                 // 'clerk'
 */
export function chosenOrigin(search: string): OriginKind {
  const asked = new URLSearchParams(search).get('origin');
  return KINDS.find((kind) => kind !== 'clerk' && kind === asked) ?? 'clerk';
}

/**
 * The address of this page with `kind` chosen, every other part of the query kept.
 *
 * @example
 * originHref('oidc', new URL('http://127.0.0.1:5173/')) // '/?origin=oidc'
 */
export function originHref(kind: OriginKind, here: URL): string {
  const query = new URLSearchParams(here.search);
  if (kind === 'clerk') query.delete('origin');
  else query.set('origin', kind);
  const search = query.toString();
  return `${here.pathname}${search ? `?${search}` : ''}`;
}

/**
 * Fills the switch with one link per origin, the chosen one marked `aria-current`.
 *
 * @example
 * renderOriginSwitch(document.getElementById('origin-switch')!, 'oidc', new URL(location.href));
 */
export function renderOriginSwitch(root: HTMLElement, chosen: OriginKind, here: URL): void {
  const links = KINDS.map((kind) => {
    const link = document.createElement('a');
    link.href = originHref(kind, here);
    link.textContent = ORIGIN_TEXTS[kind].name;
    link.dataset.origin = kind;
    if (kind === chosen) link.setAttribute('aria-current', 'page');
    return link;
  });
  root.replaceChildren(...links);
}
