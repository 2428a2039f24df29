// Where the time and memory go: tokens/s, GPU memory, the step's split, and per-kernel GPU time on the
// steps the worker profiles (timestamp queries; absent on adapters without them).
import { useSession } from '../state/stores';
import { formatBytes, formatMs, formatNumber } from '../view/format';

export function PerfPanel() {
  const perf = useSession((s) => s.perf);
  const info = useSession((s) => s.info);
  const kernels = perf ? [...perf.kernels].sort((a, b) => b.ms - a.ms).slice(0, 12) : [];
  const top = kernels[0]?.ms ?? 1;
  return (
    <section className="panel" aria-labelledby="perf-title" data-testid="perf-panel">
      <div className="panel-head">
        <h2 id="perf-title">Performance</h2>
        {info && (
          <span className="muted">
            {info.backend === 'webgpu' ? 'WebGPU' : 'CPU'} · {info.adapter} ·{' '}
            {formatNumber(info.parameterCount / 1e6, 2)}M parameters
          </span>
        )}
      </div>
      {perf ? (
        <>
          <dl className="perf-stats">
            <div>
              <dt>Tokens / s</dt>
              <dd data-testid="perf-tokens">{formatNumber(perf.tokensPerSec, 3)}</dd>
            </div>
            <div>
              <dt>GPU memory</dt>
              <dd data-testid="perf-memory">{formatBytes(perf.gpuBytes)}</dd>
            </div>
            <div>
              <dt>Step</dt>
              <dd>{formatMs(perf.stepMs)}</dd>
            </div>
            <div>
              <dt>Rollout · search · train</dt>
              <dd>
                {formatMs(perf.rolloutMs)} · {formatMs(perf.toolMs)} · {formatMs(perf.trainMs)}
              </dd>
            </div>
          </dl>
          {kernels.length > 0 ? (
            <table className="kernels">
              <caption>GPU time per kernel, step {perf.step}</caption>
              <thead>
                <tr>
                  <th scope="col">kernel</th>
                  <th scope="col">calls</th>
                  <th scope="col">ms</th>
                  <th scope="col">
                    <span className="visually-hidden">share</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {kernels.map((k) => (
                  <tr key={k.label}>
                    <th scope="row" className="mono">
                      {k.label}
                    </th>
                    <td>{k.count}</td>
                    <td>{formatNumber(k.ms, 3)}</td>
                    <td className="bar-cell">
                      <span className="bar" style={{ width: `${(100 * k.ms) / top}%` }} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="muted">
              Per-kernel times appear on profiled steps
              {info?.backend === 'cpu' ? ' (not on the CPU backend)' : ''}.
            </p>
          )}
        </>
      ) : (
        <p className="empty">Timings appear after the first step.</p>
      )}
    </section>
  );
}
