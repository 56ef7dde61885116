/**
 * The Host rule against DNS rebinding, as a function of header values: what counts as this
 * machine, how allow lists read, and the HTTP/2 `:authority` that Vite over https carries instead
 * of `Host`. The servers applying it are tested in standalone.test.ts and devOrigin.test.ts.
 */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { AllowedHosts, hostNameOf, isThisMachine, parseHostPattern } from '../../origin/AllowedHosts.ts';
import { OriginHttpError } from '../../origin/OriginHttpError.ts';
import { InvalidArgumentError } from '../../protocol/errors.ts';

function request(headers: Record<string, string>): IncomingMessage {
  return { headers } as unknown as IncomingMessage;
}

function refusal(hosts: AllowedHosts, headers: Record<string, string>): OriginHttpError | null {
  try {
    hosts.check(request(headers));
    return null;
  } catch (error) {
    if (error instanceof OriginHttpError) return error;
    throw error;
  }
}

describe('reading a Host value', () => {
  it.each([
    ['LocalHost:5173', 'localhost'],
    ['127.1', '127.0.0.1'],
    ['0x7f.0.0.1', '127.0.0.1'],
    ['[0:0:0:0:0:0:0:1]:80', '[::1]'],
    ['bücher.example', 'xn--bcher-kva.example'],
  ])('reads %s as the host name %s, as the URL parser does', (value, name) => {
    expect(hostNameOf(value)).toBe(name);
  });

  it.each(['evil.example/x', 'user@localhost', 'localhost?x', 'localhost#x', '', 'a b', '[::1'])('reads %j as no host name', (value) => {
    expect(hostNameOf(value)).toBeNull();
  });
});

describe('this machine', () => {
  it.each(['localhost', 'app.localhost', 'a.b.localhost', '127.0.0.1', '127.255.0.9', '[::1]', '[::ffff:7f00:1]'])('includes %s', (name) => {
    expect(isThisMachine(name)).toBe(true);
  });

  it.each(['localhost.', 'localhost.evil.example', 'notlocalhost', '0.0.0.0', '[::]', '10.0.0.1', '[::ffff:a00:1]', 'evil.example'])('excludes %s', (name) => {
    expect(isThisMachine(name)).toBe(false);
  });
});

describe('host patterns', () => {
  it.each([
    ['App.Test', 'app.test'],
    ['.App.Test', '.app.test'],
    ['192.168.1.5', '192.168.1.5'],
    ['fd00::1', '[fd00::1]'],
    ['[FD00::1]', '[fd00::1]'],
  ])('reads %s as %s', (entry, pattern) => {
    expect(parseHostPattern(entry)).toBe(pattern);
  });

  it.each(['app.test:80', 'app.test:443', 'app.test:5173', 'http://app.test', 'app.test/x', '', '.', '..app.test', '.192.168.1.5', '.[::1]'])(
    'refuses %j',
    (entry) => {
      expect(parseHostPattern(entry)).toBeNull();
    },
  );

  it('refuses a malformed entry of a typed list, and skips it in a list another tool accepted', () => {
    expect(() => AllowedHosts.strict(['app.test', 'app.test:80'], 'allowHosts', '')).toThrow(InvalidArgumentError);
    const lenient = AllowedHosts.lenient(['app.test:80', 42, 'ok.test'], '');
    expect(lenient.allowsName('ok.test')).toBe(true);
    expect(lenient.allowsName('app.test')).toBe(false);
  });
});

describe('checking a request', () => {
  const hosts = AllowedHosts.strict(['app.test'], 'allowHosts', 'Use --allow-host.');

  it('answers 403 host_not_allowed, saying how to allow the host, to a foreign Host', () => {
    const error = refusal(hosts, { host: 'evil.example:8787' });
    expect(error).toMatchObject({ status: 403, code: 'host_not_allowed' });
    expect(error?.longMessage).toContain('"evil.example"');
    expect(error?.longMessage).toContain('Use --allow-host.');
  });

  it('refuses a request naming no host at all', () => {
    expect(refusal(hosts, {})).toMatchObject({ status: 403, code: 'host_not_allowed' });
  });

  it('reads the HTTP/2 :authority when there is no Host', () => {
    expect(refusal(hosts, { ':authority': 'localhost:5173' })).toBeNull();
    expect(refusal(hosts, { ':authority': 'evil.example' })).toMatchObject({ code: 'host_not_allowed' });
  });

  it('needs every host a request names to pass, Host and :authority alike', () => {
    expect(refusal(hosts, { host: 'app.test', ':authority': 'app.test' })).toBeNull();
    expect(refusal(hosts, { host: 'app.test', ':authority': 'evil.example' })).toMatchObject({ code: 'host_not_allowed' });
    expect(refusal(hosts, { host: 'evil.example', ':authority': 'localhost' })).toMatchObject({ code: 'host_not_allowed' });
  });

  it('adds the host a server listens on with including()', () => {
    const withLan = hosts.including('192.168.1.5');
    expect(refusal(withLan, { host: '192.168.1.5:8787' })).toBeNull();
    expect(refusal(hosts, { host: '192.168.1.5:8787' })).toMatchObject({ code: 'host_not_allowed' });
    expect(hosts.including('::').allowsName('evil.example')).toBe(false);
  });
});
