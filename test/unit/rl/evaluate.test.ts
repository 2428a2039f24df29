// The held-out metrics' definitions, on hand-written rollouts.
import { describe, expect, it } from 'vitest';
import { type EvaluatedRollout, summarize } from '../../../src/rl/evaluate';
import { computeRewards } from '../../../src/sandbox/rewards';
import type { Rollout } from '../../../src/sandbox/transcript';
import type { QaItem } from '../../../src/sandbox/types';

const item: QaItem = {
  id: 'q1',
  family: 'one-hop',
  relation: 'capital',
  entity: 'country:mng',
  split: 'validation',
  question: 'What is the capital of Mongolia?',
  answers: ['Ulan Bator'],
  goldArticleIds: [],
  hops: [],
};
const result = '<result> ulan bator is the capital of mongolia . </result>';
const call = '<reasoning> search . </reasoning> <tool> search: capital of mongolia </tool>';
const answer = (a: string) => `<reasoning> ok . </reasoning> <answer> ${a} </answer>`;

function scored(rollout: Rollout): EvaluatedRollout {
  return { item, rollout, rewards: computeRewards(rollout, item) };
}

describe('summarize', () => {
  it('counts first-turn calls, successes and exact match with and without a search', () => {
    const q = item.question;
    const s = summarize([
      scored({
        question: q,
        turns: [{ text: call, reply: { ok: true, text: result } }, { text: answer('ulan bator') }],
      }),
      scored({
        question: q,
        turns: [
          { text: call, reply: { ok: false, text: '<result> error : x . </result>' } },
          { text: answer('ulan bator') },
        ],
      }),
      scored({ question: q, turns: [{ text: answer('ulan bator') }] }),
      scored({ question: q, turns: [{ text: answer('paris') }] }),
      scored({ question: q, turns: [{ text: '<reasoning> <tool> search </tool>' }] }),
    ]);
    expect(s.questions).toBe(5);
    expect(s.toolCallRate).toBeCloseTo(2 / 5);
    expect(s.toolCalls).toBe(2);
    expect(s.toolSuccessRate).toBeCloseTo(1 / 2);
    expect(s.exactMatch).toBeCloseTo(3 / 5);
    expect(s.withSearch).toBe(1);
    expect(s.exactMatchWithSearch).toBe(1);
    expect(s.exactMatchWithoutSearch).toBeCloseTo(2 / 4);
    expect(s.answerInResults).toBeCloseTo(1 / 5);
    expect(s.meanTurns).toBeCloseTo(7 / 5);
  });

  it('is defined on an empty evaluation', () => {
    const s = summarize([]);
    expect(s).toMatchObject({
      questions: 0,
      toolCallRate: 0,
      exactMatchWithSearch: null,
      exactMatchWithoutSearch: null,
    });
  });
});
