import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../src/core/config';
import * as actions from '../../../src/ui/state/actions';
import { initialSession } from '../../../src/ui/state/session';
import { useSession, useUi } from '../../../src/ui/state/stores';
import { FakeTrainer } from '../../helpers/fake-trainer';

let fake: FakeTrainer;
let disconnect: () => void;

beforeEach(() => {
  disconnect?.();
  useSession.setState(initialSession(DEFAULT_CONFIG), true);
  useUi.setState({ knobErrors: {}, comparison: null, viewedStep: null, selectedRollout: 0 });
  fake = new FakeTrainer();
  disconnect = actions.connect(fake);
  useSession.setState({ status: 'idle' });
});

describe('actions', () => {
  it('sends a live knob to the trainer at once and keeps it pending until applied', async () => {
    await actions.commitKnob(fake, 'learningRate', '1e-3');
    expect(fake.sent.at(-1)).toEqual({ type: 'hparams.set', changes: { learningRate: 1e-3 } });
    expect(useSession.getState().pending).toEqual({ learningRate: 1e-3 });
    fake.emit({
      type: 'hparams.applied',
      step: 1,
      changes: [{ step: 1, key: 'learningRate', from: 3e-4, to: 1e-3 }],
    });
    expect(useSession.getState().pending).toEqual({});
    expect(useSession.getState().config.learningRate).toBe(1e-3);
  });

  it('holds a knob that needs a reset until Reset, which sends the merged config', async () => {
    // One more layer than the default (the shipped base policy's depth), so the change is real.
    const layers = DEFAULT_CONFIG.layers + 1;
    await actions.commitKnob(fake, 'layers', String(layers));
    expect(fake.sent.some((c) => c.type === 'hparams.set')).toBe(false);
    expect(useSession.getState().pending).toEqual({ layers });
    await actions.reset(fake);
    const sent = fake.sent.at(-1);
    expect(sent?.type === 'run.reset' && sent.config.layers).toBe(layers);
    expect(useSession.getState().pending).toEqual({});
  });

  it('refuses invalid text with a specific message and an inline error, sending nothing', async () => {
    await actions.commitKnob(fake, 'clipLow', '3');
    expect(useUi.getState().knobErrors.clipLow).toMatch(/a number from 0 to 0.99/);
    expect(useSession.getState().messages.at(-1)?.kind).toBe('invalid-hparams');
    await actions.commitKnob(fake, 'maxTurns', '1'); // MT-GRPO needs 2 turns: a cross-field rule
    expect(useUi.getState().knobErrors.maxTurns).toMatch(/MT-GRPO needs at least 2 turns/);
    expect(fake.sent.some((c) => c.type === 'hparams.set')).toBe(false);
    await actions.commitKnob(fake, 'clipLow', '0.1');
    expect(useUi.getState().knobErrors.clipLow).toBeUndefined();
  });

  it("feeds a step's events into the stores, and reports a refused command's reason", async () => {
    expect(await actions.step(fake)).toBe(true);
    expect(useSession.getState().live.series.length).toBe(1);
    expect(useSession.getState().credit).toHaveLength(1);
    fake.refuse.add('run.step');
    expect(await actions.step(fake)).toBe(false);
    expect(useSession.getState().messages.at(-1)?.text).toBe('Step failed: run.step refused');
  });

  it('keeps runs for the overlay, at most four besides the live one', async () => {
    for (let i = 0; i < 6; i++) {
      await actions.step(fake);
      actions.keepLiveRun(`run ${i}`);
    }
    const s = useSession.getState();
    expect(s.kept.map((r) => r.label)).toEqual(['run 2', 'run 3', 'run 4', 'run 5']);
    expect(s.live.series.length).toBe(0);
    actions.removeKept(s.kept[0].id);
    expect(useSession.getState().kept).toHaveLength(3);
  });

  it("runs the paper's three one after another on one seed and keeps each", async () => {
    fake.stepsPerStart = 4;
    await actions.comparePaperThree(fake, 4);
    const s = useSession.getState();
    expect(s.kept.map((r) => r.label)).toEqual(['GRPO-OR · seed 1', 'GRPO-MR · seed 1', 'MT-GRPO · seed 1']);
    expect(s.kept.every((r) => r.series.length === 4)).toBe(true);
    const estimators = fake.sent.flatMap((c) =>
      c.type === 'run.reset' ? [c.config.advantageEstimator] : [],
    );
    expect(estimators).toEqual(['grpo-or', 'grpo-mr', 'mt-grpo']);
    expect(useUi.getState().comparison).toBeNull();
  });

  it('a preset restarts the run with its config and the current seed', async () => {
    useSession.setState({ config: { ...DEFAULT_CONFIG, seed: 7 } });
    await actions.choosePreset(fake, 'quick-look');
    const sent = fake.sent.at(-1);
    expect(sent?.type).toBe('run.reset');
    if (sent?.type === 'run.reset') {
      expect(sent.config.seed).toBe(7);
      expect(sent.config.promptsPerStep).toBe(4);
    }
    expect(await actions.choosePreset(fake, 'nope')).toBe(false);
    expect(useSession.getState().messages.at(-1)?.text).toMatch(/unknown preset/);
  });

  it('imports a file: a bad one is refused with the reason and nothing sent; a config restarts the run', async () => {
    const file = (name: string, text: string) => ({
      name,
      arrayBuffer: async () => new TextEncoder().encode(text).buffer as ArrayBuffer,
    });
    const before = fake.sent.length;
    expect(await actions.importFromFile(fake, file('x.json', '{"learningRate": -1}'))).toBe(false);
    expect(useSession.getState().messages.at(-1)).toMatchObject({ kind: 'load' });
    expect(useSession.getState().messages.at(-1)?.text).toMatch(
      /x\.json refused: config refused: .*learningRate/,
    );
    expect(await actions.importFromFile(fake, file('y.bin', 'not a checkpoint at all'))).toBe(false);
    expect(useSession.getState().messages.at(-1)?.text).toMatch(/y\.bin refused: .*neither a config/);
    expect(fake.sent.length).toBe(before);

    fake.refuse.add('checkpoint.import');
    const header = new TextEncoder().encode('{"__metadata__":{}}');
    const bytes = new Uint8Array(8 + header.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    const checkpoint = { name: 'c.safetensors', arrayBuffer: async () => bytes.buffer as ArrayBuffer };
    expect(await actions.importFromFile(fake, checkpoint)).toBe(false);
    expect(fake.sent.at(-1)?.type).toBe('checkpoint.import');
    expect(useSession.getState().messages.at(-1)?.text).toMatch(
      /c\.safetensors refused: checkpoint\.import refused/,
    );

    expect(await actions.importFromFile(fake, file('z.json', JSON.stringify({ config: { seed: 9 } })))).toBe(
      true,
    );
    const sent = fake.sent.at(-1);
    expect(sent?.type === 'run.reset' && sent.config.seed).toBe(9);
    expect(useSession.getState().config.seed).toBe(9);
    expect(useSession.getState().messages.at(-1)?.text).toMatch(/Applied the config in z\.json/);
  });
});
