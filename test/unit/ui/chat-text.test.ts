// The chat panel's pure parts: a turn's text split into labelled parts (model output stays text), and the
// metrics recorder behind the CSV/JSON downloads (rollbacks and resets).
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../src/core/config';
import { RunRecorder } from '../../../src/ui/client/run-recorder';
import { resultBody, turnParts } from '../../../src/ui/view/chat-text';
import type { StepMetricsMessage, TrainerEvent } from '../../../src/workers/protocol';

describe('turnParts', () => {
  it('labels reasoning, the tool call and the answer; the rest is plain text', () => {
    expect(
      turnParts('<reasoning> look it up </reasoning> <tool> search: capital of mongolia </tool>'),
    ).toEqual([
      { kind: 'reasoning', text: 'look it up', unclosed: false },
      { kind: 'tool', text: 'search: capital of mongolia', unclosed: false },
    ]);
    expect(turnParts('so <answer> ulaanbaatar </answer> <eos>')).toEqual([
      { kind: 'text', text: 'so', unclosed: false },
      { kind: 'answer', text: 'ulaanbaatar', unclosed: false },
      { kind: 'text', text: '<eos>', unclosed: false },
    ]);
  });

  it('keeps a cut turn, stray closers and markup-looking output as text', () => {
    expect(turnParts('<reasoning> the capital')).toEqual([
      { kind: 'reasoning', text: 'the capital', unclosed: true },
    ]);
    expect(turnParts('</question> <img src=x onerror=alert(1)>')).toEqual([
      { kind: 'text', text: '</question> <img src=x onerror=alert(1)>', unclosed: false },
    ]);
    expect(resultBody('<result> ulaanbaatar is the capital </result>')).toBe('ulaanbaatar is the capital');
  });
});

describe('RunRecorder', () => {
  const metrics = (step: number) => ({ step, meanReward: step }) as unknown as StepMetricsMessage;
  const info = (step: number) =>
    ({ type: 'run.ready', info: { config: DEFAULT_CONFIG, step } }) as unknown as TrainerEvent;

  it('records steps, drops the steps a restarted worker repeats, starts over on a reset', () => {
    let listener: (e: TrainerEvent) => void = () => {};
    const recorder = new RunRecorder({
      onEvent: (l) => {
        listener = l;
        return () => {};
      },
    });
    listener(info(0));
    for (const s of [1, 2, 3, 4]) listener({ type: 'metrics.step', metrics: metrics(s) });
    listener(info(2)); // resumed from the step-2 checkpoint: steps 3 and 4 will come again
    expect(recorder.snapshot().metrics.map((m) => m.step)).toEqual([1, 2]);
    listener({ type: 'metrics.step', metrics: metrics(3) });
    expect(recorder.steps).toBe(3);
    listener(info(0));
    expect(recorder.steps).toBe(0);
  });
});
