// The base policy's data recipe: relation-dependent mix, determinism, and length-sorted batches.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng';
import {
  baseDemonstrations,
  DEFAULT_BASE_MIX,
  finalRelation,
  isToolProne,
  lengthBatches,
  paddedVocabSize,
} from '../../../src/rl/base-policy';
import { DEFAULT_SEARCH_CONFIG } from '../../../src/sandbox/config';
import { committedCorpus } from '../sandbox/fixtures';

describe('base policy data', () => {
  it('names the final fact of a relation and pads the vocabulary to 64', () => {
    expect(finalRelation('currency-via-capital')).toBe('currency');
    expect(finalRelation('capital')).toBe('capital');
    expect(paddedVocabSize(1397)).toBe(1408);
    expect(paddedVocabSize(1408)).toBe(1408);
  });

  it('searches mostly on tool-prone relations, deterministically, from train items only', async () => {
    const { artifacts, engine, tokenizer } = await committedCorpus();
    const train = artifacts.qa.filter((q) => q.split === 'train');
    const make = () =>
      baseDemonstrations(train, engine, 1200, new Rng(3), DEFAULT_BASE_MIX, DEFAULT_SEARCH_CONFIG);
    const demos = make();
    expect(demos.map((d) => d.text)).toEqual(make().map((d) => d.text));
    expect(Math.abs(demos.length - 1200)).toBeLessThan(10);
    const byId = new Map(train.map((q) => [q.id, q]));
    const share = (prone: boolean) => {
      const group = demos.filter((d) => isToolProne(byId.get(d.itemId)!) === prone);
      return group.filter((d) => d.kind === 'tool-use').length / group.length;
    };
    expect(share(true)).toBeGreaterThan(0.6);
    expect(share(false)).toBeLessThan(0.2);
    const multiHop = demos.filter((d) => byId.get(d.itemId)!.family === 'multi-hop').length;
    expect(multiHop / demos.length).toBeCloseTo(DEFAULT_BASE_MIX.multiHopShare, 1);

    const batches = lengthBatches(demos, tokenizer, 8, 256, new Rng(4));
    expect(batches.length).toBe(Math.floor(demos.length / 8));
    for (const { rows, T } of batches) {
      expect(rows.length).toBe(8);
      const longest = Math.max(...rows.map((r) => r.ids.length));
      expect(T % 16 === 0 || T === 256).toBe(true);
      expect(T).toBeGreaterThanOrEqual(longest);
      expect(T - longest).toBeLessThan(16);
    }
  });
});
