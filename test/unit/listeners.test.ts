import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, createTokenManager } from '../../client/index.ts';

describe('listener arguments', () => {
  it('on() with an unknown event and subscribe()/on() with a handler that is not a function throw InvalidArgumentError', () => {
    // Without a document the manager starts nothing; its listeners behave as in a tab.
    const tokens = createTokenManager({ frontendApi: 'https://clerk.example.com' });
    tokens.ready.catch(() => {});
    expect(() => tokens.on('tokens' as 'token', () => {})).toThrow(InvalidArgumentError);
    expect(() => tokens.on('token', 'x' as never)).toThrow(InvalidArgumentError);
    expect(() => tokens.subscribe('x' as never)).toThrow(InvalidArgumentError);
    expect(() => tokens.on('token', () => {})).not.toThrow();
    const off = tokens.subscribe(() => {});
    expect(typeof off).toBe('function');
    off();
    tokens.close();
  });
});

describe('a Clerk manager', () => {
  it('rejects signIn() and handleRedirect() with InvalidArgumentError', async () => {
    const tokens = createTokenManager({ frontendApi: 'https://clerk.example.com' });
    tokens.ready.catch(() => {});
    await expect(tokens.signIn()).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(tokens.handleRedirect('https://app.example.com/cb?code=1&state=2')).rejects.toBeInstanceOf(InvalidArgumentError);
    tokens.close();
  });
});
