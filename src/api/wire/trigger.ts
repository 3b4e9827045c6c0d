/** The trigger of a release, a deployment or a rollout as the API answers it. */
import { z } from 'zod';
import { TRIGGER_KINDS } from '../../releases/release.js';

export const triggerSchema = z
  .object({
    kind: z.enum(TRIGGER_KINDS),
    actor: z.string().meta({
      description:
        'Who exactly: the API token (`api`, `token:<name>`), a webhook delivery (`webhook:<source>:<delivery id>`), a watcher (`watcher:github:owner/name`).',
    }),
  })
  .meta({ id: 'Trigger', description: 'Who or what brought a release or started a deployment.' });
