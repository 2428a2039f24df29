// Rollouts on the CPU reference backend (no WebGPU): the same transcript protocol and bookkeeping as the GPU
// RolloutEngine (src/rl/rollout.ts) — P questions × G rollouts in lockstep, one batched sandbox call per turn,
// results appended with loss mask 0 — but each token is a full float64 forward over the prefix (no KV cache).
// It yields to the event loop after every forward so the worker still answers pause and heartbeats.
import { counterHash, u32ToUnit } from '../core/rng';
import type { ReferencePolicy } from '../reference/backend';
import { argmax, sampleReference } from '../reference/sample';
import type { RolloutBatch, RolloutSettings } from '../rl/rollout';
import { type SearchCaller, safeRunBatch } from '../rl/search-caller';
import { SequenceBuffer } from '../rl/sequences';
import { DEFAULT_SEARCH_CONFIG } from '../sandbox/config';
import type { Tokenizer } from '../sandbox/tokenizer';
import { type PolicyTurn, promptText } from '../sandbox/transcript';
import type { QaItem } from '../sandbox/types';

const yieldToEvents = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export async function generateOnCpu(
  policy: ReferencePolicy,
  tokenizer: Tokenizer,
  search: SearchCaller,
  items: readonly QaItem[],
  s: RolloutSettings,
): Promise<RolloutBatch> {
  const started = performance.now();
  const { rolloutsPerPrompt: G, maxTurns: K } = s;
  const P = items.length;
  const n = P * G;
  const { contextLength, vocabSize: V } = policy.layout.config;
  const seqs = new SequenceBuffer(n, contextLength);
  items.forEach((item, p) => {
    const ids = tokenizer.encode(promptText(item.question));
    if (ids.length >= contextLength) throw new RangeError(`question ${item.id} does not fit the context`);
    for (let g = 0; g < G; g++) seqs.append(p * G + g, ids, 'prompt');
  });
  const special = tokenizer.special;
  const stops = new Set([special.toolClose, special.answerClose, special.eos]);
  const active = Array.from({ length: n }, () => true);
  const turns: PolicyTurn[][] = Array.from({ length: n }, () => []);
  const turnsTaken = new Uint32Array(n);
  const firstResultTurn = new Int32Array(n).fill(-1);
  let decodeMs = 0;
  let toolMs = 0;
  let toolCalls = 0;
  let toolFailures = 0;
  const searchOptions = {
    topK: s.searchTopK,
    resultTokenBudget: s.resultTokenBudget,
    maxQueryChars: DEFAULT_SEARCH_CONFIG.maxQueryChars,
  };
  for (let k = 0; k < K && active.some((a) => a); k++) {
    const decodeStart = performance.now();
    const rows = active.flatMap((a, b) => (a ? [b] : []));
    const generated = rows.map(() => [] as number[]);
    const live = rows.map((b) => seqs.room(b) > 0);
    const stoppedBy = rows.map(() => -1);
    const seed = k === 0 ? s.seed : counterHash(s.seed, k);
    for (let step = 0; step < s.maxTurnTokens && live.some((l) => l); step++) {
      const liveRows = rows.flatMap((_, r) => (live[r] ? [r] : []));
      const lengthOf = (r: number) => seqs.lengths[rows[r]] + generated[r].length;
      const T = Math.max(...liveRows.map(lengthOf));
      const tokens = new Uint32Array(liveRows.length * T);
      const keyMask = new Uint32Array(liveRows.length * T);
      liveRows.forEach((r, j) => {
        const b = rows[r];
        tokens.set(seqs.tokens.subarray(b * contextLength, b * contextLength + seqs.lengths[b]), j * T);
        tokens.set(generated[r], j * T + seqs.lengths[b]);
        keyMask.fill(1, j * T, j * T + lengthOf(r));
      });
      const logits = policy.forward(tokens, keyMask, liveRows.length, T);
      liveRows.forEach((r, j) => {
        const position = lengthOf(r);
        const row = logits.subarray((j * T + position - 1) * V, (j * T + position) * V);
        const token =
          s.temperature === 0
            ? argmax(row)
            : sampleReference(row, s, u32ToUnit(counterHash(seed, s.step, rows[r], position)));
        generated[r].push(token);
        if (stops.has(token)) {
          stoppedBy[r] = token;
          live[r] = false;
        } else if (position + 1 >= contextLength) live[r] = false;
      });
      await yieldToEvents();
    }
    decodeMs += performance.now() - decodeStart;
    const calls: { b: number; text: string }[] = [];
    rows.forEach((b, r) => {
      seqs.append(b, generated[r], 'policy', k);
      turnsTaken[b] = k + 1;
      const text = tokenizer.decode(generated[r]);
      if (stoppedBy[r] === special.toolClose && k + 1 < K) calls.push({ b, text });
      else {
        turns[b].push({ text });
        active[b] = false;
      }
    });
    if (calls.length === 0) continue;
    const toolStart = performance.now();
    const replies = await safeRunBatch(
      search,
      calls.map((c) => c.text),
      searchOptions,
    );
    toolMs += performance.now() - toolStart;
    toolCalls += calls.length;
    calls.forEach(({ b, text }, j) => {
      const reply = replies[j];
      if (!reply.ok) toolFailures++;
      const resultIds = tokenizer.encode(reply.text);
      if (resultIds.length >= seqs.room(b)) {
        turns[b].push({ text });
        active[b] = false;
        return;
      }
      seqs.append(b, resultIds, 'sandbox');
      turns[b].push({ text, reply: { ok: reply.ok, text: reply.text } });
      if (firstResultTurn[b] < 0) firstResultTurn[b] = k;
    });
  }
  return trimmedBatch(seqs, items, {
    P,
    G,
    K,
    hideToolResults: s.hideToolResults,
    turns,
    turnsTaken,
    firstResultTurn,
    timings: { rolloutMs: performance.now() - started, decodeMs, toolMs },
    toolCalls,
    toolFailures,
  });
}

/** The batch with rows cut to the longest transcript (rounded up to 8): training cost is linear in T. */
function trimmedBatch(
  seqs: SequenceBuffer,
  items: readonly QaItem[],
  rest: Pick<
    RolloutBatch,
    'P' | 'G' | 'K' | 'turnsTaken' | 'firstResultTurn' | 'timings' | 'toolCalls' | 'toolFailures'
  > & {
    readonly hideToolResults: boolean;
    readonly turns: readonly PolicyTurn[][];
  },
): RolloutBatch {
  const n = seqs.N;
  const T = Math.min(seqs.T, Math.ceil(Math.max(...seqs.lengths) / 8) * 8);
  const cut = (a: Uint32Array) => {
    const out = new Uint32Array(n * T);
    for (let b = 0; b < n; b++) out.set(a.subarray(b * seqs.T, b * seqs.T + T), b * T);
    return out;
  };
  const { turns, hideToolResults, ...fields } = rest;
  return {
    ...fields,
    T,
    items,
    tokens: cut(seqs.tokens),
    lengths: seqs.lengths,
    turnIndex: cut(seqs.turnIndex),
    lossMask: cut(seqs.lossMask),
    keyMask: cut(seqs.keyMask(hideToolResults)),
    rollouts: turns.map((t, i) => ({ question: items[Math.floor(i / rest.G)].question, turns: t })),
    roundTrips: 0,
  };
}
