import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createViteServer } from 'vite';
import { describe, expect, it } from 'vitest';
import { devOrigin } from '../../origin/devOrigin.ts';

describe('the Vite plugin', () => {
  it('mounts the origin in a Vite dev server and leaves every other path to Vite', async () => {
    const plugin = devOrigin({ secretKey: 'sk_test_vite', faults: true });
    expect(plugin.name).toBe('tabtoken:dev-origin');
    expect(plugin.api.origin.secretKey).toBe('sk_test_vite');
    const root = mkdtempSync(join(tmpdir(), 'tabtoken-vite-'));
    const vite = await createViteServer({
      configFile: false,
      root,
      logLevel: 'silent',
      appType: 'custom',
      server: { middlewareMode: true, hmr: false },
      optimizeDeps: { noDiscovery: true, include: [] },
      plugins: [plugin],
    });
    const server = createHttpServer(vite.middlewares);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const signIn = await fetch(`${base}/v1/client/sign_ins`, { method: 'POST', body: new URLSearchParams({ identifier: 'vite' }) });
      expect(signIn.status).toBe(200);
      expect((await fetch(`${base}/__origin/stats`)).status).toBe(200);
      const other = await fetch(`${base}/not-the-origin.txt`);
      expect(other.headers.get('content-type') ?? '').not.toContain('application/json');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await vite.close();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('mounts the same handler on the preview server', () => {
    const plugin = devOrigin();
    const mounted: unknown[] = [];
    const fakePreview = { middlewares: { use: (fn: (req: IncomingMessage, res: ServerResponse, next: () => void) => void) => mounted.push(fn) } };
    (plugin.configurePreviewServer as (server: unknown) => void)(fakePreview);
    expect(mounted).toEqual([plugin.api.origin]);
  });
});
