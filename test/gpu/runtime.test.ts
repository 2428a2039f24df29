// The GPU runtime itself: pooled buffers come back zeroed, GPU errors and device loss surface as typed
// failures the caller can act on, params slots do not bleed into each other.
import { describe, expect, it } from 'vitest';
import { GpuContext, sizeClass, u32 } from '../../src/gpu/context';
import { GpuError } from '../../src/gpu/errors';
import { geluForward } from '../../src/model/gelu';
import { gpuContext } from '../helpers/gpu';

describe('GPU runtime', () => {
  it('size classes waste at most an eighth of an octave', () => {
    for (const bytes of [1, 255, 256, 257, 1000, 4096, 5000, 1_000_001, 123_456_789]) {
      const size = sizeClass(bytes);
      expect(size).toBeGreaterThanOrEqual(bytes);
      expect(size % 256).toBe(0);
      expect(size).toBeLessThanOrEqual(Math.max(256, bytes * 1.125 + 256));
    }
  });

  it('reuses released buffers and hands them out zeroed', async () => {
    const ctx = await gpuContext();
    const a = ctx.tensorFrom('a', [1000], new Float32Array(1000).fill(7));
    await ctx.read(a);
    const allocated = ctx.allocatedBytes;
    ctx.destroyBuffer(a.buffer);
    const b = ctx.tensor('b', [990]);
    expect(b.buffer).toBe(a.buffer);
    expect(ctx.allocatedBytes).toBe(allocated);
    expect(Array.from(await ctx.read(b)).every((v) => v === 0)).toBe(true);
    ctx.destroyBuffer(b.buffer);
    ctx.trimPool();
    // The readback staging buffer was pooled too, so at least b's bytes are given back.
    expect(ctx.allocatedBytes).toBeLessThanOrEqual(allocated - b.buffer.size);
  });

  it('packs each dispatch its own params', async () => {
    const ctx = await gpuContext();
    const n = 4 * 300;
    const x = ctx.tensorFrom(
      'x',
      [n],
      Float32Array.from({ length: n }, (_, i) => i / n),
    );
    const outs = [ctx.tensor('y0', [n]), ctx.tensor('y1', [n / 2])];
    const enc = ctx.encoder('params');
    // Two dispatches of one kernel with different sizes in one encoder: the second must not see the first's n4.
    geluForward(enc, outs[0], x);
    geluForward(enc, outs[1], { ...x, shape: [n / 2], size: n / 2 });
    enc.submit();
    const [y0, y1] = await ctx.readMany(outs);
    expect(y1[n / 2 - 1]).toBeCloseTo(y0[n / 2 - 1], 6);
  });

  it('turns a GPU validation error into a typed GpuError at the next read', async () => {
    const ctx = await gpuContext();
    const x = ctx.tensor('x', [8]);
    const enc = ctx.encoder('broken');
    // A params slot where the kernel expects a storage buffer: invalid bind group.
    const kernel = {
      label: 'gelu_forward',
      code: (await import('../../shaders/gelu.wgsl?raw')).default,
      entryPoint: 'gelu_forward',
    };
    enc.dispatch(kernel, [enc.params([u32(2)]), enc.params([u32(1)]), x], [1]);
    enc.submit();
    const error = await ctx.read(x).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuError);
    expect((error as GpuError).failure.kind).toBe('validation');
    // The context recovers for the next, valid, work.
    expect((await ctx.read(x)).length).toBe(8);
  });

  it('reports a lost device as a typed failure and refuses further reads', async () => {
    const ctx = await GpuContext.create();
    const failures: string[] = [];
    ctx.onFailure((f) => failures.push(f.kind));
    const x = ctx.tensor('x', [4]);
    ctx.device.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(ctx.isLost).toBe(true);
    expect(failures).toContain('device-lost');
    const error = await ctx.read(x).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(() => ctx.throwIfFailed()).toThrow(/GPU device lost/);
  });
});
