// Node loader for the built corpus (CLI, tests, the worker_threads search worker).

import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARTIFACT_FILES, CORPUS_DIR } from './build-files';
import { parseArtifacts, type Result } from './load';
import type { CorpusArtifacts } from './types';

/** public/corpus of this checkout, found from this file's location (src/sandbox/ → repository root). */
export const DEFAULT_CORPUS_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', CORPUS_DIR);

export async function loadCorpusFromDisk(
  dir: string = DEFAULT_CORPUS_PATH,
): Promise<Result<CorpusArtifacts>> {
  const raw: Record<string, unknown> = {};
  for (const [key, file] of Object.entries(ARTIFACT_FILES)) {
    try {
      raw[key] = JSON.parse(await readFile(join(dir, file), 'utf8'));
    } catch (e) {
      return { ok: false, error: `${join(dir, file)}: ${e instanceof Error ? e.message : String(e)}` };
    }
  }
  return parseArtifacts(raw as Record<keyof typeof ARTIFACT_FILES, unknown>);
}
