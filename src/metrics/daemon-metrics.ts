import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { FINAL_DEPLOYMENT_STATUSES, type Deployment, type FerryEvent } from '../api/types.js';
import { messageOf } from '../errors/ferry-error.js';
import type { EventPublisher } from '../events/publisher.js';
import type { Logger } from '../lib/logger.js';
import type { HostReport, InstanceReport, RouteTotals } from '../protocol/report.js';
import { histogramSamples, registerCollected, type Labels, type Sample } from './collected.js';
import { RESPONSE_CLASSES } from './router-totals.js';

/** One host's latest report, and the name its series carry (null: the server's own host). */
export interface ReportedHost {
  readonly host: string | null;
  readonly report: HostReport;
}

export interface MetricsSources {
  /** Every host's latest report, read at each scrape: its router's totals, its instances. */
  readonly hosts: () => Promise<readonly ReportedHost[]>;
  readonly events: EventPublisher;
  readonly logger: Logger;
}

/** Deployments and their phases take seconds to an hour. */
const DEPLOYMENT_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/**
 * The daemon's Prometheus metrics (docs/metrics.md). What runs on the hosts comes from each host's
 * latest report, the server's own and the enrolled ones (their series carry `host`): the router's
 * totals per route, which its agent keeps from every reading of the router so that they never go
 * backwards, and each instance's health, restarts, CPU time and memory. Deployments and router
 * restarts come from the daemon's events; artifacts from each install.
 */
export class DaemonMetrics {
  readonly registry = new Registry();
  /** The hosts' reports as read for the scrape under way. */
  private hosts: readonly ReportedHost[] = [];
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
      labelNames: ['host', 'part'],
      registers,
    });
    this.artifactBytes = new Counter({
      name: 'ferry_artifact_fetched_bytes_total',
      help: 'Bytes of artifacts read to install releases, by source (origin: the artifact URL; cache: the download cache).',
      labelNames: ['host', 'app', 'env', 'source'],
      registers,
    });
    this.cacheHits = new Counter({
      name: 'ferry_artifact_cache_hits_total',
      help: 'Installs served by the download cache.',
      labelNames: ['host', 'app', 'env'],
      registers,
    });
    this.cacheMisses = new Counter({
      name: 'ferry_artifact_cache_misses_total',
      help: 'Installs the download cache was asked for and could not serve (fetched from the origin).',
      labelNames: ['host', 'app', 'env'],
      registers,
    });
    this.registerRouterMetrics();
    this.registerInstanceMetrics();
    collectDefaultMetrics({ register: this.registry, prefix: 'ferry_daemon_' });
    this.unsubscribe.push(sources.events.subscribe((event) => this.onEvent(event)));
  }

  /** Counts what an install on a host read, and whether the download cache served it. */
  artifactInstalled(
    install: {
      readonly app: string;
      readonly env: string;
      readonly readFrom: 'source' | 'cache' | 'installed';
      readonly bytes: number;
      readonly cacheAsked: boolean;
    },
    host: string | null = null,
  ): void {
    const { readFrom } = install;
    if (readFrom === 'installed') return;
    const scope = { ...onHost(host), app: install.app, env: install.env };
    this.artifactBytes.inc({ ...scope, source: readFrom === 'cache' ? 'cache' : 'origin' }, install.bytes);
    if (readFrom === 'cache') this.cacheHits.inc(scope);
    else if (install.cacheAsked) this.cacheMisses.inc(scope);
  }

  /** The exposition, with every host's latest report. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    try {
      this.hosts = await this.sources.hosts();
    } catch (error) {
      this.sources.logger.warn({ err: messageOf(error) }, 'metrics: the hosts could not be read');
      this.hosts = [];
    }
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  close(): void {
    for (const stop of this.unsubscribe.splice(0)) stop();
  }

  private onEvent(event: FerryEvent): void {
    if (event.kind === 'deployment') this.onDeployment(event.deployment);
    else if (event.kind === 'router' && event.change === 'keeper-replaced')
      this.routerRestarts.inc({ ...onHost(event.host ?? null), part: 'keeper' });
    else if (event.kind === 'router' && event.change === 'worker-restarted')
      this.routerRestarts.inc({ ...onHost(event.host ?? null), part: 'worker' });
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

  /** Each route's totals on each host, with the labels of its series. */
  private routes(): Array<{ readonly labels: Labels; readonly totals: RouteTotals }> {
    return this.hosts.flatMap(({ host, report }) =>
      report.apps.flatMap((app) =>
        app.totals === undefined
          ? []
          : [{ labels: { ...onHost(host), app: app.app, env: app.env }, totals: app.totals }],
      ),
    );
  }

  private releases(): Array<{ readonly labels: Labels; readonly release: RouteTotals['releases'][number] }> {
    return this.routes().flatMap(({ labels, totals }) =>
      totals.releases.map((release) => ({ labels: { ...labels, release: release.version }, release })),
    );
  }

  private registerRouterMetrics(): void {
    const registry = this.registry;
    registerCollected(registry, {
      name: 'ferry_router_requests_total',
      help: 'Responses the router relayed from instances, by release and status class (code="2xx"...).',
      type: 'counter',
      collect: () =>
        this.releases().flatMap(({ labels, release }) =>
          RESPONSE_CLASSES.map((code) => ({ labels: { ...labels, code }, value: release.responses[code] })),
        ),
    });
    registerCollected(registry, {
      name: 'ferry_router_upstream_errors_total',
      help: 'Connection errors, timeouts and resets between the router and instances (counted even when the request was retried elsewhere).',
      type: 'counter',
      collect: () =>
        this.releases().map(({ labels, release }) => ({ labels, value: release.upstreamErrors })),
    });
    registerCollected(registry, {
      name: 'ferry_router_request_duration_seconds',
      help: "Time from a request's arrival at the router to the end of its response from an instance.",
      type: 'histogram',
      collect: () =>
        this.releases().flatMap(({ labels, release }) =>
          release.latency === null
            ? []
            : histogramSamples('ferry_router_request_duration_seconds', labels, release.latency),
        ),
    });
    registerCollected(registry, {
      name: 'ferry_router_requests_in_flight',
      help: 'Requests on their way to or from instances right now.',
      type: 'gauge',
      collect: () => this.releases().map(({ labels, release }) => ({ labels, value: release.inFlight })),
    });
    registerCollected(registry, {
      name: 'ferry_router_requests_held',
      help: 'Requests waiting for a usable instance right now (answered 503 after router.hold_timeout).',
      type: 'gauge',
      collect: () => this.routes().map(({ labels, totals }) => ({ labels, value: totals.held })),
    });
    registerCollected(registry, {
      name: 'ferry_router_connections',
      help: 'Client connections open right now.',
      type: 'gauge',
      collect: () => this.routes().map(({ labels, totals }) => ({ labels, value: totals.connections })),
    });
    registerCollected(registry, {
      name: 'ferry_router_up',
      help: "Whether the host's router serves (1) or not (0: down), as its agent's last report says.",
      type: 'gauge',
      collect: () =>
        this.hosts.map(({ host, report }) => ({
          labels: onHost(host),
          value: report.router?.state === 'down' ? 0 : 1,
        })),
    });
  }

  /** Every instance on every host, with the labels of its series. */
  private instances(): Array<{ readonly labels: Labels; readonly instance: InstanceReport }> {
    return this.hosts.flatMap(({ host, report }) =>
      report.apps.flatMap((app) =>
        app.instances.map((instance) => ({
          labels: {
            ...onHost(host),
            app: app.app,
            env: app.env,
            release: instance.version,
            instance: instance.id,
          },
          instance,
        })),
      ),
    );
  }

  private registerInstanceMetrics(): void {
    const registry = this.registry;
    registerCollected(registry, {
      name: 'ferry_instance_healthy',
      help: 'Whether the instance passes its health checks (1) or not (0: starting or unhealthy).',
      type: 'gauge',
      collect: () =>
        this.instances().map(({ labels, instance }) => ({
          labels,
          value: instance.health === 'healthy' ? 1 : 0,
        })),
    });
    registerCollected(registry, {
      name: 'ferry_instances',
      help: 'Instances by release and health (starting, healthy, unhealthy).',
      type: 'gauge',
      collect: () => {
        const counts = new Map<string, Sample>();
        for (const { labels, instance } of this.instances()) {
          const { instance: _id, ...scope } = labels;
          const series = { ...scope, health: instance.health };
          const key = JSON.stringify(series);
          counts.set(key, { labels: series, value: (counts.get(key)?.value ?? 0) + 1 });
        }
        return [...counts.values()];
      },
    });
    registerCollected(registry, {
      name: 'ferry_instance_restarts_total',
      help: 'Times the instance was restarted after its process exited on its own.',
      type: 'counter',
      collect: () => this.instances().map(({ labels, instance }) => ({ labels, value: instance.restarts })),
    });
    registerCollected(registry, {
      name: 'ferry_instance_cpu_seconds_total',
      help: "CPU time (user and system) of the instance's process since it started (Linux /proc), at its agent's last sample.",
      type: 'counter',
      collect: () =>
        this.instances().flatMap(({ labels, instance }) =>
          instance.cpuSeconds === undefined ? [] : [{ labels, value: instance.cpuSeconds }],
        ),
    });
    registerCollected(registry, {
      name: 'ferry_instance_resident_memory_bytes',
      help: "Resident memory of the instance's process (Linux /proc).",
      type: 'gauge',
      collect: () =>
        this.instances().flatMap(({ labels, instance }) =>
          instance.rssBytes === null ? [] : [{ labels, value: instance.rssBytes }],
        ),
    });
  }
}

/** The `host` label of an enrolled host's series; none on the server's own host's. */
function onHost(host: string | null): Labels {
  return host === null ? {} : { host };
}
