/**
 * A command's handler, imported only when that command runs: registering every command costs no
 * more than commander, and `ferry status` never loads what `ferry up` or `ferry install` need.
 *
 *   .action(lazyAction(async () => (await import('./actions/status.js')).status))
 */
export function lazyAction<A extends unknown[]>(
  load: () => Promise<(...args: A) => unknown>,
): (...args: A) => Promise<void> {
  return async (...args: A): Promise<void> => {
    const handler = await load();
    await handler(...args);
  };
}
