import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEARCH_CONFIG } from '../../../src/sandbox/config';
import { formatToolCall } from '../../../src/sandbox/tool-call';
import type { Passage } from '../../../src/sandbox/types';
import { SearchClient, searchFollowingOptions } from '../../../src/workers/search-client';
import { createNodeSearchEndpoint } from '../../../src/workers/search-endpoint-node';
import { TEST_CRASH_MARKER, TEST_STALL_MARKER } from '../../../src/workers/search-protocol';
import { committedCorpus } from '../../helpers/corpus';

const TIMEOUT_MS = 1500;
let client: SearchClient;
let passages: readonly Passage[];

beforeAll(async () => {
  ({ passages } = await committedCorpus());
  client = new SearchClient(createNodeSearchEndpoint, {
    passages,
    search: { ...DEFAULT_SEARCH_CONFIG, callTimeoutMs: TIMEOUT_MS },
    testHooks: true,
  });
});
afterAll(() => client.close());

describe('search worker (worker_threads)', () => {
  it('answers a batch exactly as the in-process engine does, in order', async () => {
    const { engine } = await committedCorpus();
    const calls = [
      formatToolCall('capital of mongolia'),
      '<tool> nope </tool>',
      formatToolCall('atomic mass of iron'),
      'no call',
    ];
    const replies = await client.runBatch(calls);
    expect(replies).toEqual(calls.map((c) => engine.execute(c, DEFAULT_SEARCH_CONFIG)));
    expect(replies[0].ok).toBe(true);
    expect(replies[0].text).toMatch(
      /^<result> ulan bator is the capital (city )?of mongolia \. .*<\/result>$/,
    );
    expect(replies[1]).toMatchObject({ ok: false, error: 'missing-tool-name' });
    expect(replies[2].text).toContain('55.845');
  });

  it("follows a batch's top-k and result budget, as a live change of either knob needs", async () => {
    const { engine } = await committedCorpus();
    const caller = searchFollowingOptions(createNodeSearchEndpoint, {
      passages,
      search: DEFAULT_SEARCH_CONFIG,
    });
    try {
      const call = [formatToolCall('capital of mongolia')];
      for (const options of [
        DEFAULT_SEARCH_CONFIG,
        { ...DEFAULT_SEARCH_CONFIG, topK: 3, resultTokenBudget: 120 },
        { ...DEFAULT_SEARCH_CONFIG, resultTokenBudget: 8 },
      ]) {
        expect(await caller.runBatch(call, options)).toEqual([engine.execute(call[0], options)]);
      }
      const [wide, narrow] = [
        await caller.runBatch(call, { ...DEFAULT_SEARCH_CONFIG, topK: 3, resultTokenBudget: 120 }),
        await caller.runBatch(call, DEFAULT_SEARCH_CONFIG),
      ];
      expect(wide[0].text.length).toBeGreaterThan(narrow[0].text.length);
    } finally {
      caller.close();
    }
  });

  it('survives 10,000 hostile strings through the real worker', async () => {
    const strings = fc.sample(
      fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.string({ unit: 'grapheme' }),
      ),
      { numRuns: 10_000, seed: 42 },
    );
    for (let at = 0; at < strings.length; at += 1000) {
      const batch = strings.slice(at, at + 1000).map((s) => `<tool> search: ${s} </tool>`);
      const replies = await client.runBatch(batch);
      expect(replies.length).toBe(batch.length);
      for (const r of replies) expect(r.text).toMatch(/^<result> .* <\/result>$/s);
    }
    expect(client.stats().restarts).toBe(0);
  });

  it('a worker killed mid-batch: every pending call fails within the timeout, the next batch succeeds', async () => {
    const before = client.stats().restarts;
    const started = performance.now();
    // Two batches in flight when the worker dies: the crash marker kills the thread while it works on them.
    const [crashed, alsoInFlight] = await Promise.all([
      client.runBatch([
        formatToolCall('capital of peru'),
        TEST_CRASH_MARKER,
        formatToolCall('capital of chile'),
      ]),
      client.runBatch([formatToolCall('capital of france')]),
    ]);
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS);
    for (const r of [...crashed, ...alsoInFlight]) {
      expect(r.ok).toBe(false);
      expect(['worker-crashed', 'timeout']).toContain(r.error);
      expect(r.text).toMatch(/^<result> error : /);
    }
    expect(client.stats().restarts).toBe(before + 1);
    const next = await client.runBatch([formatToolCall('capital of peru')]);
    expect(next[0].ok).toBe(true);
    expect(next[0].text).toContain('lima');
  });

  it('a stalled worker: the batch times out, the worker is replaced, the next batch succeeds', async () => {
    const before = client.stats();
    const started = performance.now();
    const stalled = await client.runBatch([TEST_STALL_MARKER, formatToolCall('capital of peru')]);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(waited).toBeLessThan(TIMEOUT_MS + 1000);
    expect(stalled.map((r) => r.error)).toEqual(['timeout', 'timeout']);
    const after = client.stats();
    expect(after.timeouts).toBe(before.timeouts + 2);
    expect(after.restarts).toBe(before.restarts + 1);
    expect((await client.runBatch([formatToolCall('capital of peru')]))[0].ok).toBe(true);
  });

  it('counts calls, failures and latency', () => {
    const stats = client.stats();
    expect(stats.calls).toBeGreaterThan(10_000);
    expect(stats.failures).toBeGreaterThan(0);
    expect(stats.latency.p99Ms).toBeGreaterThanOrEqual(stats.latency.p50Ms);
  });

  it('test hooks are off by default: the markers are ordinary failed calls', async () => {
    const plain = new SearchClient(createNodeSearchEndpoint, { passages, search: DEFAULT_SEARCH_CONFIG });
    try {
      const replies = await plain.runBatch([TEST_CRASH_MARKER, TEST_STALL_MARKER]);
      expect(replies.map((r) => r.error)).toEqual(['no-call', 'no-call']);
      expect(plain.stats().restarts).toBe(0);
    } finally {
      plain.close();
    }
  });

  it('a pool of two workers splits a batch and keeps the order', async () => {
    const pool = new SearchClient(createNodeSearchEndpoint, {
      passages,
      search: DEFAULT_SEARCH_CONFIG,
      workers: 2,
    });
    try {
      const queries = [
        'capital of peru',
        'capital of chile',
        'capital of france',
        'atomic number of iron',
        'symbol of gold',
      ];
      const replies = await pool.runBatch(queries.map(formatToolCall));
      expect(replies.map((r) => r.ok)).toEqual([true, true, true, true, true]);
      expect(replies[4].text).toContain('au');
      expect(replies[2].text).toContain('paris');
    } finally {
      pool.close();
    }
  });
});
