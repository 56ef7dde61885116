/**
 * `tabtoken/react` during server-side rendering: `react-dom/server` in Node, the manager created
 * at module scope as an app does (so it is created on the server too, where there is no document
 * and it starts nothing). The hooks render the `connecting` values, throw nothing, warn nothing,
 * and leave nothing open.
 */
import { renderToString } from 'react-dom/server';
import { ConnectionError, createTokenManager } from 'tabtoken';
import { describe, expect, it, vi } from 'vitest';
import { useAuth, useToken, useTokenSnapshot } from '../../bindings/react.ts';
import { nextTurn } from '../support/wait.ts';

const openHandles = () => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length;
const handlesBefore = openHandles();
const tokens = createTokenManager({ frontendApi: 'https://clerk.example.com' });

function App() {
  const snapshot = useTokenSnapshot(tokens);
  const status = useTokenSnapshot(tokens, (s) => s.status);
  const { token, status: tokenStatus, error } = useToken(tokens, { template: 'api' });
  const auth = useAuth(tokens);
  return (
    <main>
      <p id="snapshot">{`${snapshot.status} ${snapshot.sessionId} ${Object.keys(snapshot.tokens).length}`}</p>
      <p id="selected">{status}</p>
      <p id="token">{`${token} ${tokenStatus} ${error}`}</p>
      <p id="auth">{JSON.stringify(Object.entries(auth).map(([k, v]) => `${k}=${String(v)}`))}</p>
    </main>
  );
}

describe('tabtoken/react on the server (react-dom/server)', () => {
  it('renders the connecting values, throws and warns nothing, and leaves no handle open', async () => {
    expect(typeof document).toBe('undefined');
    const errors = vi.spyOn(console, 'error');
    const warnings = vi.spyOn(console, 'warn');
    try {
      const html = renderToString(<App />);
      expect(html).toContain('<p id="snapshot">connecting null 0</p>');
      expect(html).toContain('<p id="selected">connecting</p>');
      expect(html).toContain('<p id="token">null connecting null</p>');
      const auth = [
        'isLoaded=false',
        'isSignedIn=undefined',
        'sessionId=undefined',
        'userId=undefined',
        'claims=undefined',
        'getToken=undefined',
        'signOut=undefined',
      ];
      expect(html).toContain(`<p id="auth">${JSON.stringify(auth).replaceAll('"', '&quot;')}</p>`);
      // A second render (another request) gives the same.
      expect(renderToString(<App />)).toBe(html);
      expect(errors).not.toHaveBeenCalled();
      expect(warnings).not.toHaveBeenCalled();
    } finally {
      errors.mockRestore();
      warnings.mockRestore();
    }
    // The manager says why it started nothing; the render did not depend on it.
    await expect(tokens.ready).rejects.toBeInstanceOf(ConnectionError);
    // Every microtask has run: what is still open now is all the manager left behind.
    await nextTurn();
    expect(openHandles()).toBeLessThanOrEqual(handlesBefore);
  });
});
