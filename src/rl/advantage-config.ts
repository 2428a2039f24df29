// Hyperparameters of the advantage estimators and the policy loss (DESIGN.md §6), as zod schemas with defaults,
// to be merged into the central config. Key names are the ones the UI and the URL codec will show.
import { z } from 'zod';

/** DESIGN.md §6; docs/advantages.md explains each one. */
export const advantageEstimatorSchema = z.enum(['grpo-or', 'grpo-mr', 'mt-grpo', 'mt-grpo-k']);
export type AdvantageEstimator = z.infer<typeof advantageEstimatorSchema>;

/** Which rollouts the K-turn estimator normalises turn j over (docs/advantages.md, "Turn normalisation"). */
export const turnNormalizationSchema = z.enum(['reached', 'all']);
export type TurnNormalization = z.infer<typeof turnNormalizationSchema>;

export const advantageConfigSchema = z.object({
  /** the study's two-turn MT-GRPO; 'mt-grpo-k' generalises it to K turns for multi-hop questions */
  advantageEstimator: advantageEstimatorSchema.default('mt-grpo'),
  /** λ: weight of the turn-level advantage next to the outcome advantage (the study's default, 1) */
  turnAdvantageCoef: z.number().min(0).max(10).default(1),
  /** γ: discount of later turns' advantages in the K-turn reward-to-go (1 = undiscounted sum) */
  turnDiscount: z.number().min(0).max(1).default(1),
  /** divide by the group's (sample) std; false = Dr. GRPO, subtract the group mean only */
  normalizeStd: z.boolean().default(true),
  /** the std is floored at this value before ε is added (0 = no floor); damps groups that barely differ */
  stdFloor: z.number().min(0).max(10).default(0),
  /** ε in (x − mean) / (std + ε) */
  advantageEpsilon: z.number().min(0).max(1).default(1e-6),
  /** 'reached': turn j is normalised over rollouts that reached it; 'all': missing turns count as reward 0 */
  turnNormalization: turnNormalizationSchema.default('reached'),
  /** DAPO-style: groups whose outcome reward does not vary get zero advantages (they are counted either way) */
  filterZeroStdGroups: z.boolean().default(false),
});
export type AdvantageConfig = z.infer<typeof advantageConfigSchema>;

export const lossAggregationSchema = z.enum(['token-mean', 'sequence-mean']);
export type LossAggregation = z.infer<typeof lossAggregationSchema>;

export const policyLossConfigSchema = z.object({
  /** ε_low: the ratio is clipped at 1 − ε_low where the advantage is negative */
  clipLow: z.number().min(0).lt(1).default(0.2),
  /** ε_high: the ratio is clipped at 1 + ε_high where the advantage is positive (DAPO's clip-higher: 0.28) */
  clipHigh: z.number().min(0).max(10).default(0.2),
  /** β: weight of the k3 KL estimate to the frozen reference policy; 0 skips the reference forward */
  klCoef: z.number().min(0).max(10).default(0),
  /** c_ent: entropy bonus (the loss subtracts c_ent · H) */
  entropyCoef: z.number().min(0).max(1).default(0),
  /** 'token-mean': every action token of the batch weighs the same; 'sequence-mean': every sequence does */
  lossAggregation: lossAggregationSchema.default('token-mean'),
});
export type PolicyLossConfig = z.infer<typeof policyLossConfigSchema>;

export const DEFAULT_ADVANTAGE_CONFIG: AdvantageConfig = advantageConfigSchema.parse({});
export const DEFAULT_POLICY_LOSS_CONFIG: PolicyLossConfig = policyLossConfigSchema.parse({});
