// The recipe of the base policy (the SFT warm start RL begins from): model shape, demonstration mix, and the
// batching of demonstrations into supervised rows. src/cli/pretrain.ts runs it; tests can run it small.
//
// Why the mix depends on the relation: held-out evaluation is greedy, and a greedy policy turns any question-
// independent probability of searching into "always" or "never". So the base policy is taught to search for
// some relations (hard to guess: capitals, currencies, symbols, masses) and to answer the rest from memory,
// with a small share of searches there too. Greedy, it then calls its tool on roughly the tool-prone share of
// questions; sampled, it searches now and then everywhere, which is what RL can reinforce.
import type { ModelConfig } from '../core/model-config';
import type { Rng } from '../core/rng';
import type { DemoMix } from '../sandbox/config';
import { type Demonstration, generateDemonstrations } from '../sandbox/demos';
import type { SearchEngine, SearchOptions } from '../sandbox/search';
import type { Tokenizer } from '../sandbox/tokenizer';
import type { QaItem } from '../sandbox/types';
import { type EncodedTranscript, encodeTranscript } from './sft-data';

/** Relations whose demonstrations mostly search (multi-hop relations count by their final fact). */
export const TOOL_PRONE_RELATIONS: readonly string[] = ['capital', 'currency', 'symbol', 'atomic-mass'];

export interface BaseMix {
  readonly toolProne: DemoMix;
  readonly other: DemoMix;
  /** Share of multi-hop questions among demonstrations (their tool use needs K ≥ 3 turns). */
  readonly multiHopShare: number;
}

export const DEFAULT_BASE_MIX: BaseMix = {
  toolProne: { toolUse: 0.75, directRight: 0.05, directWrong: 0.1, malformedCall: 0.1 },
  other: { toolUse: 0.12, directRight: 0.15, directWrong: 0.58, malformedCall: 0.15 },
  multiHopShare: 0.2,
};

/** The vocabulary rounded up to a multiple of 64 (whole vec4 rows and workgroups in the logits kernels). */
export function paddedVocabSize(tokenizerSize: number): number {
  return Math.ceil(tokenizerSize / 64) * 64;
}

export function baseModelConfig(
  tokenizerSize: number,
  shape: { layers: number; width: number; heads: number; contextLength: number },
): ModelConfig {
  return { vocabSize: paddedVocabSize(tokenizerSize), ...shape };
}

export function finalRelation(relation: string): string {
  const via = relation.indexOf('-via-');
  return via === -1 ? relation : relation.slice(0, via);
}

export function isToolProne(item: QaItem): boolean {
  return TOOL_PRONE_RELATIONS.includes(finalRelation(item.relation));
}

/**
 * `count` demonstrations over the train items: questions split by family (multiHopShare) and tool-proneness
 * (in proportion to the questions of each kind), each group with its mix. Shuffled, deterministic in `rng`.
 */
export function baseDemonstrations(
  trainItems: readonly QaItem[],
  engine: SearchEngine,
  count: number,
  rng: Rng,
  mix: BaseMix,
  search: SearchOptions,
): Demonstration[] {
  const out: Demonstration[] = [];
  for (const family of ['one-hop', 'multi-hop'] as const) {
    const familyItems = trainItems.filter((q) => q.family === family);
    const familyCount = Math.round(
      count * (family === 'multi-hop' ? mix.multiHopShare : 1 - mix.multiHopShare),
    );
    for (const prone of [true, false]) {
      const group = familyItems.filter((q) => isToolProne(q) === prone);
      if (group.length === 0 || familyItems.length === 0) continue;
      const n = Math.round((familyCount * group.length) / familyItems.length);
      const groupRng = rng.fork(`${family}:${prone ? 'tool-prone' : 'other'}`);
      out.push(
        ...generateDemonstrations(group, engine, n, groupRng, {
          mix: prone ? mix.toolProne : mix.other,
          search,
        }),
      );
    }
  }
  return rng.fork('order').shuffled(out);
}

export interface RowBatch {
  readonly rows: readonly EncodedTranscript[];
  /** Row length: the longest row rounded up to 16. */
  readonly T: number;
}

/**
 * Batches of `batchSize` rows with little padding: rows are taken in windows of 16 batches, sorted by length
 * inside a window and cut into batches, and the batches are shuffled. Rows longer than maxLength are dropped.
 */
export function lengthBatches(
  demos: readonly Demonstration[],
  tokenizer: Tokenizer,
  batchSize: number,
  maxLength: number,
  rng: Rng,
): RowBatch[] {
  const rows = demos
    .map((d) => encodeTranscript(d.rollout, tokenizer))
    .filter((r) => r.ids.length <= maxLength);
  const batches: RowBatch[] = [];
  const window = batchSize * 16;
  for (let at = 0; at + batchSize <= rows.length; at += window) {
    const sorted = rows.slice(at, at + window).sort((a, b) => a.ids.length - b.ids.length);
    for (let b = 0; b + batchSize <= sorted.length; b += batchSize) {
      const part = sorted.slice(b, b + batchSize);
      const longest = part[part.length - 1].ids.length;
      batches.push({ rows: part, T: Math.min(maxLength, Math.ceil(longest / 16) * 16) });
    }
  }
  return rng.shuffled(batches);
}
