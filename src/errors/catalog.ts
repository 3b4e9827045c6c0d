/**
 * Ferry's error catalog: every error Ferry raises on purpose has a stable code here, with the HTTP
 * status the API answers and the exit code the CLI returns (1 = the operation failed, 2 = usage or
 * configuration error). docs/errors.md documents each code; keep both in step.
 */
export const catalog = {
  // configuration and usage
  FERRY_E_CONFIG_INVALID: {
    http: 400,
    exit: 2,
    summary: 'ferry.yaml has one or more problems (each with its path)',
  },
  FERRY_E_CONFIG_NOT_FOUND: {
    http: 400,
    exit: 2,
    summary: 'the configuration file does not exist or cannot be read',
  },
  FERRY_E_CONFIG_NEEDS_RESTART: {
    http: 409,
    exit: 2,
    summary:
      'ferry apply changes a setting the daemon took at start (data_dir, api.*, router.workers); nothing was applied',
  },
  FERRY_E_USAGE: { http: 400, exit: 2, summary: 'a command line argument or API request field is wrong' },
  FERRY_E_APP_UNKNOWN: { http: 404, exit: 2, summary: 'no app of that name is configured' },
  FERRY_E_ENV_UNKNOWN: { http: 404, exit: 2, summary: 'no environment of that name is configured' },
  FERRY_E_RELEASE_UNKNOWN: { http: 404, exit: 1, summary: 'no release of that version is known for the app' },
  FERRY_E_DEPLOYMENT_UNKNOWN: { http: 404, exit: 1, summary: 'no deployment with that id' },

  // API and daemon
  FERRY_E_UNAUTHORIZED: {
    http: 401,
    exit: 2,
    summary: "the API token (or an agent's credential) is missing or wrong",
  },
  FERRY_E_FORBIDDEN: {
    http: 403,
    exit: 2,
    summary: 'the credential is valid but does not allow the request (an agent acting for another host)',
  },
  FERRY_E_BODY_TOO_LARGE: { http: 413, exit: 2, summary: 'the request body is larger than the API accepts' },
  FERRY_E_WEBHOOK_SIGNATURE: {
    http: 401,
    exit: 2,
    summary:
      'a webhook delivery has no signature (or token), or one that does not match its secret; nothing was deployed',
  },
  FERRY_E_WEBHOOK_REPLAY: {
    http: 409,
    exit: 2,
    summary:
      'a webhook delivery was seen before or its timestamp is outside the replay window; nothing was deployed',
  },
  FERRY_E_WEBHOOK_PAYLOAD: {
    http: 400,
    exit: 2,
    summary:
      'a webhook delivery is not JSON or lacks what its source sends (version, tag, repository); nothing was deployed',
  },
  FERRY_E_RATE_LIMITED: {
    http: 429,
    exit: 1,
    summary: 'too many webhook deliveries from one address; try again later',
  },
  FERRY_E_ROUTE_UNKNOWN: { http: 404, exit: 2, summary: 'the API has no route of that path' },
  FERRY_E_METHOD_NOT_ALLOWED: {
    http: 405,
    exit: 2,
    summary: 'the API route does not take that method (the Allow header lists those it takes)',
  },
  FERRY_E_UNSUPPORTED_MEDIA_TYPE: {
    http: 415,
    exit: 2,
    summary: 'the request body is not JSON (Content-Type application/json)',
  },
  FERRY_E_URL_TOO_LONG: {
    http: 414,
    exit: 2,
    summary: 'a path parameter of the request is longer than the API accepts',
  },
  FERRY_E_HEADERS_TOO_LARGE: {
    http: 431,
    exit: 2,
    summary: "the request's URL and headers are larger than the API accepts",
  },
  FERRY_E_REQUEST_TIMEOUT: {
    http: 408,
    exit: 1,
    summary: 'the client did not send its whole request in time',
  },
  FERRY_E_DAEMON_UNREACHABLE: { http: 503, exit: 1, summary: 'the CLI cannot reach the Ferry daemon' },
  FERRY_E_PROTOCOL: {
    http: 502,
    exit: 1,
    summary:
      'a message of the agent protocol does not match its schema or is not for this host (the other side runs an incompatible version)',
  },
  FERRY_E_DAEMON_RUNNING: {
    http: 409,
    exit: 1,
    summary: 'another Ferry daemon already runs on this data directory',
  },
  FERRY_E_DAEMON_STARTING: {
    http: 503,
    exit: 1,
    summary: 'the daemon is starting (re-adopting instances, resuming deployments); try again shortly',
  },
  FERRY_E_DATA_DIR: {
    http: 500,
    exit: 1,
    summary: "the data directory cannot be used (not writable, read-only, full, or not Ferry's)",
  },
  FERRY_E_TOKEN_FILE: { http: 500, exit: 1, summary: 'the API token file is empty or unreadable' },
  FERRY_E_STORE_LOST: {
    http: 500,
    exit: 1,
    summary: 'the store is new but the data directory shows earlier state; start with --adopt or --reset',
  },
  FERRY_E_STORE_DAMAGED: { http: 500, exit: 1, summary: 'the store file failed its integrity check' },

  // deployments
  FERRY_E_DEPLOYMENT_IN_PROGRESS: {
    http: 409,
    exit: 1,
    summary: 'a deployment of this app in this environment is already running; the request was refused',
  },
  FERRY_E_ILLEGAL_STATE: { http: 409, exit: 1, summary: 'the operation is not allowed in the current state' },
  FERRY_E_NOTHING_TO_ROLL_BACK_TO: { http: 409, exit: 1, summary: 'no good release to roll back to' },
  FERRY_E_RELEASE_BAD: {
    http: 409,
    exit: 1,
    summary: 'the release is marked bad; deploy it anyway with --force (a rollback may name it with --to)',
  },
  FERRY_E_DEPLOYMENT_FAILED: { http: 500, exit: 1, summary: 'the deployment failed and was rolled back' },
  FERRY_E_LOCKED: {
    http: 423,
    exit: 1,
    summary:
      'the environment or app is locked (ferry lock): deployments and restarts are refused (or queued with --queue) until it is released or expires',
  },
  FERRY_E_LOCK_UNKNOWN: {
    http: 404,
    exit: 1,
    summary: 'the environment or app is not locked: nothing to unlock',
  },

  // artifacts
  FERRY_E_ARTIFACT_SOURCE: {
    http: 502,
    exit: 1,
    summary: 'the artifact could not be fetched from its source',
  },
  FERRY_E_ARTIFACT_FORMAT: {
    http: 422,
    exit: 1,
    summary: 'the artifact is not a valid archive of a supported format',
  },
  FERRY_E_CHECKSUM_MISMATCH: { http: 422, exit: 1, summary: 'the artifact does not match its checksum' },
  FERRY_E_CHECKSUM_INVALID: {
    http: 400,
    exit: 2,
    summary: 'a checksum is malformed or of an unknown algorithm',
  },
  FERRY_E_CHECKSUM_REQUIRED: {
    http: 400,
    exit: 2,
    summary: 'a remote artifact has no checksum and require_checksum is on',
  },
  FERRY_E_CHECKSUM_WEAK: {
    http: 400,
    exit: 2,
    summary: 'an md5 or sha1 checksum was given and allow_weak_checksums is off',
  },
  FERRY_E_ARCHIVE_UNSAFE: {
    http: 422,
    exit: 1,
    summary: 'an archive entry would write outside the destination or is not allowed',
  },
  FERRY_E_ARCHIVE_TOO_LARGE: {
    http: 422,
    exit: 1,
    summary: 'the archive exceeds the unpacked size or entry count limit',
  },
  FERRY_E_DISK_FULL: { http: 507, exit: 1, summary: 'the disk is full; nothing partial was left behind' },
  FERRY_E_RELEASE_CONFLICT: {
    http: 409,
    exit: 1,
    summary:
      'a release of that version is already installed or recorded with another artifact or content; releases are immutable',
  },

  // ferry install (stretcher-compatible manifests)
  FERRY_E_MANIFEST_INVALID: {
    http: 400,
    exit: 1,
    summary: 'a deploy manifest is invalid or its template cannot be rendered',
  },
  FERRY_E_MANIFEST_UNREACHABLE: { http: 502, exit: 1, summary: 'a deploy manifest could not be fetched' },
  FERRY_E_INSTALL_LOCKED: {
    http: 409,
    exit: 1,
    summary: 'another install into the same dest held its lock past the wait limit',
  },
  FERRY_E_DEST_NOT_EMPTY: {
    http: 409,
    exit: 1,
    summary: 'the mv strategy refuses a dest that exists and is not empty',
  },

  // processes and health
  FERRY_E_PROCESS_START: { http: 500, exit: 1, summary: 'an instance could not be started' },
  FERRY_E_HOST_TIMEOUT: {
    http: 504,
    exit: 1,
    summary: 'a host did not acknowledge a change of its desired state in time (or has not reported yet)',
  },
  FERRY_E_HEALTH_TIMEOUT: {
    http: 500,
    exit: 1,
    summary: 'the new release did not become healthy before the deadline',
  },
  FERRY_E_UNHEALTHY: {
    http: 500,
    exit: 1,
    summary: 'an instance of the new release failed its health checks or crash-looped',
  },
  FERRY_E_ANALYSIS_FAILED: {
    http: 500,
    exit: 1,
    summary: 'a canary step failed its analysis (health or error rate)',
  },
  FERRY_E_ANALYSIS_INCONCLUSIVE: {
    http: 500,
    exit: 1,
    summary: 'a canary step saw too few requests to pass within its wait limit',
  },
  FERRY_E_HOOK_FAILED: { http: 500, exit: 1, summary: 'a hook command failed' },

  // router
  FERRY_E_ROUTER_UNREACHABLE: {
    http: 503,
    exit: 1,
    summary: 'the router process cannot be reached or started',
  },
  FERRY_E_PORT_IN_USE: { http: 409, exit: 1, summary: 'a listen port is already taken by another process' },

  // fleet: enrollment and trust (docs/trust.md)
  FERRY_E_JOIN_TOKEN_REFUSED: {
    http: 401,
    exit: 2,
    summary: 'the join token is malformed, unknown, wrong, expired, used up or revoked',
  },
  FERRY_E_JOIN_TOKEN_UNKNOWN: {
    http: 404,
    exit: 2,
    summary: 'no join token with that id (revoked, or never created)',
  },
  FERRY_E_AGENT_CREDENTIAL_REFUSED: {
    http: 401,
    exit: 2,
    summary: "the agent's credential is malformed, unknown or wrong, or its host was revoked",
  },
  FERRY_E_HOST_UNKNOWN: { http: 404, exit: 2, summary: 'no enrolled host with that id or name' },
  FERRY_E_HOST_NAME_TAKEN: {
    http: 409,
    exit: 1,
    summary: 'an enrolled host already has that name; revoke it to enroll another under its name',
  },
  FERRY_E_TLS_INVALID: {
    http: 400,
    exit: 2,
    summary:
      'a TLS certificate, key or CA file cannot be read, does not belong with the others, or has expired',
  },
  FERRY_E_CA_FINGERPRINT_MISMATCH: {
    http: 502,
    exit: 1,
    summary: "the server's chain has no CA with the pinned fingerprint",
  },
  FERRY_E_SERVER_UNTRUSTED: {
    http: 502,
    exit: 1,
    summary: "the server's certificate is not issued by the pinned CA, or does not name the server",
  },
  FERRY_E_SERVER_UNREACHABLE: {
    http: 503,
    exit: 1,
    summary: 'the agent cannot reach the Ferry server (or the server is stopping)',
  },

  // fleet rollouts (docs/rollouts.md)
  FERRY_E_CONTROLLER_FAILED: {
    http: 502,
    exit: 1,
    summary:
      "a rollout's controller could not be reached, answered an HTTP error or something unreadable, or did not answer by its deadline; the step it gates fails",
  },
  FERRY_E_ROLLOUT_UNKNOWN: {
    http: 404,
    exit: 2,
    summary: 'no rollout of that namespace and entity (one is created by its first report or deploy)',
  },

  // store
  FERRY_E_STORE: { http: 500, exit: 1, summary: 'the state store failed' },
  FERRY_E_STORE_UNREACHABLE: {
    http: 503,
    exit: 1,
    summary: 'the store (etcd) did not answer in time; a write may or may not have happened',
  },
  FERRY_E_STORE_COMPACTED: {
    http: 410,
    exit: 1,
    summary: 'a watch asked for history the store has compacted; read again and watch from there',
  },
  FERRY_E_STORE_LEASE_EXPIRED: {
    http: 409,
    exit: 1,
    summary: 'the lease expired, was revoked or never existed; its keys are gone',
  },
  FERRY_E_STORE_REQUEST_INVALID: {
    http: 400,
    exit: 1,
    summary:
      'a store request is malformed (an empty or ill-formed key, two writes to one key in a transaction)',
  },

  FERRY_E_INTERNAL: { http: 500, exit: 1, summary: 'an unexpected internal error' },
} as const satisfies Record<string, { http: number; exit: 1 | 2; summary: string }>;

export type ErrorCode = keyof typeof catalog;

/** Whether `code` is one of this catalog's (a newer peer may answer codes this one does not know). */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(catalog, code);
}

/** A code from elsewhere (an agent of another version) as this catalog has it: unknown is internal. */
export function knownErrorCode(code: string): ErrorCode {
  return isErrorCode(code) ? code : 'FERRY_E_INTERNAL';
}
