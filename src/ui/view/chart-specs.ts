// The charts, as one declarative table (as the knob table drives the controls): adding a chart is one row.
// `key` names a column of the step series (flattenMetrics in state/reduce-event.ts) or, with
// `from: 'heldOut'`, of the held-out evaluations.

export interface ChartSeries {
  readonly key: string;
  readonly label: string;
  readonly from?: 'steps' | 'heldOut';
}

export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  readonly help: string;
  readonly series: readonly ChartSeries[];
  /** Fixed y range for rates; otherwise uPlot fits the data. */
  readonly unit?: 'rate';
  readonly log?: boolean;
}

export const CHARTS: readonly ChartSpec[] = [
  {
    id: 'reward',
    title: 'Reward (mean ± std of R^T + R^O)',
    help: 'Total reward per rollout, averaged over the batch.',
    series: [
      { key: 'rewardMean', label: 'mean' },
      { key: 'rewardStd', label: 'std' },
    ],
  },
  {
    id: 'reward-functions',
    title: 'Reward functions',
    help: 'Mean weighted value of each reward function (turn rewards summed over turns).',
    series: [
      { key: 'toolExecution', label: 'tool ok' },
      { key: 'answerInResults', label: 'answer in results' },
      { key: 'answerContained', label: 'answer contained' },
      { key: 'exactMatchReward', label: 'exact match' },
      { key: 'format', label: 'format' },
      { key: 'xmlTags', label: 'XML tags' },
    ],
  },
  {
    id: 'tool-use',
    title: 'Tool use',
    help: 'Rollouts whose first turn is a valid search call, and calls that returned results.',
    unit: 'rate',
    series: [
      { key: 'toolCallRate', label: 'call rate' },
      { key: 'toolSuccessRate', label: 'success rate' },
      { key: 'toolCallRate', label: 'held-out call rate', from: 'heldOut' },
    ],
  },
  {
    id: 'exact-match',
    title: 'Exact match',
    help: 'Final answers equal to an accepted answer: sampled training rollouts, and greedy held-out questions.',
    unit: 'rate',
    series: [
      { key: 'exactMatch', label: 'train' },
      { key: 'exactMatch', label: 'held-out', from: 'heldOut' },
    ],
  },
  {
    id: 'kl',
    title: 'KL to start',
    help: 'k3 estimate of KL(π‖π_ref) per action token.',
    series: [{ key: 'kl', label: 'KL' }],
  },
  {
    id: 'entropy',
    title: 'Entropy',
    help: 'Mean policy entropy per action token (nats).',
    series: [{ key: 'entropy', label: 'entropy' }],
  },
  {
    id: 'clip',
    title: 'Clip fractions',
    help: 'Action tokens whose ratio hit the lower or upper clip.',
    unit: 'rate',
    series: [
      { key: 'clipLowFraction', label: 'low' },
      { key: 'clipHighFraction', label: 'high' },
    ],
  },
  {
    id: 'loss',
    title: 'Loss',
    help: 'Total loss and its clipped-surrogate part.',
    series: [
      { key: 'loss', label: 'total' },
      { key: 'policyLoss', label: 'policy' },
    ],
  },
  {
    id: 'grad-norm',
    title: 'Gradient norm',
    help: 'Global norm before clipping.',
    series: [{ key: 'gradNorm', label: 'norm' }],
  },
  {
    id: 'learning-rate',
    title: 'Learning rate',
    help: 'AdamW step size after warmup and schedule.',
    series: [{ key: 'learningRate', label: 'lr' }],
  },
  {
    id: 'throughput',
    title: 'Tokens / s',
    help: 'Generated plus trained tokens per second of the whole step.',
    series: [{ key: 'tokensPerSec', label: 'tokens/s' }],
  },
  {
    id: 'step-time',
    title: 'Step time (ms)',
    help: 'Where a step goes: generating rollouts, waiting for search, training.',
    series: [
      { key: 'rolloutMs', label: 'rollout' },
      { key: 'toolMs', label: 'search' },
      { key: 'trainMs', label: 'train' },
    ],
  },
];

/** Okabe–Ito: distinguishable with every common colour-vision deficiency. */
export const RUN_COLOURS = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00'] as const;
/** With several runs overlaid, colour names the run and the dash names the series. */
export const SERIES_DASHES: readonly (readonly number[])[] = [
  [],
  [6, 3],
  [2, 3],
  [8, 3, 2, 3],
  [1, 2],
  [10, 5],
];
