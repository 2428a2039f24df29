// The committed corpus (public/corpus/), opened once per test file.
import { type OpenCorpus, openCorpus } from '../../src/sandbox/load';
import { loadCorpusFromDisk } from '../../src/sandbox/load-node';

let opened: Promise<OpenCorpus> | null = null;

export function committedCorpus(): Promise<OpenCorpus> {
  opened ??= loadCorpusFromDisk().then((loaded) => {
    if (!loaded.ok) throw new Error(loaded.error);
    return openCorpus(loaded.value);
  });
  return opened;
}
