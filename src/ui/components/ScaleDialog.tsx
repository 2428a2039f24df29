// "Run this at scale": the reference study's `accelerate launch …` command and a TRL GRPOConfig for the current
// run (src/export/cluster.ts: pure functions over the config, core imports only), each with a copy button and
// the notes on what does not carry over. A modal <dialog>: Escape closes it and focus stays inside.
import { useEffect, useRef, useState } from 'react';
import type { RunConfig } from '../../core/config';
import {
  type ClusterOptions,
  DEFAULT_CLUSTER_OPTIONS,
  studyLaunchCommand,
  trlConfigPython,
  trlGrpoConfig,
} from '../../export/cluster';

function CopyBlock({ label, text, testId }: { label: string; text: string; testId: string }) {
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('Copied');
    } catch {
      // Clipboard access can be refused (permissions, insecure origin); the text is selectable anyway.
      setCopied('Select the text and copy it');
    }
  };
  return (
    <div className="copy-block">
      <div className="copy-head">
        <h3>{label}</h3>
        <button type="button" onClick={copy} data-testid={`${testId}-copy`}>
          Copy
        </button>
        {copied && (
          <span className="muted" role="status">
            {copied}
          </span>
        )}
      </div>
      <pre data-testid={testId}>{text}</pre>
    </div>
  );
}

export function ScaleDialog({ config, onClose }: { config: RunConfig; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [options, setOptions] = useState<ClusterOptions>(DEFAULT_CLUSTER_OPTIONS);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  const study = studyLaunchCommand(config, options);
  const trl = trlGrpoConfig(config, options);
  const notes = [...(study.ok ? study.value.notes : []), ...(trl.ok ? trl.value.notes : [])];
  return (
    <dialog
      ref={ref}
      className="scale-dialog"
      data-testid="scale-dialog"
      onClose={onClose}
      aria-labelledby="scale-title"
    >
      <div className="panel-head">
        <h2 id="scale-title">Run this at scale</h2>
        <button type="button" onClick={() => ref.current?.close()} data-testid="scale-close">
          Close
        </button>
      </div>
      <p className="explain">
        The same experiment on a cluster: the reference study's trainer (turn-level credit) or Hugging Face
        TRL (outcome-level GRPO). See docs/cluster.md for the knob-by-knob mapping.
      </p>
      <div className="scale-options">
        <label>
          Model
          <input
            value={options.modelName}
            onChange={(e) =>
              setOptions({
                ...options,
                modelName: e.currentTarget.value || DEFAULT_CLUSTER_OPTIONS.modelName,
              })
            }
          />
        </label>
        <label>
          GPUs (one serves vLLM)
          <input
            type="number"
            min={2}
            max={64}
            value={options.numGpus}
            onChange={(e) =>
              setOptions({
                ...options,
                numGpus: Math.max(2, Math.min(64, Number(e.currentTarget.value) || 2)),
              })
            }
          />
        </label>
      </div>
      {study.ok ? (
        <CopyBlock
          label="The study's trainer (Multi-Turn-RL-Agent)"
          text={study.value.value}
          testId="scale-command"
        />
      ) : (
        <p className="error-text" role="alert">
          {study.error}
        </p>
      )}
      {trl.ok && (
        <CopyBlock label="TRL GRPOConfig" text={trlConfigPython(trl.value.value)} testId="scale-trl" />
      )}
      {notes.length > 0 && (
        <>
          <h3>What does not carry over</h3>
          <ul className="scale-notes" data-testid="scale-notes">
            {notes.map((n) => (
              <li key={n}>{n}</li>
            ))}
          </ul>
        </>
      )}
    </dialog>
  );
}
