// Held-out evaluation: one greedy rollout per question (G = 1, temperature 0) through the same engine and
// sandbox as training, scored with the sandbox's reward functions. `summarize` is pure so the metrics'
// definitions are testable without a GPU.
import { DEFAULT_REWARD_WEIGHTS, DEFAULT_SEARCH_CONFIG, type RewardWeights } from '../sandbox/config';
import {
  answerInResultsScore,
  computeRewards,
  exactMatchScore,
  type RewardBreakdown,
} from '../sandbox/rewards';
import { parseToolCall } from '../sandbox/tool-call';
import type { Rollout } from '../sandbox/transcript';
import type { QaItem } from '../sandbox/types';
import type { RolloutBatch, RolloutSettings } from './rollout';

export interface EvaluatedRollout {
  readonly item: QaItem;
  readonly rollout: Rollout;
  readonly rewards: RewardBreakdown;
}

export interface EvaluationSummary {
  readonly questions: number;
  /** Rollouts whose first turn is a parsable tool call. */
  readonly toolCallRate: number;
  /** Successful executions (results, no error) over all executed tool calls; 0 when none were executed. */
  readonly toolSuccessRate: number;
  readonly toolCalls: number;
  readonly exactMatch: number;
  /** Exact match among rollouts with at least one successful search, and among the rest (null if none). */
  readonly exactMatchWithSearch: number | null;
  readonly exactMatchWithoutSearch: number | null;
  readonly withSearch: number;
  /** Rollouts with an accepted answer in some successful search result. */
  readonly answerInResults: number;
  readonly meanTurns: number;
  readonly meanOutcomeReward: number;
  readonly meanTurnReward: number;
}

export interface Evaluation {
  readonly rollouts: readonly EvaluatedRollout[];
  readonly summary: EvaluationSummary;
}

const mean = (xs: readonly number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

export function summarize(rollouts: readonly EvaluatedRollout[]): EvaluationSummary {
  const parse = { maxQueryChars: DEFAULT_SEARCH_CONFIG.maxQueryChars };
  const firstTurnCalls = rollouts.map((r) => {
    const first = r.rollout.turns[0];
    return first !== undefined && parseToolCall(first.text, parse).ok ? 1 : 0;
  });
  const replies = rollouts.flatMap((r) => r.rollout.turns.flatMap((t) => (t.reply ? [t.reply] : [])));
  const exact = rollouts.map((r) => exactMatchScore(r.rewards.answer, r.item.answers));
  const searched = rollouts.map((r) => r.rollout.turns.some((t) => t.reply?.ok === true));
  const withSearch = exact.filter((_, i) => searched[i]);
  const withoutSearch = exact.filter((_, i) => !searched[i]);
  return {
    questions: rollouts.length,
    toolCallRate: mean(firstTurnCalls),
    toolSuccessRate: mean(replies.map((r) => (r.ok ? 1 : 0))),
    toolCalls: replies.length,
    exactMatch: mean(exact),
    exactMatchWithSearch: withSearch.length === 0 ? null : mean(withSearch),
    exactMatchWithoutSearch: withoutSearch.length === 0 ? null : mean(withoutSearch),
    withSearch: withSearch.length,
    answerInResults: mean(
      rollouts.map((r) =>
        r.rollout.turns.some((t) => answerInResultsScore(t, r.item.answers) === 1) ? 1 : 0,
      ),
    ),
    meanTurns: mean(rollouts.map((r) => r.rollout.turns.length)),
    meanOutcomeReward: mean(rollouts.map((r) => r.rewards.outcomeTotal)),
    meanTurnReward: mean(rollouts.map((r) => r.rewards.turnTotal)),
  };
}

/** What evaluation generates with: the GPU RolloutEngine, or the CPU fallback's generator. */
export interface RolloutGenerator {
  /** The most sequences one `generate` call takes. */
  readonly maxSequences: number;
  generate(items: readonly QaItem[], settings: RolloutSettings): Promise<RolloutBatch>;
}

/**
 * Greedy rollouts of `items`, in chunks of the engine's capacity. The sampling fields of `settings` are
 * overridden (G = 1, temperature 0); turns, token budget and search settings are the caller's.
 */
export async function evaluateGreedy(
  engine: RolloutGenerator,
  items: readonly QaItem[],
  settings: RolloutSettings,
  weights: RewardWeights = DEFAULT_REWARD_WEIGHTS,
): Promise<Evaluation> {
  const greedy: RolloutSettings = { ...settings, rolloutsPerPrompt: 1, temperature: 0, topK: 0, topP: 1 };
  const out: EvaluatedRollout[] = [];
  for (let at = 0; at < items.length; at += engine.maxSequences) {
    const chunk = items.slice(at, at + engine.maxSequences);
    const batch = await engine.generate(chunk, greedy);
    chunk.forEach((item, i) => {
      const rollout = batch.rollouts[i];
      out.push({ item, rollout, rewards: computeRewards(rollout, item, weights) });
    });
  }
  return { rollouts: out, summary: summarize(out) };
}
