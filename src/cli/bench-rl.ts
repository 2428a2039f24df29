// npm run bench:rl -- [--json] [--steps N] [--checkpoint PATH|none] [--<knob> V …]
// One RL step of the paper-mt-grpo preset, timed: rollout tokens/s, the step split into rollout (decode) /
// tool / train, and GPU→CPU round trips per step, which must be turns + a small constant (they do not grow
// with the tokens decoded). The same step at two per-turn token budgets shows it.
import type { StepMetrics } from '../rl/metrics';
import { Trainer } from '../rl/trainer';
import { parseArgs } from './args';
import { runMain } from './main';
import { BASE_CHECKPOINT, setupRun } from './setup';

async function main(): Promise<void> {
  const parsed = parseArgs(['--preset', 'paper-mt-grpo', ...process.argv.slice(2)], {
    json: false,
    checkpoint: true,
  });
  if (!parsed.ok) throw new Error(parsed.error);
  const json = parsed.value.extra.json === 'true';
  const log = (s: string) => (json ? console.error(s) : console.log(s));
  const setup = await setupRun(
    parsed.value.config,
    parsed.value.extra.checkpoint ?? BASE_CHECKPOINT,
    parsed.value.explicit,
  );
  const steps = Math.max(1, Math.min(parsed.value.config.steps, 3));
  log(
    `adapter ${setup.ctx.info.label} · policy from ${setup.source} · P=${setup.config.promptsPerStep} G=${setup.config.rolloutsPerPrompt} K=${setup.config.maxTurns}`,
  );
  const run = async (maxTurnTokens: number) => {
    const config = { ...setup.config, maxTurnTokens, learningRate: 0 };
    const trainer = new Trainer({ ...setup, tokenizer: setup.corpus.tokenizer, config });
    const results: { metrics: StepMetrics; decoded: number; turns: number }[] = [];
    // Step 1 compiles pipelines; the rest are timed.
    for (let s = 0; s <= steps; s++) {
      const { metrics, snapshot } = await trainer.step();
      const decoded = snapshot.batch.lossMask.reduce((a, b) => a + b, 0);
      if (s > 0) results.push({ metrics, decoded, turns: Math.max(...snapshot.batch.turnsTaken) });
    }
    trainer.destroy();
    const avg = (f: (r: (typeof results)[number]) => number) =>
      results.reduce((a, r) => a + f(r), 0) / results.length;
    return {
      maxTurnTokens,
      stepMs: avg((r) => r.metrics.stepMs),
      rolloutMs: avg((r) => r.metrics.rolloutMs - r.metrics.toolMs),
      toolMs: avg((r) => r.metrics.toolMs),
      trainMs: avg((r) => r.metrics.trainMs),
      rolloutTokensPerSec: avg((r) => r.decoded / (r.metrics.rolloutMs / 1000)),
      decodedTokens: avg((r) => r.decoded),
      roundTripsPerStep: avg((r) => r.metrics.roundTrips),
      turns: avg((r) => r.turns),
    };
  };
  const main = await run(setup.config.maxTurnTokens);
  const short = await run(Math.max(4, Math.floor(setup.config.maxTurnTokens / 2)));
  for (const r of [main, short]) {
    log(
      `budget ${r.maxTurnTokens} tokens/turn: step ${r.stepMs.toFixed(0)} ms = rollout ${r.rolloutMs.toFixed(0)} + tool ${r.toolMs.toFixed(1)} + train ${r.trainMs.toFixed(0)} ms · ${r.rolloutTokensPerSec.toFixed(0)} rollout tokens/s (${r.decodedTokens.toFixed(0)} decoded) · ${r.roundTripsPerStep.toFixed(1)} round trips for ${r.turns.toFixed(1)} turns`,
    );
  }
  setup.close();
  if (json) {
    console.log(
      JSON.stringify({
        adapter: setup.ctx.info.label,
        rolloutTokensPerSec: main.rolloutTokensPerSec,
        stepMs: { total: main.stepMs, rolloutMs: main.rolloutMs, toolMs: main.toolMs, trainMs: main.trainMs },
        roundTripsPerStep: main.roundTripsPerStep,
        turns: main.turns,
        decodedTokensPerStep: main.decodedTokens,
        shorterBudget: {
          maxTurnTokens: short.maxTurnTokens,
          roundTripsPerStep: short.roundTripsPerStep,
          decodedTokensPerStep: short.decodedTokens,
        },
      }),
    );
  }
}

runMain(main);
