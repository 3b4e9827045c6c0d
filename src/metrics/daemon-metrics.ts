import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { FINAL_DEPLOYMENT_STATUSES, type Deployment, type FerryEvent } from '../api/types.js';
import type { InstalledRelease } from '../artifacts/index.js';
import { messageOf } from '../errors/ferry-error.js';
import type { EventPublisher } from '../events/publisher.js';
import type { Logger } from '../lib/logger.js';
import type { RouterStats } from '../router/types.js';
import { readProcessUsage } from '../supervisor/index.js';
import { histogramSamples, registerCollected, type Sample } from './collected.js';
import { RESPONSE_CLASSES, RouterTotals } from './router-totals.js';

/** One instance as the metrics show it. */
export interface InstanceSample {
  readonly app: string;
  readonly env: string;
  readonly release: string;
  readonly instance: string;
  readonly pid: number | null;
  /** The process start time (/proc/<pid>/stat field 22), so a reused pid is never read. */
  readonly pidStart: number | null;
  readonly health: string;
  /** Restarts after crashes since the instance was started. */
  readonly restarts: number;
}

export interface MetricsSources {
  readonly router: {
    stats(): Promise<RouterStats>;
    onStats(reader: (stats: RouterStats) => void): () => void;
  };
  readonly instances: () => readonly InstanceSample[];
  readonly events: EventPublisher;
  readonly logger: Logger;
}

/** Deployments and their phases take seconds to an hour. */
const DEPLOYMENT_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/**
 * The daemon's Prometheus metrics (docs/metrics.md). Router counts come from the router's own
 * counters (every reading of them, whoever made it), kept as totals that never go backwards;
 * deployments and router restarts from the daemon's events; instances' CPU and memory from /proc
 * at scrape time; artifacts from each install.
 */
export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly totals = new RouterTotals();
  private routerUp = 1;
  private readonly phases = new Map<string, { phase: string; since: number }>();
  private readonly unsubscribe: Array<() => void> = [];
  private readonly deployments: Counter;
  private readonly deploymentSeconds: Histogram;
  private readonly phaseSeconds: Histogram;
  private readonly routerRestarts: Counter;
  private readonly artifactBytes: Counter;
  private readonly cacheHits: Counter;
  private readonly cacheMisses: Counter;

  constructor(private readonly sources: MetricsSources) {
    const registers = [this.registry];
    this.deployments = new Counter({
      name: 'ferry_deployments_total',
      help: 'Deployments that ended, by kind (deploy, rollback, restart) and outcome (succeeded, failed, rolled-back, aborted).',
      labelNames: ['app', 'env', 'kind', 'outcome'],
      registers,
    });
    this.deploymentSeconds = new Histogram({
      name: 'ferry_deployment_duration_seconds',
      help: 'How long deployments took, from their creation to their end, by outcome.',
      labelNames: ['app', 'env', 'outcome'],
      buckets: DEPLOYMENT_BUCKETS,
      registers,
    });
    this.phaseSeconds = new Histogram({
      name: 'ferry_deployment_phase_duration_seconds',
      help: 'How long deployment phases took (installing, starting, shifting...), as this daemon saw them.',
      labelNames: ['app', 'env', 'phase'],
      buckets: DEPLOYMENT_BUCKETS,
      registers,
    });
    this.routerRestarts = new Counter({
      name: 'ferry_router_restarts_total',
      help: 'Router processes replaced after they died, by part (keeper, worker).',
      labelNames: ['part'],
      registers,
    });
    this.artifactBytes = new Counter({
      name: 'ferry_artifact_fetched_bytes_total',
      help: 'Bytes of artifacts read to install releases, by source (origin: the artifact URL; cache: the download cache).',
      labelNames: ['app', 'env', 'source'],
      registers,
    });
    this.cacheHits = new Counter({
      name: 'ferry_artifact_cache_hits_total',
      help: 'Installs served by the download cache.',
      labelNames: ['app', 'env'],
      registers,
    });
    this.cacheMisses = new Counter({
      name: 'ferry_artifact_cache_misses_total',
      help: 'Installs the download cache was asked for and could not serve (fetched from the origin).',
      labelNames: ['app', 'env'],
      registers,
    });
    this.registerRouterMetrics();
    this.registerInstanceMetrics();
    collectDefaultMetrics({ register: this.registry, prefix: 'ferry_daemon_' });
    this.unsubscribe.push(
      sources.router.onStats((stats) => {
        try {
          this.totals.observe(stats, Date.now());
        } catch (error) {
          sources.logger.warn({ err: error }, 'metrics: the router stats could not be read');
        }
      }),
      sources.events.subscribe((event) => this.onEvent(event)),
    );
  }

  /** Counts what an install read, and whether the download cache served it. */
  artifactInstalled(app: string, env: string, installed: InstalledRelease, cacheAsked: boolean): void {
    if (installed.readFrom === 'installed') return;
    const source = installed.readFrom === 'cache' ? 'cache' : 'origin';
    this.artifactBytes.inc({ app, env, source }, installed.bytes);
    if (installed.readFrom === 'cache') this.cacheHits.inc({ app, env });
    else if (cacheAsked) this.cacheMisses.inc({ app, env });
  }

  /** The exposition, with the router read afresh (it is marked down when it cannot be read). */
  async exposition(): Promise<{ contentType: string; text: string }> {
    try {
      await this.sources.router.stats();
      this.routerUp = 1;
    } catch (error) {
      // Said once, not at every scrape: the router watch reports the router's troubles.
      if (this.routerUp === 1)
        this.sources.logger.warn({ err: messageOf(error) }, 'metrics: the router could not be read');
      this.routerUp = 0;
    }
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  close(): void {
    for (const stop of this.unsubscribe.splice(0)) stop();
  }

  private onEvent(event: FerryEvent): void {
    if (event.kind === 'deployment') this.onDeployment(event.deployment);
    else if (event.kind === 'router' && event.change === 'keeper-replaced')
      this.routerRestarts.inc({ part: 'keeper' });
    else if (event.kind === 'router' && event.change === 'worker-restarted')
      this.routerRestarts.inc({ part: 'worker' });
  }

  /** Phase durations from the states' phase changes; the outcome once a deployment is final. */
  private onDeployment(deployment: Deployment): void {
    const { id, app, env } = deployment;
    const seen = this.phases.get(id);
    if (seen === undefined) {
      this.phases.set(id, { phase: deployment.phase, since: deployment.phaseSince });
    } else if (seen.phase !== deployment.phase) {
      const seconds = Math.max(0, deployment.phaseSince - seen.since) / 1000;
      this.phaseSeconds.observe({ app, env, phase: seen.phase }, seconds);
      this.phases.set(id, { phase: deployment.phase, since: deployment.phaseSince });
    }
    if (!FINAL_DEPLOYMENT_STATUSES.includes(deployment.status)) return;
    this.phases.delete(id);
    this.deployments.inc({ app, env, kind: deployment.kind, outcome: deployment.status });
    this.deploymentSeconds.observe(
      { app, env, outcome: deployment.status },
      Math.max(0, deployment.updatedAt - deployment.createdAt) / 1000,
    );
  }

  private registerRouterMetrics(): void {
    const registry = this.registry;
    const releases = () => this.totals.releasesSeen();
    const scope = (r: { app: string; env: string; release: string }) => ({
      app: r.app,
      env: r.env,
      release: r.release,
    });
    registerCollected(registry, {
      name: 'ferry_router_requests_total',
      help: 'Responses the router relayed from instances, by release and status class (code="2xx"...).',
      type: 'counter',
      collect: () =>
        releases().flatMap((r) =>
          RESPONSE_CLASSES.map((code) => ({ labels: { ...scope(r), code }, value: r.responses[code] })),
        ),
    });
    registerCollected(registry, {
      name: 'ferry_router_upstream_errors_total',
      help: 'Connection errors, timeouts and resets between the router and instances (counted even when the request was retried elsewhere).',
      type: 'counter',
      collect: () => releases().map((r) => ({ labels: scope(r), value: r.upstreamErrors })),
    });
    registerCollected(registry, {
      name: 'ferry_router_request_duration_seconds',
      help: "Time from a request's arrival at the router to the end of its response from an instance.",
      type: 'histogram',
      collect: () =>
        releases().flatMap((r) =>
          r.latency === null
            ? []
            : histogramSamples('ferry_router_request_duration_seconds', scope(r), r.latency),
        ),
    });
    registerCollected(registry, {
      name: 'ferry_router_requests_in_flight',
      help: 'Requests on their way to or from instances right now.',
      type: 'gauge',
      collect: () => releases().map((r) => ({ labels: scope(r), value: r.inFlight })),
    });
    registerCollected(registry, {
      name: 'ferry_router_requests_held',
      help: 'Requests waiting for a usable instance right now (answered 503 after router.hold_timeout).',
      type: 'gauge',
      collect: () =>
        this.totals.routesSeen().map((r) => ({ labels: { app: r.app, env: r.env }, value: r.held })),
    });
    registerCollected(registry, {
      name: 'ferry_router_connections',
      help: 'Client connections open right now.',
      type: 'gauge',
      collect: () =>
        this.totals.routesSeen().map((r) => ({ labels: { app: r.app, env: r.env }, value: r.connections })),
    });
    registerCollected(registry, {
      name: 'ferry_router_up',
      help: 'Whether the router answered the last scrape (1) or not (0).',
      type: 'gauge',
      collect: () => [{ labels: {}, value: this.routerUp }],
    });
  }

  private registerInstanceMetrics(): void {
    const registry = this.registry;
    const labels = (i: InstanceSample) => ({
      app: i.app,
      env: i.env,
      release: i.release,
      instance: i.instance,
    });
    registerCollected(registry, {
      name: 'ferry_instance_healthy',
      help: 'Whether the instance passes its health checks (1) or not (0: starting or unhealthy).',
      type: 'gauge',
      collect: () =>
        this.sources.instances().map((i) => ({ labels: labels(i), value: i.health === 'healthy' ? 1 : 0 })),
    });
    registerCollected(registry, {
      name: 'ferry_instances',
      help: 'Instances by release and health (starting, healthy, unhealthy).',
      type: 'gauge',
      collect: () => {
        const counts = new Map<string, Sample>();
        for (const i of this.sources.instances()) {
          const key = `${i.app}\0${i.env}\0${i.release}\0${i.health}`;
          const value = (counts.get(key)?.value ?? 0) + 1;
          counts.set(key, {
            labels: { app: i.app, env: i.env, release: i.release, health: i.health },
            value,
          });
        }
        return [...counts.values()];
      },
    });
    registerCollected(registry, {
      name: 'ferry_instance_restarts_total',
      help: 'Times the instance was restarted after its process exited on its own.',
      type: 'counter',
      collect: () => this.sources.instances().map((i) => ({ labels: labels(i), value: i.restarts })),
    });
    const usage = () =>
      this.sources.instances().flatMap((sample) => {
        const read = sample.pid === null ? null : readProcessUsage(sample.pid, sample.pidStart);
        return read === null ? [] : [{ labels: labels(sample), ...read }];
      });
    registerCollected(registry, {
      name: 'ferry_instance_cpu_seconds_total',
      help: "CPU time (user and system) of the instance's process since it started (Linux /proc).",
      type: 'counter',
      collect: () => usage().map((u) => ({ labels: u.labels, value: u.cpuSeconds })),
    });
    registerCollected(registry, {
      name: 'ferry_instance_resident_memory_bytes',
      help: "Resident memory of the instance's process (Linux /proc).",
      type: 'gauge',
      collect: () => usage().map((u) => ({ labels: u.labels, value: u.rssBytes })),
    });
  }
}
