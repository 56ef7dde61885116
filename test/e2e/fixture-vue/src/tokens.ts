import { createTokenManager } from 'tabtoken';

// One manager for the page, created at module scope, outside the components.
export const tokens = createTokenManager();
