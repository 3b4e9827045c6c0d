/**
 * The install process of `ferry agent` (childInstaller): takes one install request from its
 * parent over IPC, runs it, answers with the installed release or the error, and exits. The agent
 * gone (the channel closed), the install is aborted, which leaves nothing half-unpacked behind.
 */
import { installRelease } from '../../artifacts/index.js';
import { isFerryError, messageOf } from '../../errors/ferry-error.js';
import type { InstallRequest } from './installer.js';
import type { ChildAnswer } from './child-installer.js';

const abort = new AbortController();
process.once('disconnect', () => abort.abort(new Error('the agent went away')));

process.once('message', (request: InstallRequest) => {
  void installRelease({ ...request, signal: abort.signal })
    .then(
      (installed): ChildAnswer => ({ installed }),
      (error: unknown): ChildAnswer => ({
        error: isFerryError(error)
          ? error.toJSON()
          : { code: 'FERRY_E_INTERNAL', message: messageOf(error), details: {} },
      }),
    )
    .then((answer) => {
      if (!process.connected) process.exit(1);
      process.send!(answer, () => process.exit(0));
    });
});
