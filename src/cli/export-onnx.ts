// npm run export:onnx -- [--checkpoint PATH] [--out FILE] [--vocab PATH]
// A checkpoint (safetensors, validated as on load) → an ONNX model with the vocabulary and, when the trainer
// wrote one beside it (policy.json), the run config as metadata. Refuses with the reason; writes nothing then.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseRunConfig, type Result, type RunConfig } from '../core/config';
import { exportOnnx } from '../export/onnx';
import { decodeSafetensors } from '../model/checkpoint';
import { ARTIFACT_FILES, CORPUS_DIR } from '../sandbox/build-files';
import { Tokenizer } from '../sandbox/tokenizer';
import { BASE_CHECKPOINT, REPO_ROOT } from './setup';

const USAGE = `usage: npm run export:onnx -- [--checkpoint PATH] [--out FILE] [--vocab PATH]
  --checkpoint  safetensors checkpoint (default ${BASE_CHECKPOINT})
  --out         ONNX file to write (default: the checkpoint's path with .onnx)
  --vocab       vocabulary JSON (default ${CORPUS_DIR}/${ARTIFACT_FILES.vocabulary})`;

export interface OnnxExportJob {
  readonly checkpoint: string;
  readonly out: string;
  readonly vocab: string;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The run config the trainer writes next to its checkpoint (policy.json: { run }), if there is a valid one. */
async function siblingRunConfig(checkpoint: string): Promise<RunConfig | undefined> {
  const path = checkpoint.replace(/\.safetensors$/, '.json');
  if (path === checkpoint || !existsSync(path)) return undefined;
  try {
    const parsed = parseRunConfig((JSON.parse(await readFile(path, 'utf8')) as { run?: unknown }).run);
    return parsed.ok ? parsed.value : undefined;
  } catch {
    return undefined;
  }
}

export async function exportCheckpoint(job: OnnxExportJob): Promise<Result<string>> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(job.checkpoint));
  } catch (e) {
    return {
      ok: false,
      error: `cannot read checkpoint ${job.checkpoint}: ${message(e)} (build one with npm run pretrain or npm run train)`,
    };
  }
  const loaded = decodeSafetensors(bytes);
  if (!loaded.ok) return { ok: false, error: `${job.checkpoint}: ${loaded.error}` };
  let vocabulary: readonly string[];
  try {
    const tokenizer = Tokenizer.fromVocabulary(JSON.parse(await readFile(job.vocab, 'utf8')) as unknown[]);
    if (!tokenizer.ok) return { ok: false, error: `${job.vocab}: ${tokenizer.error}` };
    vocabulary = tokenizer.tokenizer.vocabulary();
  } catch (e) {
    return { ok: false, error: `cannot read vocabulary ${job.vocab}: ${message(e)}` };
  }
  const { layout, params, meta } = loaded;
  if (vocabulary.length > layout.config.vocabSize) {
    return {
      ok: false,
      error: `${job.vocab} has ${vocabulary.length} tokens, the checkpoint's model only ${layout.config.vocabSize}`,
    };
  }
  const run = await siblingRunConfig(job.checkpoint);
  // A run config that disagrees with the checkpoint's shape would be a lie in the file: leave it out.
  const runConfig =
    run && (['layers', 'heads', 'width', 'contextLength'] as const).every((k) => run[k] === layout.config[k])
      ? run
      : undefined;
  let onnxBytes: Uint8Array;
  try {
    onnxBytes = exportOnnx(layout, params, {
      vocabulary,
      runConfig,
      info: { ...meta.info, checkpoint: job.checkpoint },
    });
  } catch (e) {
    return { ok: false, error: message(e) };
  }
  try {
    await writeFile(job.out, onnxBytes);
  } catch (e) {
    return { ok: false, error: `cannot write ${job.out}: ${message(e)}` };
  }
  return {
    ok: true,
    value:
      `wrote ${job.out} (${(onnxBytes.length / 1e6).toFixed(2)} MB, ${layout.parameterCount} parameters, ` +
      `${JSON.stringify(layout.config)}, vocabulary ${vocabulary.length}, run config ${runConfig ? 'included' : 'absent'})`,
  };
}

// Entry point when run as a script (scripts/run.mjs bundles this file on its own).
if (process.argv[1]?.endsWith('export-onnx.mjs')) {
  let values: { checkpoint?: string; out?: string; vocab?: string; help?: boolean };
  try {
    values = parseArgs({
      args: process.argv.slice(2),
      options: {
        checkpoint: { type: 'string' },
        out: { type: 'string' },
        vocab: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (e) {
    console.error(`error: ${message(e)}\n\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const checkpoint = resolve(values.checkpoint ?? BASE_CHECKPOINT);
  const result = await exportCheckpoint({
    checkpoint,
    out: resolve(values.out ?? checkpoint.replace(/(\.safetensors)?$/, '.onnx')),
    vocab: resolve(values.vocab ?? resolve(REPO_ROOT, CORPUS_DIR, ARTIFACT_FILES.vocabulary)),
  });
  if (!result.ok) {
    console.error(`error: ${result.error}`);
    process.exit(1);
  }
  console.log(result.value);
}
