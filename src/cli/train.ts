// npm run train -- --preset paper-mt-grpo --steps 200 --seed 1 --out runs/x [--checkpoint PATH|none] [--<knob> V]
// Headless RL on Node WebGPU (Dawn). Writes to --out: config.json, metrics.jsonl (one line per step, with the
// held-out evaluation every --eval-every steps), transcripts.jsonl (the last step's rollouts with per-token
// advantages), policy.safetensors + policy.json (the final checkpoint).
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { configDiff, DEFAULT_CONFIG } from '../core/config';
import { GpuError } from '../gpu/errors';
import { encodeSafetensors } from '../model/checkpoint';
import type { StepMetrics } from '../rl/metrics';
import { type StepSnapshot, Trainer } from '../rl/trainer';
import { knobHelp, parseArgs } from './args';
import { BASE_CHECKPOINT, setupRun } from './setup';

const USAGE = `usage: npm run train -- [--preset NAME] [--out DIR] [--checkpoint PATH|none] [--quiet] [--<knob> VALUE …]

knobs (flag, default, meaning):
${knobHelp()}`;

export interface TrainOptions {
  readonly out: string;
  readonly checkpoint: string;
  readonly quiet: boolean;
}

function progressLine(m: StepMetrics, steps: number): string {
  const width = 24;
  const filled = Math.round((m.step / steps) * width);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
  const held = m.heldOut
    ? ` | held-out tool ${m.heldOut.toolCallRate.toFixed(2)} EM ${m.heldOut.exactMatch.toFixed(2)}`
    : '';
  return `${bar} step ${m.step}/${steps} reward ${m.rewardMean.toFixed(3)} tool ${m.toolCallRate.toFixed(2)} EM ${m.exactMatch.toFixed(2)} ${m.tokensPerSec.toFixed(0)} tok/s${m.skipped ? ' SKIPPED (non-finite)' : ''}${held}`;
}

/** The last step's rollouts as readable JSON: text per token with its role, turn and advantage. */
function transcripts(snapshot: StepSnapshot, tokenText: (id: number) => string): string {
  const { batch, tokenAdvantages, aTurn, rewards } = snapshot;
  const { T, K, G } = batch;
  const lines: string[] = [];
  for (let r = 0; r < batch.P * batch.G; r++) {
    const tokens: { text: string; turn: number | null; advantage: number }[] = [];
    for (let t = 0; t < batch.lengths[r]; t++) {
      const i = r * T + t;
      const policy = batch.lossMask[i] === 1;
      tokens.push({
        text: tokenText(batch.tokens[i]),
        turn: policy ? batch.turnIndex[i] : null,
        advantage: policy ? tokenAdvantages[i] : 0,
      });
    }
    lines.push(
      JSON.stringify({
        step: snapshot.step,
        rollout: r,
        question: batch.items[Math.floor(r / G)].question,
        answers: batch.items[Math.floor(r / G)].answers,
        turnAdvantages: Array.from(aTurn.subarray(r * K, (r + 1) * K)),
        rewards: rewards[r],
        tokens,
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}

export async function runTraining(
  argv: readonly string[],
  log: (s: string) => void = console.log,
): Promise<StepMetrics[]> {
  const parsed = parseArgs(argv, { out: true, checkpoint: true, quiet: false, help: false });
  if (!parsed.ok) throw new UsageError(parsed.error);
  if (parsed.value.extra.help) throw new UsageError('');
  const options: TrainOptions = {
    out: resolve(parsed.value.extra.out ?? `runs/${Date.now()}`),
    checkpoint: parsed.value.extra.checkpoint ?? BASE_CHECKPOINT,
    quiet: parsed.value.extra.quiet === 'true',
  };
  const setup = await setupRun(parsed.value.config, options.checkpoint, parsed.value.explicit).catch(
    (e: unknown) => {
      if (e instanceof GpuError) {
        throw new Error(
          `${e.message}\nWebGPU is required for RL training; see the README ("How the tests reach WebGPU without a GPU").`,
        );
      }
      throw e;
    },
  );
  const { config } = setup;
  await mkdir(options.out, { recursive: true });
  await writeFile(
    join(options.out, 'config.json'),
    `${JSON.stringify({ config, changedFromDefaults: configDiff(DEFAULT_CONFIG, config), checkpoint: setup.source, adapter: setup.ctx.info.label }, null, 2)}\n`,
  );
  log(
    `adapter ${setup.ctx.info.label} · policy from ${setup.source} · ${setup.policy.layout.parameterCount} parameters · ${setup.trainItems.length} training questions`,
  );
  const trainer = new Trainer({
    policy: setup.policy,
    tokenizer: setup.corpus.tokenizer,
    search: setup.search,
    trainItems: setup.trainItems,
    heldOutItems: setup.heldOutItems,
    config,
  });
  const all: StepMetrics[] = [];
  const metricsLines: string[] = [];
  let last: StepSnapshot | null = null;
  try {
    for (let s = 1; s <= config.steps; s++) {
      const { metrics, snapshot } = await trainer.step();
      const heldOut =
        config.evalEvery > 0 && (s % config.evalEvery === 0 || s === config.steps)
          ? await trainer.evaluate()
          : undefined;
      const full: StepMetrics = heldOut ? { ...metrics, heldOut } : metrics;
      all.push(full);
      last = snapshot;
      metricsLines.push(JSON.stringify(full));
      await writeFile(join(options.out, 'metrics.jsonl'), `${metricsLines.join('\n')}\n`);
      if (!options.quiet) log(progressLine(full, config.steps));
    }
    const params = await setup.policy.readParams();
    const info = {
      step: String(config.steps),
      seed: String(config.seed),
      estimator: config.advantageEstimator,
      from: setup.source,
    };
    await writeFile(
      join(options.out, 'policy.safetensors'),
      encodeSafetensors(setup.policy.layout, params, info),
    );
    await writeFile(
      join(options.out, 'policy.json'),
      `${JSON.stringify({ model: setup.policy.config, run: config, info }, null, 2)}\n`,
    );
    if (last)
      await writeFile(
        join(options.out, 'transcripts.jsonl'),
        transcripts(last, (id) => setup.corpus.tokenizer.tokenText(id)),
      );
  } finally {
    trainer.destroy();
    setup.close();
  }
  return all;
}

export class UsageError extends Error {}

// Entry point when run as a script (scripts/run.mjs bundles this file on its own).
if (process.argv[1]?.endsWith('train.mjs')) {
  runTraining(process.argv.slice(2))
    .then(() => process.exit(0))
    .catch((e: unknown) => {
      if (e instanceof UsageError) {
        if (e.message) console.error(`error: ${e.message}\n`);
        console.error(USAGE);
        process.exit(2);
      }
      console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    });
}
