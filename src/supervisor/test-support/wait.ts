import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/** Polls until `check` returns something truthy; fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 15_000,
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Waits until a log file holds `text` (e.g. a fixture's 'up' once its signal handlers are set). */
export async function waitForLog(file: string, text: string): Promise<void> {
  await waitFor(`"${text}" in ${file}`, () => {
    try {
      return readFileSync(file, 'utf8').includes(text);
    } catch {
      return false;
    }
  });
}
