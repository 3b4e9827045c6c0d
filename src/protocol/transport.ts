/**
 * What both ends of the agent protocol agree on besides the messages: the HTTP routes and the
 * bounds. The same bounds hold on every transport (HTTP, and in-process inside `ferry up`).
 */

/** `GET` with `?after=<revision>`: the host's desired state once newer (200), or 204 after the poll bound. */
export const DESIRED_STATE_PATH = '/v1/agent/desired';

/**
 * `POST` {name, labels?} with `Authorization: Bearer <join token>`: enrolls the host and answers
 * {host, credential} (200), the credential shown this once.
 */
export const ENROLL_PATH = '/v1/agent/enroll';

/** `POST` a report (JSON): 204 once taken. */
export const REPORT_PATH = '/v1/agent/report';

/** The largest report, in bytes of JSON, a server takes (a thousand agents report every second). */
export const MAX_REPORT_BYTES = 256 * 1024;
