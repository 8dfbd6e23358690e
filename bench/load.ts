import { fork } from 'node:child_process';
import { resolve } from 'node:path';

export interface LoadResult {
  requests: number;
  /** Completed 2xx responses per second over the measured window. */
  requestsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationSeconds: number;
  /** CPU time the server process used per completed request, in microseconds. */
  serverCpuMicrosPerRequest?: number;
  /** Measured windows this result adds up (BENCH_ROUNDS). */
  rounds: number;
}

/** One measured window: its counters and every 2xx latency, so windows can be added up exactly. */
export interface LoadSample {
  latencies: number[];
  non2xx: number;
  errors: number;
  timeouts: number;
  durationSeconds: number;
  serverCpuSeconds: number;
}

export interface LoadOptions {
  url: string;
  headers?: Record<string, string>;
  /** POST `body` instead of GET, each request with its own Idempotency-Key (`keyPrefix`-n), its path taken in turn from `paths` when given, `{n}` in the body its number modulo 10000 (four digits). */
  post?: { body: string; keyPrefix: string; paths?: string[] };
  connections: number;
  durationSeconds: number;
}

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

/**
 * Drives one URL with autocannon at fixed concurrency, from a fresh child process
 * (support/load-generator.js says why). Latencies are kept exactly (autocannon's own histogram
 * rounds to whole milliseconds, too coarse to compare pages that take a few ms).
 */
export function drive(options: LoadOptions): Promise<Omit<LoadSample, 'serverCpuSeconds'>> {
  const child = fork(resolve(__dirname, 'support/load-generator.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  return new Promise((done, fail) => {
    let answered = false;
    child.once('message', (message: { sample?: Omit<LoadSample, 'serverCpuSeconds'>; error?: string }) => {
      answered = true;
      if (message.sample) done(message.sample);
      else fail(new Error(`the load generator failed: ${message.error}`));
    });
    child.once('exit', (code) => {
      if (!answered) fail(new Error(`the load generator exited with code ${code} before answering`));
    });
    child.send(options);
  });
}

/** Adds up measured windows: requests over the summed time, percentiles over every latency. */
export function combine(samples: LoadSample[]): LoadResult {
  const sorted = Float64Array.from(samples.flatMap((sample) => sample.latencies)).sort();
  const sum = (pick: (sample: LoadSample) => number) => samples.reduce((total, sample) => total + pick(sample), 0);
  const durationSeconds = sum((sample) => sample.durationSeconds);
  return {
    requests: sorted.length,
    requestsPerSecond: sorted.length / durationSeconds,
    p50Ms: percentile(sorted, 0.5),
    p90Ms: percentile(sorted, 0.9),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.length ? sorted[sorted.length - 1] : NaN,
    non2xx: sum((sample) => sample.non2xx),
    errors: sum((sample) => sample.errors),
    timeouts: sum((sample) => sample.timeouts),
    durationSeconds,
    serverCpuMicrosPerRequest: (sum((sample) => sample.serverCpuSeconds) * 1e6) / sorted.length,
    rounds: samples.length,
  };
}
