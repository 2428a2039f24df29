// Export and import: CSV/JSON of the metric series, config files validated through the knob table, and
// imports that refuse a corrupt or foreign file with the reason before anything reaches the trainer.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../src/core/config';
import {
  configToJson,
  importFile,
  looksLikeSafetensors,
  metricsToCsv,
  parseConfigFile,
  runToJson,
} from '../../../src/ui/client/export';
import type { Reply } from '../../../src/ui/client/trainer-client';
import type { RequestId, StepMetricsMessage } from '../../../src/workers/protocol';

const metric = (step: number, extra: Record<string, unknown> = {}) =>
  ({
    step,
    loss: 0.5 / step,
    skipped: false,
    advantageMean: [0.1 * step, -0.2],
    ...extra,
  }) as unknown as StepMetricsMessage;

function fakeTrainer(reply: Reply) {
  const sent: unknown[] = [];
  const send = async (command: unknown) => {
    sent.push(command);
    return reply;
  };
  return { sent, send };
}
const file = (name: string, bytes: Uint8Array | string) => ({
  name,
  arrayBuffer: async () =>
    (typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes).slice().buffer,
});

describe('export', () => {
  it('writes one CSV row per step with per-turn columns', () => {
    const csv = metricsToCsv([metric(1), metric(2, { advantageMean: [0.2, -0.2, 0.4], note: 'a,"b"' })]);
    const [header, one, two] = csv.trim().split('\n');
    expect(header).toBe('step,loss,skipped,advantageMean[0],advantageMean[1],advantageMean[2],note');
    expect(one).toBe('1,0.5,0,0.1,-0.2,,');
    expect(two).toBe('2,0.25,0,0.2,-0.2,0.4,"a,""b"""');
  });

  it('writes the run as JSON with the config diff, log and series', () => {
    const json = JSON.parse(
      runToJson({
        config: { ...DEFAULT_CONFIG, seed: 3 },
        metrics: [metric(1)],
        evals: [],
        changeLog: [{ step: 1, key: 'learningRate', from: 3e-4, to: 1e-3 }],
      }),
    );
    expect(json.changedFromDefaults).toEqual(['seed']);
    expect(json.metrics[0].step).toBe(1);
    expect(json.changeLog[0].key).toBe('learningRate');
  });

  it('reads config files: its own export, the CLI policy.json, a bare config; refuses bad ones with reasons', () => {
    const own = parseConfigFile(configToJson({ ...DEFAULT_CONFIG, maxTurns: 3 }, 5));
    expect(own.ok && own.value.maxTurns).toBe(3);
    const cli = parseConfigFile(JSON.stringify({ model: {}, run: { ...DEFAULT_CONFIG, seed: 9 }, info: {} }));
    expect(cli.ok && cli.value.seed).toBe(9);
    expect(parseConfigFile('{"learningRate": 0.01}').ok).toBe(true);
    const bad = parseConfigFile('{"learningRate": 9}');
    expect(!bad.ok && bad.error).toMatch(/learningRate.*Learning rate/);
    expect(!parseConfigFile('{"warp": 1}').ok).toBe(true);
    expect(!parseConfigFile('not json').ok && 'x').toBe('x');
  });

  it('refuses a corrupt checkpoint before the trainer sees it, and passes on the trainer’s refusal', async () => {
    const trainer = fakeTrainer({ type: 'reply', id: 1 as RequestId, ok: true });
    const corrupt = await importFile(file('policy.safetensors', new Uint8Array(100).fill(7)), trainer);
    expect(corrupt.ok).toBe(false);
    if (!corrupt.ok) expect(corrupt.error).toMatch(/neither a config.*nor a checkpoint/);
    expect(trainer.sent).toEqual([]);

    const header = new TextEncoder().encode('{"__metadata__":{}}');
    const bytes = new Uint8Array(8 + header.length + 8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    expect(looksLikeSafetensors(bytes)).toBe(true);
    const refusing = fakeTrainer({
      type: 'reply',
      id: 2 as RequestId,
      ok: false,
      error: 'checkpoint refused: model shape differs',
    });
    const refused = await importFile(file('other.safetensors', bytes), refusing);
    expect(refused).toEqual({ ok: false, error: 'checkpoint refused: model shape differs' });
    expect(refusing.sent).toHaveLength(1);
  });
});
