// What the UI needs from the trainer client (src/ui/client/trainer-client.ts, which satisfies it as it is):
// events in, commands out. An interface so the stores and actions are testable without a worker; the
// outcome of a command (an ok: false reply, or a rejection should a port ever reject) is read in one place.
import type { RunConfig } from '../../core/config';
import type { BackendChoice, CommandBody, TrainerEvent } from '../../workers/protocol';

export interface TrainerPort {
  onEvent(listener: (event: TrainerEvent) => void): () => void;
  send(command: CommandBody): Promise<unknown>;
  init(config: RunConfig, options?: { backend?: BackendChoice }): Promise<unknown>;
}

/** A command's outcome as a value: the error text of a rejection or of an `{ ok: false }` reply. */
export async function settle(command: Promise<unknown>): Promise<string | null> {
  try {
    const value = await command;
    if (typeof value === 'object' && value !== null && 'ok' in value && value.ok === false) {
      return 'error' in value && typeof value.error === 'string' ? value.error : 'refused';
    }
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
