/** What `npm run bench` reads from the environment. Every value has a default; see docs/performance.md. */
export interface BenchConfig {
  /** An admin URL of a PostgreSQL server: the bench creates a database of its own there, and drops it. */
  serverUrl: string;
  durationSeconds: number;
  warmupSeconds: number;
  /** The measured time of each case is split into this many windows, taken in turn over all cases. */
  rounds: number;
  connections: number;
  sessions: number;
  bigSessionChats: number;
  smallSessionChats: number;
  /** Chats in the history batch the ingest case applies through the sync, and how many the naive baseline upserts. */
  ingestChats: number;
  ingestNaiveChats: number;
  /** How deep the deep page starts, in chats. */
  deepAfter: number;
  /** Run only the cases whose id contains one of these (comma-separated), e.g. `first,deep`. */
  caseFilter: string[];
  keepDatabase: boolean;
  /** BENCH_CPU_PROF=DIR: the gateway and the baseline run with --cpu-prof and write into a new folder under DIR. */
  cpuProfileDir?: string;
  resultsDir: string;
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number >= ${min} (got ${JSON.stringify(raw)})`);
  return value;
}

export function benchConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const config: BenchConfig = {
    serverUrl: env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test',
    durationSeconds: number(env, 'BENCH_DURATION_SECONDS', 15, 1),
    warmupSeconds: number(env, 'BENCH_WARMUP_SECONDS', 3, 0),
    rounds: Math.floor(number(env, 'BENCH_ROUNDS', 3, 1)),
    connections: Math.floor(number(env, 'BENCH_CONNECTIONS', 32, 1)),
    sessions: Math.floor(number(env, 'BENCH_SESSIONS', 20, 1)),
    bigSessionChats: Math.floor(number(env, 'BENCH_BIG_SESSION_CHATS', 100_000, 1000)),
    smallSessionChats: Math.floor(number(env, 'BENCH_SMALL_SESSION_CHATS', 1000, 0)),
    deepAfter: Math.floor(number(env, 'BENCH_DEEP_AFTER', 90_000, 200)),
    ingestChats: Math.floor(number(env, 'BENCH_INGEST_CHATS', 100_000, 1)),
    ingestNaiveChats: Math.floor(number(env, 'BENCH_INGEST_NAIVE_CHATS', 10_000, 1)),
    caseFilter: (env.BENCH_CASES ?? '')
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
    keepDatabase: env.BENCH_KEEP_DATABASE === '1' || env.BENCH_KEEP_DATABASE === 'true',
    cpuProfileDir: env.BENCH_CPU_PROF ? `${env.BENCH_CPU_PROF}/${new Date().toISOString().replace(/[:.]/g, '-')}` : undefined,
    resultsDir: env.BENCH_RESULTS_DIR || 'bench/results',
  };
  if (config.deepAfter % 200 !== 0) throw new Error('BENCH_DEEP_AFTER must be a multiple of 200 (the cursor is found by paging 200 at a time)');
  if (config.deepAfter >= config.bigSessionChats) throw new Error('BENCH_DEEP_AFTER must be below BENCH_BIG_SESSION_CHATS');
  return config;
}
