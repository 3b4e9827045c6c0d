/** The deployment events a notification destination can ask for (ferry.yaml `notifications[].events`). */
export const NOTIFY_EVENTS = ['started', 'step', 'succeeded', 'failed', 'rolled-back', 'aborted'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** Where notifications go: a Slack-style incoming webhook, or a generic signed webhook. */
export const NOTIFY_KINDS = ['slack', 'webhook'] as const;
export type NotifyKind = (typeof NOTIFY_KINDS)[number];
