// The shape of the policy. One typed, validated object (STYLE.md); the UI and URL codec reuse the schema.
import { z } from 'zod';

export const modelConfigSchema = z
  .object({
    /** V: tokens in the vocabulary (the sandbox tokenizer decides it). */
    vocabSize: z.number().int().min(2).max(65_536),
    /** T: the longest sequence the model sees (learned position embeddings). */
    contextLength: z.number().int().min(1).max(4096),
    /** L: transformer blocks. */
    layers: z.number().int().min(1).max(48),
    /** H: attention heads; must divide the width. */
    heads: z.number().int().min(1).max(64),
    /** C: model width; a multiple of 4 (vec4 kernels). */
    width: z.number().int().min(4).max(4096),
  })
  .refine((c) => c.width % c.heads === 0, { message: 'width must be divisible by heads', path: ['heads'] })
  .refine((c) => c.width % 4 === 0, { message: 'width must be a multiple of 4', path: ['width'] })
  .refine((c) => (c.width / c.heads) % 4 === 0, {
    message: 'head size (width / heads) must be a multiple of 4',
    path: ['heads'],
  });

export type ModelConfig = z.infer<typeof modelConfigSchema>;

/** The engine benchmark's reference configuration (issue 2). */
export const BENCH_MODEL: ModelConfig = {
  vocabSize: 256,
  contextLength: 128,
  layers: 2,
  heads: 4,
  width: 128,
};

export function parseModelConfig(
  input: unknown,
): { ok: true; value: ModelConfig } | { ok: false; error: string } {
  const result = modelConfigSchema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    error: result.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; '),
  };
}
