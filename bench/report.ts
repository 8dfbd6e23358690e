import type { ExplainResult } from './explain';
import type { IngestResult } from './ingest';
import type { LoadResult } from './load';

/** The gateway on each HTTP platform (HTTP_PLATFORM), side by side. */
export const GATEWAY_TARGETS = ['express', 'fastify'] as const;
export type GatewayTarget = (typeof GATEWAY_TARGETS)[number];
export type Target = GatewayTarget | 'keyset' | 'offset';

export const isGatewayTarget = (target: Target): target is GatewayTarget => (GATEWAY_TARGETS as readonly Target[]).includes(target);

/** Issue 14's targets for the first page, per platform, as a fraction of the `node:http` baseline. */
export const FIRST_PAGE_TARGETS: Readonly<Record<GatewayTarget, number>> = { express: 0.6, fastify: 0.85 };
export type CaseId = 'first' | 'deep' | 'limit200';

export interface Run {
  /** e.g. `express:first`, `fastify:deep`, `keyset:deep`, `offset:deep` */
  id: string;
  target: Target;
  caseId: CaseId;
  label: string;
  result: LoadResult;
}

export interface TargetCheck {
  name: string;
  value: number | null;
  limit: string;
  pass: boolean | null;
}

export interface Report {
  generatedAt: string;
  command: string;
  machine: { node: string; cpus: number; cpuModel: string; postgres: string; loadAverage: { atStart: number[]; atEnd: number[] } };
  settings: Record<string, unknown>;
  dataset: { sessions: number; chats: number; bigSessionChats: number; smallSessionChats: number; seedSeconds: number };
  runs: Run[];
  gatewayMemory: Partial<Record<GatewayTarget, { rssMb: number; peakRssMb: number } | undefined>>;
  explain: { firstPage?: ExplainResult; deepPage?: ExplainResult };
  ingest: IngestResult;
  targets: TargetCheck[];
}

const RSS_LIMIT_MB = 300;

function find(runs: Run[], id: string): LoadResult | undefined {
  return runs.find((run) => run.id === id)?.result;
}

function check(name: string, value: number | undefined | null, limit: string, pass: (value: number) => boolean): TargetCheck {
  return value === undefined || value === null || Number.isNaN(value) ? { name, value: null, limit, pass: null } : { name, value, limit, pass: pass(value) };
}

/** The issue's targets, computed from one run's measurements. A target whose runs were skipped is null. */
export function evaluateTargets(report: Omit<Report, 'targets'>): TargetCheck[] {
  const { runs } = report;
  const ratio = (a?: number, b?: number) => (a === undefined || b === undefined ? undefined : a / b);
  const checks: TargetCheck[] = [];
  for (const platform of GATEWAY_TARGETS) {
    const first = find(runs, `${platform}:first`);
    const deep = find(runs, `${platform}:deep`);
    const minimum = FIRST_PAGE_TARGETS[platform];
    checks.push(
      check(
        `first page req/s, ${platform} / keyset baseline`,
        ratio(first?.requestsPerSecond, find(runs, 'keyset:first')?.requestsPerSecond),
        `>= ${minimum}`,
        (v) => v >= minimum,
      ),
      check(`deep page p50 / first page p50 (${platform})`, ratio(deep?.p50Ms, first?.p50Ms), '<= 1.2', (v) => v <= 1.2),
      check(
        `deep page req/s, ${platform} / OFFSET baseline`,
        ratio(deep?.requestsPerSecond, find(runs, 'offset:deep')?.requestsPerSecond),
        '>= 10',
        (v) => v >= 10,
      ),
    );
  }
  checks.push(
    ...runs
      .filter((run) => isGatewayTarget(run.target))
      .map((run) => check(`p99 / p50, ${run.id}`, run.result.p99Ms / run.result.p50Ms, '<= 3', (v) => v <= 3)),
    check(
      'non-2xx responses and errors, all runs',
      runs.length ? runs.reduce((sum, run) => sum + run.result.non2xx + run.result.errors, 0) : undefined,
      '= 0',
      (v) => v === 0,
    ),
    ...GATEWAY_TARGETS.map((platform) =>
      check(`gateway (${platform}) RSS after the run (MB)`, report.gatewayMemory[platform]?.rssMb, `< ${RSS_LIMIT_MB}`, (v) => v < RSS_LIMIT_MB),
    ),
    check(
      'EXPLAIN first page: index scan, no Sort, ~limit+1 rows, generic plan',
      report.explain.firstPage ? Number(report.explain.firstPage.ok) : undefined,
      'ok',
      (v) => v === 1,
    ),
    check(
      'EXPLAIN deep page: index scan, no Sort, ~limit+1 rows, generic plan',
      report.explain.deepPage ? Number(report.explain.deepPage.ok) : undefined,
      'ok',
      (v) => v === 1,
    ),
  );
  if ('failed' in report.ingest) checks.push(check('ingest chats/s', 0, '>= 20000', () => false));
  if ('measured' in report.ingest) {
    const { gatewayChatsPerSecond, naiveChatsPerSecond } = report.ingest.measured;
    checks.push(check('ingest chats/s', gatewayChatsPerSecond, '>= 20000', (v) => v >= 20_000));
    checks.push(check('ingest, gateway / naive baseline', gatewayChatsPerSecond / naiveChatsPerSecond, '>= 10', (v) => v >= 10));
  }
  return checks;
}

function ingestLine(ingest: IngestResult): string {
  if ('skipped' in ingest) return `Ingest: not measured: ${ingest.skipped}`;
  if ('failed' in ingest) return `Ingest: FAILED after ${ingest.afterSeconds.toFixed(1)} s: ${ingest.failed}`;
  const m = ingest.measured;
  return (
    `Ingest (history sync): ${m.chats.toLocaleString('en-US')} chats in ${m.seconds.toFixed(2)} s through the sync code path = ${fixed(m.gatewayChatsPerSecond, 0)} chats/s; ` +
    `naive one-row-at-a-time upsert: ${m.naiveChats.toLocaleString('en-US')} chats in ${m.naiveSeconds.toFixed(2)} s = ${fixed(m.naiveChatsPerSecond, 0)} chats/s ` +
    `(${fixed(m.gatewayChatsPerSecond / m.naiveChatsPerSecond, 1)} x)`
  );
}

const fixed = (value: number | undefined, digits = 1) => (value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits));

function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join(' | ')} |`;
  return [
    line(header),
    `|${widths.map((width, column) => (column === 0 ? ':' : '-') + '-'.repeat(width) + (column === 0 ? '-' : ':')).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

/** The measurements as a Markdown table (the same text goes to the terminal and to docs/performance.md). */
export function formatReport(report: Report): string {
  const reference = (run: Run): LoadResult | undefined => (isGatewayTarget(run.target) ? find(report.runs, `keyset:${run.caseId}`) : undefined);
  const rows = report.runs.map((run) => {
    const base = reference(run);
    const offset = isGatewayTarget(run.target) && run.caseId === 'deep' ? find(report.runs, 'offset:deep') : undefined;
    return [
      run.label,
      fixed(run.result.requestsPerSecond, 0),
      fixed(run.result.p50Ms, 2),
      fixed(run.result.p99Ms, 2),
      String(run.result.non2xx + run.result.errors),
      fixed(run.result.serverCpuMicrosPerRequest, 0),
      base ? `${fixed(run.result.requestsPerSecond / base.requestsPerSecond, 2)} x` : '',
      offset ? `${fixed(run.result.requestsPerSecond / offset.requestsPerSecond, 1)} x` : '',
    ];
  });
  const { machine, settings, dataset } = report;
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(' ');
  const out = [
    `${report.generatedAt}: Node ${machine.node}, PostgreSQL ${machine.postgres}, ${machine.cpus} x ${machine.cpuModel}; load average ${load(machine.loadAverage.atStart)} at the start, ${load(machine.loadAverage.atEnd)} at the end`,
    `${dataset.chats.toLocaleString('en-US')} chats in ${dataset.sessions} sessions (seeded in ${dataset.seedSeconds.toFixed(1)} s); ${String(settings.connections)} connections, ${String(settings.warmupSeconds)} s warm-up + ${String(settings.durationSeconds)} s per case in ${String(settings.rounds)} rounds; gateway LOG_LEVEL=${String(settings.gatewayLogLevel)} LOG_ASYNC=${String(settings.gatewayLogAsync)}`,
    '',
    table(['case', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'server CPU µs/req', 'vs keyset baseline', 'vs OFFSET baseline'], rows),
    '',
    `Gateway RSS after the run: ${GATEWAY_TARGETS.map((platform) => `${platform} ${fixed(report.gatewayMemory[platform]?.rssMb)} MB (peak ${fixed(report.gatewayMemory[platform]?.peakRssMb)} MB)`).join(', ')}`,
    ingestLine(report.ingest),
    '',
    table(
      ['target', 'measured', 'limit', 'result'],
      report.targets.map((target) => [
        target.name,
        target.value === null ? '-' : target.limit === 'ok' ? (target.value ? 'ok' : 'not ok') : fixed(target.value, 2),
        target.limit,
        target.pass === null ? 'n/a' : target.pass ? 'PASS' : 'MISS',
      ]),
    ),
  ];
  for (const [name, explain] of Object.entries(report.explain)) {
    if (!explain) continue;
    out.push(
      '',
      `EXPLAIN (ANALYZE, BUFFERS) EXECUTE, ${name === 'firstPage' ? 'first page' : 'deep page'}: ${explain.indexScan ?? 'no index scan'}, ${explain.hasSort ? 'a Sort node' : 'no Sort node'}, ${explain.rowsRead} rows read for a page of limit+1 = ${explain.expectedRows}; ${explain.genericPlans} generic and ${explain.customPlans} custom plans on the connection`,
      '```',
      explain.plan,
      '```',
    );
  }
  return out.join('\n');
}
