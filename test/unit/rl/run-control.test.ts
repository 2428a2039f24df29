// The run state both engines share: live changes wait for the step boundary and are logged there, reset knobs
// and a backend's own limits are refused whole, and the question order is a seeded shuffle per epoch.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../src/core/config';
import { RunControl } from '../../../src/rl/run-control';
import type { QaItem } from '../../../src/sandbox/types';

const items: QaItem[] = Array.from({ length: 5 }, (_, i) => ({
  id: `q${i}`,
  family: 'one-hop',
  relation: 'capital',
  entity: `country:${i}`,
  split: 'train',
  question: `question ${i}?`,
  answers: [`answer ${i}`],
  goldArticleIds: [],
  hops: [],
}));

describe('RunControl', () => {
  it('applies proposed changes at the next step boundary and logs them with that step', () => {
    const run = new RunControl({ ...DEFAULT_CONFIG, learningRate: 1e-3 }, items);
    expect(run.beginStep().step).toBe(1);
    run.stepCount = 1;
    expect(run.propose({ learningRate: 2e-3 }).ok).toBe(true);
    expect(run.config.learningRate).toBe(1e-3);
    const { step, config } = run.beginStep();
    expect(step).toBe(2);
    expect(config.learningRate).toBe(2e-3);
    expect(run.changeLog).toEqual([{ step: 2, key: 'learningRate', from: 1e-3, to: 2e-3 }]);
    expect(run.optimizerSettings(2).lr).toBe(run.learningRate(2));
  });

  it('refuses reset knobs, invalid values and what the extra check objects to, changing nothing', () => {
    const run = new RunControl(DEFAULT_CONFIG, items);
    const width = run.propose({ width: DEFAULT_CONFIG.width * 2 });
    expect(width.ok).toBe(false);
    if (!width.ok) expect(width.error).toMatch(/requires reset: width/);
    const bad = run.propose({ clipLow: 5 });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatch(/clipLow/);
    const limited = run.propose({ rolloutsPerPrompt: 8 }, (next) =>
      next.rolloutsPerPrompt > 4 ? 'at most 4 rollouts' : null,
    );
    expect(limited).toEqual({ ok: false, error: 'at most 4 rollouts' });
    run.beginStep();
    expect(run.config).toEqual(DEFAULT_CONFIG);
    expect(run.changeLog).toEqual([]);
  });

  it('deals every question once per epoch, in a seeded order', () => {
    const a = new RunControl({ ...DEFAULT_CONFIG, seed: 7 }, items);
    const b = new RunControl({ ...DEFAULT_CONFIG, seed: 7 }, items);
    const epoch = a.nextItems(5);
    expect(new Set(epoch.map((q) => q.id)).size).toBe(5);
    expect(b.nextItems(2).concat(b.nextItems(3))).toEqual(epoch);
  });

  it('needs training questions', () => {
    expect(() => new RunControl(DEFAULT_CONFIG, [])).toThrow(/no training questions/);
  });
});
