// Reading an exported ONNX file back without running it: its metadata (vocabulary, model and run config,
// provenance), opset and graph signature. An import boundary, so every failure is a value with a reason.
import { parseRunConfig, type Result, type RunConfig } from '../core/config';
import { type ModelConfig, parseModelConfig } from '../core/model-config';
import { METADATA_KEYS, ONNX_FORMAT } from './onnx';
import { onnx } from './onnx-graph';

export interface OnnxFileInfo {
  readonly producer: string;
  readonly opset: number;
  readonly model: ModelConfig;
  readonly vocabulary: readonly string[];
  readonly runConfig: RunConfig | null;
  /** metadata_props this exporter does not own (provenance). */
  readonly info: Readonly<Record<string, string>>;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Initializer names → dims, for a quick look at the weights. */
  readonly initializers: ReadonlyMap<string, readonly number[]>;
}

const fail = (error: string): { ok: false; error: string } => ({
  ok: false,
  error: `ONNX file refused: ${error}`,
});

function parseJson(text: string | undefined, what: string): Result<unknown> {
  if (text === undefined) return fail(`metadata ${what} is missing`);
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return fail(`metadata ${what} is not JSON`);
  }
}

export function readOnnxInfo(bytes: Uint8Array): Result<OnnxFileInfo> {
  let model: ReturnType<typeof onnx.ModelProto.decode>;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    return fail(`not an ONNX ModelProto (${e instanceof Error ? e.message : String(e)})`);
  }
  const meta = new Map(model.metadataProps.map((p) => [p.key ?? '', p.value ?? '']));
  if (meta.get(METADATA_KEYS.format) !== ONNX_FORMAT) {
    return fail(`not a ${ONNX_FORMAT} file (format = ${JSON.stringify(meta.get(METADATA_KEYS.format))})`);
  }
  const configJson = parseJson(meta.get(METADATA_KEYS.modelConfig), METADATA_KEYS.modelConfig);
  if (!configJson.ok) return configJson;
  const config = parseModelConfig(configJson.value);
  if (!config.ok) return fail(`model_config invalid: ${config.error}`);
  const vocabJson = parseJson(meta.get(METADATA_KEYS.vocabulary), METADATA_KEYS.vocabulary);
  if (!vocabJson.ok) return vocabJson;
  const vocabulary = vocabJson.value;
  if (!Array.isArray(vocabulary) || !vocabulary.every((t) => typeof t === 'string')) {
    return fail('metadata vocabulary is not a list of strings');
  }
  let runConfig: RunConfig | null = null;
  if (meta.has(METADATA_KEYS.runConfig)) {
    const runJson = parseJson(meta.get(METADATA_KEYS.runConfig), METADATA_KEYS.runConfig);
    if (!runJson.ok) return runJson;
    const parsed = parseRunConfig(runJson.value);
    if (!parsed.ok) return fail(`run_config invalid: ${parsed.error}`);
    runConfig = parsed.value;
  }
  const reserved = new Set<string>(Object.values(METADATA_KEYS));
  const info = Object.fromEntries([...meta].filter(([k]) => !reserved.has(k)));
  const opset = model.opsetImport.find((o) => !o.domain)?.version;
  const graph = model.graph;
  return {
    ok: true,
    value: {
      producer: `${model.producerName} ${model.producerVersion}`,
      opset: Number(opset ?? 0),
      model: config.value,
      vocabulary,
      runConfig,
      info,
      inputs: (graph?.input ?? []).map((v) => v.name ?? ''),
      outputs: (graph?.output ?? []).map((v) => v.name ?? ''),
      initializers: new Map(
        (graph?.initializer ?? []).map((t) => [t.name ?? '', (t.dims ?? []).map(Number)]),
      ),
    },
  };
}
