import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { TokenManager } from 'tabtoken';
import { useAuth, useToken, useTokenSnapshot } from 'tabtoken/react';
import { tokens } from './tokens';

declare global {
  interface Window {
    app: { tokens: TokenManager };
  }
}

function App() {
  const status = useTokenSnapshot(tokens, (snapshot) => snapshot.status);
  const { token, error } = useToken(tokens, { template: undefined });
  const auth = useAuth(tokens);
  const user = !auth.isLoaded ? 'loading' : auth.isSignedIn ? auth.sessionId : 'signed out';
  return (
    <main>
      <p id="status">{status}</p>
      <p id="session">{user}</p>
      <p id="token">{token ?? error?.code ?? ''}</p>
    </main>
  );
}

window.app = { tokens };
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
