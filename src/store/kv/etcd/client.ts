import { Etcd3, type IOptions } from 'etcd3';

export interface EtcdClientOptions {
  /** host:port of each member. */
  readonly endpoints: readonly string[];
  readonly auth?: { readonly username: string; readonly password: string };
  /** The deadline of each call (streams excepted). */
  readonly timeoutMs: number;
}

type GlobalPolicy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

/**
 * One attempt per call. The client's default retries any recoverable error, a write included, and
 * a write whose answer was lost may then be applied twice (a compare-and-swap that succeeded reads
 * as failed on the retry). The store retries by itself where that is safe.
 */
const SINGLE_ATTEMPT = {
  execute: <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> =>
    Promise.resolve().then(() => fn({ signal: new AbortController().signal })),
} as unknown as GlobalPolicy;

/**
 * The etcd3 client as the store uses it: every unary call has a deadline, so a dead or hung etcd
 * fails calls instead of hanging them; keepalive pings find a dead connection under a watch stream;
 * no limit on the size of what etcd sends back (a range of several 1 MiB values).
 */
export function createEtcdClient(options: EtcdClientOptions): Etcd3 {
  return new Etcd3({
    hosts: options.endpoints.map((endpoint) => `http://${endpoint}`),
    ...(options.auth === undefined ? {} : { auth: { ...options.auth } }),
    dialTimeout: options.timeoutMs,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + options.timeoutMs }),
    grpcOptions: {
      'grpc.max_receive_message_length': -1,
      // etcd refuses pings more often than every 5 s (--grpc-keepalive-min-time).
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': options.timeoutMs,
    },
    faultHandling: { global: SINGLE_ATTEMPT },
  });
}
