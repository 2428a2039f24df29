// Headless Chromium with WebGPU on SwiftShader, driven by playwright-core, against the built app served
// from dist/ by a tiny static server on loopback.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
  '.safetensors': 'application/octet-stream',
};

export async function serveDist(
  root = resolve('dist'),
): Promise<{ url: string; close: () => Promise<void> }> {
  if (!existsSync(join(root, 'index.html')))
    throw new Error(`${root}/index.html missing: run \`npx vite build\` first`);
  const server: Server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]));
    let file = join(root, path);
    if (!file.startsWith(root) || !existsSync(file) || statSync(file).isDirectory())
      file = join(root, 'index.html');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('server has no port');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export async function launchChromium(options: { webgpu?: boolean } = {}): Promise<Browser> {
  const webgpu = options.webgpu ?? true;
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ];
  if (webgpu) {
    args.push('--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-unsafe-swiftshader');
  } else {
    args.push('--disable-features=WebGPU', '--disable-gpu');
  }
  // Playwright gives every launch a fresh temporary profile (the --user-data-dir the flags list asks for).
  return chromium.launch({ executablePath: CHROMIUM, args, headless: true });
}

export const ARTIFACTS = resolve('test-artifacts');

/**
 * For a test file: serves dist/ for all its tests (started in beforeAll, closed in afterAll) and makes the
 * artefacts folder. Returns the app's URL, valid inside the tests.
 */
export function servedApp(): { readonly url: string } {
  let server: Awaited<ReturnType<typeof serveDist>> | null = null;
  beforeAll(async () => {
    server = await serveDist();
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => server?.close());
  return {
    get url() {
      if (!server) throw new Error('servedApp: the server starts in beforeAll');
      return server.url;
    },
  };
}
