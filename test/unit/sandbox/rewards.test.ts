import { describe, expect, it } from 'vitest';
import { DEFAULT_REWARD_WEIGHTS, rewardWeightsSchema } from '../../../src/sandbox/config';
import {
  computeRewards,
  type RewardBreakdown,
  turnFormatScore,
  turnXmlScore,
} from '../../../src/sandbox/rewards';
import {
  finalAnswer,
  parseTranscript,
  type Rollout,
  renderTranscript,
} from '../../../src/sandbox/transcript';

const capital = { answers: ['Ulan Bator'] };
const currency = { answers: ['Mongolian tögrög'] };

function expectRewards(
  r: RewardBreakdown,
  expected: {
    toolExecution: number[];
    answerInResults: number[];
    answerContained: number;
    exactMatch: number;
    format: number;
    xmlTags: number;
  },
): void {
  expect(r.turn.toolExecution.length).toBe(expected.toolExecution.length);
  for (const [k, v] of r.turn.toolExecution.entries()) expect(v).toBeCloseTo(expected.toolExecution[k], 12);
  for (const [k, v] of r.turn.answerInResults.entries())
    expect(v).toBeCloseTo(expected.answerInResults[k], 12);
  expect(r.outcome.answerContained).toBeCloseTo(expected.answerContained, 12);
  expect(r.outcome.exactMatch).toBeCloseTo(expected.exactMatch, 12);
  expect(r.outcome.format).toBeCloseTo(expected.format, 12);
  expect(r.outcome.xmlTags).toBeCloseTo(expected.xmlTags, 12);
  const turnRewards = expected.toolExecution.map((v, k) => v + expected.answerInResults[k]);
  for (const [k, v] of r.turnRewards.entries()) expect(v).toBeCloseTo(turnRewards[k], 12);
  expect(r.turnTotal).toBeCloseTo(
    turnRewards.reduce((a, b) => a + b, 0),
    12,
  );
  expect(r.outcomeTotal).toBeCloseTo(
    expected.answerContained + expected.exactMatch + expected.format + expected.xmlTags,
    12,
  );
}

const PERFECT = `<question> What is the capital of Mongolia? </question>
<reasoning> I should search for capital of mongolia. </reasoning> <tool> search: capital of mongolia </tool>
<result> ulan bator is the capital of mongolia . </result>
<reasoning> The result says ulan bator. </reasoning> <answer> ulan bator </answer> <eos>`;

describe('rewards on worked transcripts (default weights = the study scales)', () => {
  it('a perfect rollout: search, result holds the answer, exact answer, clean format', () => {
    const rollout = parseTranscript(PERFECT);
    expect(rollout.turns.length).toBe(2);
    expect(parseTranscript(renderTranscript(rollout))).toEqual(rollout);
    const r = computeRewards(rollout, capital);
    expectRewards(r, {
      toolExecution: [0.2, 0],
      answerInResults: [0.5, 0],
      answerContained: 0.5,
      exactMatch: 1,
      format: 0.2,
      xmlTags: 0.2,
    });
    expect(r.turnTotal).toBeCloseTo(0.7, 12);
    expect(r.outcomeTotal).toBeCloseTo(1.9, 12);
    expect(r.answer).toBe('ulan bator');
  });

  it('no tool call, right answer: outcome only', () => {
    const r = computeRewards(
      parseTranscript(
        '<question> q </question> <reasoning> I know. </reasoning> <answer> Ulan Bator </answer>',
      ),
      capital,
    );
    expectRewards(r, {
      toolExecution: [0],
      answerInResults: [0],
      answerContained: 0.5,
      exactMatch: 1,
      format: 0.2,
      xmlTags: 0.2,
    });
  });

  it('no tool call, wrong answer: format and tags only', () => {
    const r = computeRewards(
      parseTranscript('<question> q </question> <reasoning> I know. </reasoning> <answer> moscow </answer>'),
      capital,
    );
    expectRewards(r, {
      toolExecution: [0],
      answerInResults: [0],
      answerContained: 0,
      exactMatch: 0,
      format: 0.2,
      xmlTags: 0.2,
    });
  });

  it('a malformed tool call earns no turn reward; the error result does not count as results', () => {
    const rollout =
      parseTranscript(`<question> q </question> <reasoning> x </reasoning> <tool> capital of mongolia </tool>
      <result> Error: write search: followed by the query. </result>
      <reasoning> The search failed. </reasoning> <answer> ulan bator </answer>`);
    expect(rollout.turns[0].reply?.ok).toBe(false);
    const r = computeRewards(rollout, capital);
    expectRewards(r, {
      toolExecution: [0, 0],
      answerInResults: [0, 0],
      answerContained: 0.5,
      exactMatch: 1,
      format: 0.2,
      xmlTags: 0.2,
    });
  });

  it('a tool error (no passage matches) is a failed execution, even if the error text held the answer', () => {
    const rollout: Rollout = {
      question: 'q',
      turns: [
        {
          text: '<reasoning> x </reasoning> <tool> search: zzz </tool>',
          reply: { ok: false, text: '<result> error : ulan bator . </result>' },
        },
        { text: '<reasoning> y </reasoning> <answer> ulan bator </answer>' },
      ],
    };
    expectRewards(computeRewards(rollout, capital), {
      toolExecution: [0, 0],
      answerInResults: [0, 0],
      answerContained: 0.5,
      exactMatch: 1,
      format: 0.2,
      xmlTags: 0.2,
    });
  });

  it('right answer, wrong format: no reasoning field', () => {
    const r = computeRewards(
      parseTranscript('<question> q </question> <answer> ulan bator </answer>'),
      capital,
    );
    // format = 0.2 × (0.4 × 1/2 + 0.2 clean + 0 start + 0.2 end) = 0.12
    expectRewards(r, {
      toolExecution: [0],
      answerInResults: [0],
      answerContained: 0.5,
      exactMatch: 1,
      format: 0.12,
      xmlTags: 0.2,
    });
  });

  it('right answer inside extra words, text outside the fields', () => {
    const r = computeRewards(
      parseTranscript(
        '<question> q </question> <reasoning> it is </reasoning> so : <answer> the city of ulan bator </answer>',
      ),
      capital,
    );
    // format = 0.2 × (0.4 + 0 + 0.2 + 0.2) = 0.16
    expectRewards(r, {
      toolExecution: [0],
      answerInResults: [0],
      answerContained: 0.5,
      exactMatch: 0,
      format: 0.16,
      xmlTags: 0.2,
    });
  });

  it('two tool calls (multi-hop): turn rewards per turn, the answer only in the second result', () => {
    const rollout =
      parseTranscript(`<question> Which currency is used in the country whose capital is Ulan Bator? </question>
      <reasoning> a </reasoning> <tool> search: capital ulan bator </tool> <result> ulan bator is the capital of mongolia . </result>
      <reasoning> b </reasoning> <tool> search: currency of mongolia </tool> <result> the currency of mongolia is the mongolian togrog . </result>
      <reasoning> c </reasoning> <answer> Mongolian Togrog </answer>`);
    const r = computeRewards(rollout, currency);
    expectRewards(r, {
      toolExecution: [0.2, 0.2, 0],
      answerInResults: [0, 0.5, 0],
      answerContained: 0.5,
      exactMatch: 1,
      format: 0.2,
      xmlTags: 0.2,
    });
    expect(r.turnRewards).toEqual([0.2, 0.7, 0]);
  });

  it('an answer copied whole from the results: contained but not an exact match', () => {
    const rollout =
      parseTranscript(`<question> q </question> <reasoning> a </reasoning> <tool> search: capital of mongolia </tool>
      <result> ulan bator is the capital of mongolia . </result>
      <reasoning> b </reasoning> <answer> ulan bator is the capital of mongolia . </answer>`);
    expectRewards(computeRewards(rollout, capital), {
      toolExecution: [0.2, 0],
      answerInResults: [0.5, 0],
      answerContained: 0.5,
      exactMatch: 0,
      format: 0.2,
      xmlTags: 0.2,
    });
  });

  it('tags used twice and a forged <result> lower the tag score', () => {
    expect(turnXmlScore('<reasoning> a <reasoning> b </reasoning> <answer> x </answer>')).toBeCloseTo(
      0.75,
      12,
    );
    expect(
      turnXmlScore('<reasoning> x </reasoning> <result> fake </result> <answer> x </answer>'),
    ).toBeCloseTo(2 / 3, 12);
    const rollout: Rollout = {
      question: 'q',
      turns: [{ text: '<reasoning> x </reasoning> <result> fake </result> <answer> ulan bator </answer>' }],
    };
    expectRewards(computeRewards(rollout, capital), {
      toolExecution: [0],
      answerInResults: [0],
      answerContained: 0.5,
      exactMatch: 1,
      format: 0.16,
      xmlTags: 0.2 * (2 / 3),
    });
  });

  it('a turn cut by the token budget: no answer, half a tag', () => {
    const rollout: Rollout = {
      question: 'q',
      turns: [{ text: '<reasoning> i need to search for the capital of' }],
    };
    expect(finalAnswer(rollout)).toBeNull();
    expectRewards(computeRewards(rollout, capital), {
      toolExecution: [0],
      answerInResults: [0],
      answerContained: 0,
      exactMatch: 0,
      format: 0,
      xmlTags: 0.1,
    });
    // reasoning present (0.4 × 1/2), stray unclosed tool text (not clean), starts right, ends wrong
    expect(turnFormatScore('<reasoning> a </reasoning> <tool> search: x')).toBeCloseTo(0.2 + 0.2, 12);
  });

  it('an empty rollout scores zero everywhere', () => {
    const r = computeRewards({ question: 'q', turns: [] }, capital);
    expect(r.turnRewards).toEqual([]);
    expect(r.outcomeTotal).toBe(0);
  });

  it('every weight is a hyperparameter', () => {
    const weights = rewardWeightsSchema.parse({
      toolExecution: 1,
      answerInResults: 0,
      exactMatch: 2,
      answerContained: 0,
      format: 0,
      xmlTags: 0,
    });
    const r = computeRewards(parseTranscript(PERFECT), capital, weights);
    expect(r.turnRewards).toEqual([1, 0]);
    expect(r.outcomeTotal).toBe(2);
    expect(DEFAULT_REWARD_WEIGHTS).toEqual({
      toolExecution: 0.2,
      answerInResults: 0.5,
      answerContained: 0.5,
      exactMatch: 1,
      format: 0.2,
      xmlTags: 0.2,
    });
  });
});
