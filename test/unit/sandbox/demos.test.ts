import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng';
import { DEFAULT_DEMO_MIX, DEFAULT_SEARCH_CONFIG, demoMixSchema } from '../../../src/sandbox/config';
import { type DemoKind, generateDemonstrations } from '../../../src/sandbox/demos';
import { computeRewards } from '../../../src/sandbox/rewards';
import { parseTranscript, turnEnd } from '../../../src/sandbox/transcript';
import { committedCorpus } from '../../helpers/corpus';

async function demos(count: number, mix = DEFAULT_DEMO_MIX, seed = 1) {
  const { artifacts, engine } = await committedCorpus();
  const train = artifacts.qa.filter((q) => q.split === 'train');
  return generateDemonstrations(train, engine, count, new Rng(seed), { mix, search: DEFAULT_SEARCH_CONFIG });
}

describe('demonstrations', () => {
  it('follow the mix of kinds', async () => {
    const out = await demos(2000);
    expect(out.length).toBe(2000);
    const share = (kind: DemoKind) => out.filter((d) => d.kind === kind).length / out.length;
    const total =
      DEFAULT_DEMO_MIX.toolUse +
      DEFAULT_DEMO_MIX.directRight +
      DEFAULT_DEMO_MIX.directWrong +
      DEFAULT_DEMO_MIX.malformedCall;
    expect(share('tool-use')).toBeCloseTo(DEFAULT_DEMO_MIX.toolUse / total, 1);
    expect(share('direct-wrong')).toBeCloseTo(DEFAULT_DEMO_MIX.directWrong / total, 1);
    expect(share('malformed-call')).toBeCloseTo(DEFAULT_DEMO_MIX.malformedCall / total, 1);
  });

  it('are deterministic for a seed', async () => {
    expect((await demos(50, DEFAULT_DEMO_MIX, 7)).map((d) => d.text)).toEqual(
      (await demos(50, DEFAULT_DEMO_MIX, 7)).map((d) => d.text),
    );
  });

  it('are in the exact protocol, tokenize without unknown words and parse back to the same rollout', async () => {
    const { tokenizer } = await committedCorpus();
    for (const demo of await demos(400)) {
      expect(demo.text.startsWith('<question> ')).toBe(true);
      expect(demo.text.endsWith(' </answer> <eos>')).toBe(true);
      expect(tokenizer.unknownWords(demo.text)).toEqual([]);
      const parsed = parseTranscript(demo.text);
      expect(parsed.turns.map((t) => t.text)).toEqual(
        demo.rollout.turns.map((t) => parseTranscript(`<question> x </question> ${t.text}`).turns[0].text),
      );
      for (const t of demo.rollout.turns) expect(turnEnd(t.text)).not.toBe('cut');
      const reply = demo.rollout.turns[0].reply;
      expect(parsed.turns[0].reply?.ok).toBe(reply?.ok);
    }
  });

  it('tool-use demos search once per hop and copy the answer from the last result', async () => {
    const { artifacts } = await committedCorpus();
    const byId = new Map(artifacts.qa.map((q) => [q.id, q]));
    const out = await demos(
      300,
      demoMixSchema.parse({ toolUse: 1, directRight: 0, directWrong: 0, malformedCall: 0 }),
    );
    expect(out.every((d) => d.kind === 'tool-use')).toBe(true);
    for (const d of out) {
      const item = byId.get(d.itemId)!;
      expect(d.rollout.turns.length).toBe(item.hops.length + 1);
      const r = computeRewards(d.rollout, item);
      expect(r.outcome.exactMatch).toBe(1);
      expect(r.turn.toolExecution.slice(0, -1).every((v) => v === 0.2)).toBe(true);
      expect(r.turn.answerInResults.at(-2)).toBe(0.5);
      expect(r.outcome.format).toBeCloseTo(0.2, 12);
      expect(r.outcome.xmlTags).toBeCloseTo(0.2, 12);
    }
  });

  it('the mix sets how often the base policy sees a tool call', async () => {
    const none = await demos(
      300,
      demoMixSchema.parse({ toolUse: 0, directRight: 1, directWrong: 1, malformedCall: 0 }),
    );
    expect(none.some((d) => d.text.includes('<tool>'))).toBe(false);
    const malformed = await demos(
      200,
      demoMixSchema.parse({ toolUse: 0, directRight: 0, directWrong: 0, malformedCall: 1 }),
    );
    for (const d of malformed) {
      expect(d.rollout.turns[0].reply?.ok).toBe(false);
      expect(d.rollout.turns[0].reply?.text).toMatch(/^<result> error : /);
    }
    const wrong = await demos(
      200,
      demoMixSchema.parse({ toolUse: 0, directRight: 0, directWrong: 1, malformedCall: 0 }),
    );
    const { artifacts } = await committedCorpus();
    const byId = new Map(artifacts.qa.map((q) => [q.id, q]));
    for (const d of wrong) expect(computeRewards(d.rollout, byId.get(d.itemId)!).outcome.exactMatch).toBe(0);
  });

  it('rejects a mix with no positive weight', () => {
    expect(
      demoMixSchema.safeParse({ toolUse: 0, directRight: 0, directWrong: 0, malformedCall: 0 }).success,
    ).toBe(false);
  });
});
