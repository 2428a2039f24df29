// KV-cache decoding: B sequences advance one token per step in lockstep, entirely on the GPU. Sampling and
// stop detection run in shaders/sample.wgsl, so many steps are recorded into one command buffer and the CPU
// reads back once per turn (DESIGN.md §4).
//
// The cache of layer l is simply that layer's qkv activation (B, Tmax, 3C) from the training arena: a prefill
// is the ordinary forward pass over the whole (B, Tmax) token buffer, and each decode step writes the new
// token's qkv row at its position (kvScatter) and attends over the rows before it.
import type { KernelEncoder } from '../gpu/context';
import { ShapeError } from '../gpu/errors';
import { type Tensor, view } from '../gpu/tensor';
import type { Activations } from './activations';
import { attentionDecode, kvScatter } from './attention';
import { embeddingDecode } from './embedding';
import { geluForward } from './gelu';
import { type GpuGpt, IGNORE_TARGET } from './gpt';
import { layernormForward } from './layernorm';
import { layerParamNames } from './layout';
import { matmulForward } from './matmul';
import { addForward } from './residual';
import { DONE, type SampleTokensOptions, sampleTokens } from './sample';

/** The sampler's options a caller chooses; the decoder supplies Tmax and the adapter's row tuning. */
export type SamplingSettings = Omit<SampleTokensOptions, 'Tmax' | 'tuning'>;

export interface DecodeSnapshot {
  readonly tokens: Uint32Array; // (B, Tmax)
  readonly positions: Uint32Array; // (B) index of each sequence's last token
  readonly done: Uint32Array; // (B) DONE reason codes
}

/** Per-step activations for B rows (one token per sequence). */
interface StepBuffers {
  readonly x: Tensor; // (B,C) residual
  readonly xMid: Tensor; // (B,C)
  readonly ln: Tensor; // (B,C)
  readonly mean: Tensor; // (B)
  readonly rstd: Tensor; // (B)
  readonly qkv: Tensor; // (B,3C)
  readonly atty: Tensor; // (B,C)
  readonly proj: Tensor; // (B,C)
  readonly fch: Tensor; // (B,4C)
  readonly fchGelu: Tensor; // (B,4C)
  readonly logits: Tensor; // (B,V)
}

export class KvDecoder {
  readonly model: GpuGpt;
  readonly B: number;
  readonly Tmax: number;
  readonly tokens: Tensor; // (B,Tmax) u32
  readonly positions: Tensor; // (B) u32
  readonly done: Tensor; // (B) u32
  readonly turnTokens: Tensor; // (B) u32
  private readonly step: StepBuffers;
  private acts: Activations | null = null;

  constructor(model: GpuGpt, B: number, Tmax = model.config.contextLength) {
    const { width: C, vocabSize: V, contextLength } = model.config;
    if (!Number.isInteger(B) || B <= 0)
      throw new ShapeError('decode', `batch size must be positive, got ${B}`);
    if (Tmax > contextLength)
      throw new ShapeError('decode', `Tmax ${Tmax} exceeds the context length ${contextLength}`);
    this.model = model;
    this.B = B;
    this.Tmax = Tmax;
    const ctx = model.ctx;
    this.tokens = ctx.tensor('decode.tokens', [B, Tmax], 'u32');
    this.positions = ctx.tensor('decode.positions', [B], 'u32');
    this.done = ctx.tensor('decode.done', [B], 'u32');
    this.turnTokens = ctx.tensor('decode.turnTokens', [B], 'u32');
    const t = (name: string, shape: number[]) => ctx.tensor(`decode.${name}`, shape);
    this.step = {
      x: t('x', [B, C]),
      xMid: t('xMid', [B, C]),
      ln: t('ln', [B, C]),
      mean: t('mean', [B]),
      rstd: t('rstd', [B]),
      qkv: t('qkv', [B, 3 * C]),
      atty: t('atty', [B, C]),
      proj: t('proj', [B, C]),
      fch: t('fch', [B, 4 * C]),
      fchGelu: t('fchGelu', [B, 4 * C]),
      logits: t('logits', [B, V]),
    };
  }

  /**
   * Starts a turn: uploads every sequence's tokens so far (B, Tmax) with its length, runs the prefill that
   * fills the caches, and marks finished sequences (active[b] = false) as done so decoding skips them.
   */
  beginTurn(
    tokens: Uint32Array,
    lengths: readonly number[],
    keyMask: Uint32Array,
    active: readonly boolean[],
  ): void {
    const { B, Tmax } = this;
    if (tokens.length !== B * Tmax || keyMask.length !== B * Tmax) {
      throw new ShapeError('decode', `tokens and keyMask must have B·Tmax = ${B * Tmax} entries`);
    }
    if (lengths.length !== B || active.length !== B)
      throw new ShapeError('decode', `need ${B} lengths and active flags`);
    const positions = new Uint32Array(B);
    const done = new Uint32Array(B);
    for (let b = 0; b < B; b++) {
      const n = lengths[b];
      if (!Number.isInteger(n) || n < 1 || n > Tmax)
        throw new ShapeError('decode', `sequence ${b} has length ${n}, expected 1..${Tmax}`);
      positions[b] = n - 1;
      done[b] = !active[b] ? DONE.stopToken : n >= Tmax ? DONE.contextFull : DONE.running;
    }
    const targets = new Uint32Array(B * Tmax).fill(IGNORE_TARGET);
    this.acts = this.model.upload({ B, T: Tmax, tokens, targets, keyMask });
    const ctx = this.model.ctx;
    ctx.write(this.tokens, tokens);
    ctx.write(this.positions, positions);
    ctx.write(this.done, done);
    ctx.write(this.turnTokens, new Uint32Array(B));
    const enc = ctx.encoder('prefill');
    this.model.forward(enc, this.acts, { head: false });
    enc.submit();
  }

  /**
   * Records `count` decode steps into `enc`. Each step embeds the last token of every sequence, runs the
   * blocks over the cache, and samples the next token on the GPU. With `recordLogits` (count·B·V floats), the
   * logits of every step are kept (tests compare them with the full forward).
   */
  decode(enc: KernelEncoder, count: number, sampling: SamplingSettings, recordLogits?: Tensor): void {
    if (!this.acts) throw new Error('decode before beginTurn: the caches are empty');
    const { B, Tmax, model } = this;
    const { width: C, heads: H, layers: L, vocabSize: V } = model.config;
    const s = this.step;
    const dims = { B, T: Tmax, C, H };
    const tuning = { tuning: model.rowTuning };
    for (let i = 0; i < count; i++) {
      embeddingDecode(enc, s.x, this.tokens, this.positions, model.param('wte'), model.param('wpe'));
      for (let l = 0; l < L; l++) {
        const n = layerParamNames(l);
        const cache = this.acts.layers[l].qkv;
        layernormForward(enc, s.ln, s.mean, s.rstd, s.x, model.param(n.ln1w), model.param(n.ln1b), tuning);
        matmulForward(enc, s.qkv, s.ln, model.param(n.qkvw), model.param(n.qkvb));
        kvScatter(enc, cache, s.qkv, this.positions, dims);
        attentionDecode(enc, s.atty, cache, this.positions, this.acts.keyMask, dims);
        matmulForward(enc, s.proj, s.atty, model.param(n.projw), model.param(n.projb));
        addForward(enc, s.xMid, s.x, s.proj);
        layernormForward(enc, s.ln, s.mean, s.rstd, s.xMid, model.param(n.ln2w), model.param(n.ln2b), tuning);
        matmulForward(enc, s.fch, s.ln, model.param(n.fcw), model.param(n.fcb));
        geluForward(enc, s.fchGelu, s.fch);
        matmulForward(enc, s.proj, s.fchGelu, model.param(n.fcprojw), model.param(n.fcprojb));
        addForward(enc, s.x, s.xMid, s.proj);
      }
      layernormForward(
        enc,
        s.ln,
        s.mean,
        s.rstd,
        s.x,
        model.param('lnf.weight'),
        model.param('lnf.bias'),
        tuning,
      );
      matmulForward(enc, s.logits, s.ln, model.param('wte'), null);
      if (recordLogits) enc.copy(s.logits, view(recordLogits, `logits[${i}]`, [B, V], i * B * V * 4));
      sampleTokens(
        enc,
        {
          logits: s.logits,
          tokens: this.tokens,
          positions: this.positions,
          done: this.done,
          turnTokens: this.turnTokens,
        },
        { ...sampling, stopTokens: [...sampling.stopTokens], Tmax, tuning: model.rowTuning },
      );
    }
  }

  /** One readback: the token buffer, positions and done flags. */
  async read(expectedMs = 0): Promise<DecodeSnapshot> {
    const [tokens, positions, done] = await this.model.ctx.readMany(
      [this.tokens, this.positions, this.done],
      expectedMs,
    );
    return { tokens: tokens as Uint32Array, positions: positions as Uint32Array, done: done as Uint32Array };
  }

  destroy(): void {
    const ctx = this.model.ctx;
    for (const t of [this.tokens, this.positions, this.done, this.turnTokens, ...Object.values(this.step)]) {
      ctx.destroyBuffer(t.buffer);
    }
  }
}
