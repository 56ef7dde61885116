import { createTokenManager } from 'tabtoken';

// One manager for the page, created at module scope, outside React.
export const tokens = createTokenManager();
