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
