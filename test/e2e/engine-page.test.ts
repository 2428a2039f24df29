// The minimal page trains a tiny model on navigator.gpu in headless Chromium and the loss goes down.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launchChromium, serveDist } from '../helpers/browser';

describe('engine check page', () => {
  let server: Awaited<ReturnType<typeof serveDist>>;
  beforeAll(async () => {
    server = await serveDist();
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => server?.close());

  it('runs real training steps on WebGPU and prints falling losses', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(server.url);
      expect(await page.evaluate(async () => !!(await navigator.gpu?.requestAdapter()))).toBe(true);
      await page.getByRole('button', { name: /Run 20 training steps/ }).click();
      await page
        .getByTestId('status')
        .filter({ hasText: /done|error/ })
        .waitFor({ timeout: 240_000 });
      expect(await page.getByTestId('status').textContent()).toMatch(/^done on /);
      const losses = (await page.getByTestId('losses').locator('li').allTextContents()).map((s) =>
        Number(/loss ([\d.]+)/.exec(s)?.[1]),
      );
      expect(losses).toHaveLength(20);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses[19]).toBeLessThan(losses[0]);
      await page.screenshot({ path: join(ARTIFACTS, 'engine-page.png') });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
