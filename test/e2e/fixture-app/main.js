import { createTokenManager, TokenError } from 'tabtoken';

const tokens = createTokenManager();
globalThis.app = { tokens, TokenError };
tokens.ready.then(
  () => {
    document.getElementById('out').textContent = `ready: ${tokens.getSnapshot().status}`;
  },
  (error) => {
    document.getElementById('out').textContent = `failed: ${error.message}`;
  },
);
