// The playground's engine flows in headless Chromium (WebGPU on SwiftShader), through the real UI where it has
// a control for them (Step, the learning-rate knob, the heatmap, the change log, the messages, the CPU button)
// and through the test handle (`window.__tcp`, only with ?test=1) where it does not (a crash, a lost device).
// Reload/resume, the shared URL and file import are in playground-keep.test.ts.
// A small config keeps a step at a few seconds: the whole file aims at under two minutes on 2 cores.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { RunConfig } from '../../src/core/config';
import type { TestHandle } from '../../src/ui/client/trainer-client';
import { ARTIFACTS, launchChromium, servedApp } from '../helpers/browser';

declare global {
  interface Window {
    __tcp?: TestHandle;
  }
}

/** quick-look, smaller: 2 prompts × 3 rollouts, 12 tokens a turn, a checkpoint every 2 steps. */
const SMALL: Partial<RunConfig> = {
  promptsPerStep: 2,
  rolloutsPerPrompt: 3,
  maxTurnTokens: 12,
  evalEvery: 0,
  checkpointEvery: 2,
};

const ready = (page: Page) =>
  page.waitForFunction(() => window.__tcp?.lastInfo !== null && window.__tcp !== undefined, null, {
    timeout: 120_000,
  });

async function initSmall(page: Page, backend: 'auto' | 'cpu' = 'auto') {
  return page.evaluate(
    async ({ small, backend }) => {
      const tcp = window.__tcp!;
      const config = { ...tcp.lastInfo!.config, ...small };
      return tcp.client.init(config, { testHooks: true, backend });
    },
    { small: SMALL, backend },
  );
}

const events = (page: Page, type: string) =>
  page.evaluate((t) => window.__tcp!.events.filter((e) => e.type === t), type);

describe('playground engine in the browser', () => {
  const server = servedApp();

  it('trains in the worker; heatmap cells carry its advantages; live lr change is logged; crash and device loss recover', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${server.url}?test=1&preset=quick-look`);
      await ready(page);
      expect((await initSmall(page)).ok).toBe(true);
      const info = await page.evaluate(() => window.__tcp!.lastInfo!);
      expect(info.backend).toBe('webgpu');
      expect(info.config.promptsPerStep).toBe(2);

      // Two steps from the toolbar.
      for (const n of [1, 2]) {
        await page.getByTestId('btn-step').click();
        await page
          .getByTestId('run-step')
          .filter({ hasText: new RegExp(`^${n}$`) })
          .waitFor({ timeout: 90_000 });
      }
      await page.getByTestId('heat-cell-0-0').waitFor();
      const snapshot = await page.evaluate(() => window.__tcp!.lastSnapshot!);
      expect(snapshot.step).toBe(2);
      const cells = await page.locator('[data-testid^="heat-cell-"]').evaluateAll((tds) =>
        tds.map((td) => ({
          rollout: Number(td.getAttribute('data-rollout')),
          turn: Number(td.getAttribute('data-turn')),
          advantage: td.getAttribute('data-advantage'),
        })),
      );
      expect(cells.length).toBe(snapshot.rollouts.length * snapshot.K);
      for (const c of cells) {
        const turn = snapshot.rollouts[c.rollout].turns[c.turn];
        if (turn) expect(Number(c.advantage)).toBeCloseTo(turn.advantage, 6);
        else expect(c.advantage).toBe('');
      }
      const policy = snapshot.rollouts.flatMap((r) => r.tokens.filter((t) => t.role === 'policy'));
      expect(policy.every((t) => Number.isFinite(t.logp) && Math.abs(t.ratio - 1) < 1e-3)).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, 'playground-heatmap.png'), fullPage: true });

      // Live learning-rate change: applied at the next step boundary and logged with its step.
      const lr = page.getByTestId('knob-learningRate');
      await lr.fill('0.002');
      await lr.press('Enter');
      await page.getByTestId('btn-step').click();
      await page
        .getByTestId('change-log')
        .filter({ hasText: /step 3: Learning rate/ })
        .waitFor({ timeout: 90_000 });
      const applied = await events(page, 'hparams.applied');
      expect(applied).toHaveLength(1);
      expect(applied[0]).toMatchObject({ step: 3, changes: [{ key: 'learningRate', to: 0.002 }] });
      await page.getByTestId('change-log').screenshot({ path: join(ARTIFACTS, 'playground-change-log.png') });

      // A crashed worker is restarted from the last checkpoint (step 2) with its change log.
      await page.evaluate(() => window.__tcp!.client.simulateCrash());
      await page.waitForFunction(
        () => window.__tcp!.lastInfo?.policySource === 'checkpoint' && window.__tcp!.lastInfo.step === 2,
        null,
        { timeout: 90_000 },
      );
      const crashed = (await events(page, 'error')).filter(
        (e) => e.type === 'error' && e.error.kind === 'worker-crashed',
      );
      expect(crashed).toHaveLength(1);
      await page.getByTestId('message-worker-crashed').waitFor();

      // A lost GPU device is rebuilt and the run resumes from its checkpoint.
      expect((await page.evaluate(() => window.__tcp!.client.send({ type: 'debug.lose-device' }))).ok).toBe(
        true,
      );
      await page.waitForFunction(
        () =>
          window.__tcp!.events.some(
            (e) => e.type === 'error' && e.error.kind === 'device-lost' && e.error.recovered,
          ),
        null,
        { timeout: 90_000 },
      );
      await page.getByTestId('btn-step').click();
      await page.getByTestId('run-step').filter({ hasText: /^3$/ }).waitFor({ timeout: 90_000 });
      await page.screenshot({ path: join(ARTIFACTS, 'playground-recovered.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('without WebGPU says so and offers the CPU reference backend, which takes a step', async () => {
    const browser = await launchChromium({ webgpu: false });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(`${server.url}?test=1`);
      const message = page.getByTestId('message-no-webgpu');
      await message.waitFor({ timeout: 60_000 });
      expect(await message.textContent()).toMatch(/navigator\.gpu|WebGPU/);
      await page.screenshot({ path: join(ARTIFACTS, 'playground-no-webgpu.png'), fullPage: true });
      await page.getByTestId('btn-cpu-backend').click();
      await page.waitForFunction(() => window.__tcp?.lastInfo?.backend === 'cpu', null, { timeout: 60_000 });
      const info = await page.evaluate(() => window.__tcp!.lastInfo!);
      expect(info.notes.join(' ')).toMatch(/CPU reference backend/);
      expect(info.config.promptsPerStep).toBe(1);
      // One full RL step on the float64 reference, with a short turn budget.
      const reply = await page.evaluate(async () => {
        const tcp = window.__tcp!;
        await tcp.client.send({
          type: 'run.reset',
          config: { ...tcp.lastInfo!.config, maxTurnTokens: 6, evalEvery: 0 },
        });
        return tcp.client.send({ type: 'run.step' });
      });
      expect(reply.ok).toBe(true);
      const metrics = await events(page, 'metrics.step');
      expect(metrics).toHaveLength(1);
      await page.screenshot({ path: join(ARTIFACTS, 'playground-cpu.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
