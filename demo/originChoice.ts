/**
 * Which token origin the page runs against, chosen by the address (`?origin=oidc`) and nothing
 * else: a reload, "Open ten tabs" and a shared link all keep it, and no storage is involved. The
 * switch in the header is two plain links, so changing origin is a navigation like any other.
 */

/** The two token origins `npm start` serves. */
export type OriginKind = 'clerk' | 'oidc';

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
};

/**
 * The origin the address asks for: `?origin=oidc` is the OpenID provider, anything else the
 * Clerk-shaped origin (the page opened bare is the demo it always was).
 *
 * @example
 * chosenOrigin('?origin=oidc') // 'oidc'
 * chosenOrigin('')             // 'clerk'
 */
export function chosenOrigin(search: string): OriginKind {
  return new URLSearchParams(search).get('origin') === 'oidc' ? 'oidc' : 'clerk';
}

/**
 * The address of this page with `kind` chosen, every other part of the query kept.
 *
 * @example
 * originHref('oidc', new URL('http://127.0.0.1:5173/')) // '/?origin=oidc'
 */
export function originHref(kind: OriginKind, here: URL): string {
  const query = new URLSearchParams(here.search);
  if (kind === 'oidc') query.set('origin', 'oidc');
  else query.delete('origin');
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
  const links = (Object.keys(ORIGIN_TEXTS) as OriginKind[]).map((kind) => {
    const link = document.createElement('a');
    link.href = originHref(kind, here);
    link.textContent = ORIGIN_TEXTS[kind].name;
    link.dataset.origin = kind;
    if (kind === chosen) link.setAttribute('aria-current', 'page');
    return link;
  });
  root.replaceChildren(...links);
}
