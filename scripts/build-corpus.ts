// npm run build:corpus — rebuilds public/corpus/ from the installed data packages (deterministic: same seed
// and package versions ⇒ byte-identical files). test/unit/sandbox/corpus-build.test.ts checks the committed
// files are fresh.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCorpusArtifacts, serializeArtifacts } from '../src/sandbox/build';
import { CORPUS_DIR } from '../src/sandbox/build-files';

const artifacts = buildCorpusArtifacts();
mkdirSync(CORPUS_DIR, { recursive: true });
for (const [file, contents] of Object.entries(serializeArtifacts(artifacts))) {
  writeFileSync(join(CORPUS_DIR, file), contents);
  console.log(`${join(CORPUS_DIR, file)}  ${(contents.length / 1024).toFixed(0)} KiB`);
}
console.log(JSON.stringify(artifacts.manifest));
