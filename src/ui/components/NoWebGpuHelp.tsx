// What to do without WebGPU: the browser-specific way to turn it on, or the CPU backend with a small preset.
import { switchToCpuBackend } from '../state/actions';
import { usePort } from './port-context';

export function NoWebGpuHelp() {
  const port = usePort();
  return (
    <div className="no-webgpu">
      <ul>
        <li>
          <strong>Chrome or Edge 113+</strong> on Windows, macOS and ChromeOS have WebGPU on; update the
          browser.
        </li>
        <li>
          <strong>Chrome on Linux</strong>: enable{' '}
          <span className="mono">chrome://flags/#enable-unsafe-webgpu</span> and{' '}
          <span className="mono">chrome://flags/#enable-vulkan</span>, then restart.
        </li>
        <li>
          <strong>Firefox Nightly</strong>: set <span className="mono">dom.webgpu.enabled</span> to true in{' '}
          <span className="mono">about:config</span>.
        </li>
        <li>
          <strong>Safari</strong>: use Safari Technology Preview (WebGPU in the Feature Flags).
        </li>
      </ul>
      <p>
        Or train on the CPU instead: the same model on the reference backend with the quick-look preset. It is
        much slower, but every view works.
      </p>
      <button
        type="button"
        className="primary"
        data-testid="btn-cpu-backend"
        disabled={port === null}
        onClick={() => port && switchToCpuBackend(port)}
      >
        Use the CPU backend
      </button>
    </div>
  );
}
