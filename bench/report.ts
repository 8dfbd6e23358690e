import type { ExplainResult } from './explain';
import type { IngestResult } from './ingest';
import type { LoadResult } from './load';

export type Target = 'gateway' | 'keyset' | 'offset';
export type CaseId = 'first' | 'deep' | 'limit200';

export interface Run {
  /** e.g. `gateway:first`, `keyset:deep`, `offset:deep` */
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
  gatewayMemory?: { rssMb: number; peakRssMb: number };
  explain: { firstPage?: ExplainResult; deepPage?: ExplainResult };
  ingest: IngestResult;
  targets: TargetCheck[];
}

const RSS_LIMIT_MB = 300;

function find(runs: Run[], id: string): LoadResult | undefined {
  return runs.find((run) => run.id === id)?.result;
}

function check(name: string, value: number | undefined | null, limit: string, pass: (value: number) => boolean): TargetCheck {
  return value === undefined || value === null || Number.isNaN(value)
    ? { name, value: null, limit, pass: null }
    : { name, value, limit, pass: pass(value) };
}

/** The targets, computed from one run's measurements. A target whose runs were skipped is null. */
export function evaluateTargets(report: Omit<Report, 'targets'>): TargetCheck[] {
  const { runs } = report;
  const gatewayFirst = find(runs, 'gateway:first');
  const gatewayDeep = find(runs, 'gateway:deep');
  const ratio = (a?: number, b?: number) => (a === undefined || b === undefined ? undefined : a / b);
  const checks = [
    check('first page req/s, gateway / keyset baseline', ratio(gatewayFirst?.requestsPerSecond, find(runs, 'keyset:first')?.requestsPerSecond), '>= 0.8', (v) => v >= 0.8),
    check('deep page p50 / first page p50 (gateway)', ratio(gatewayDeep?.p50Ms, gatewayFirst?.p50Ms), '<= 1.2', (v) => v <= 1.2),
    check('deep page req/s, gateway / OFFSET baseline', ratio(gatewayDeep?.requestsPerSecond, find(runs, 'offset:deep')?.requestsPerSecond), '>= 10', (v) => v >= 10),
    ...runs
      .filter((run) => run.target === 'gateway')
      .map((run) => check(`p99 / p50, ${run.id}`, run.result.p99Ms / run.result.p50Ms, '<= 3', (v) => v <= 3)),
    check('non-2xx responses and errors, all runs', runs.length ? runs.reduce((sum, run) => sum + run.result.non2xx + run.result.errors, 0) : undefined, '= 0', (v) => v === 0),
    check('gateway RSS after the run (MB)', report.gatewayMemory?.rssMb, `< ${RSS_LIMIT_MB}`, (v) => v < RSS_LIMIT_MB),
    check('EXPLAIN first page: index scan, no Sort, ~limit+1 rows, generic plan', report.explain.firstPage ? Number(report.explain.firstPage.ok) : undefined, 'ok', (v) => v === 1),
    check('EXPLAIN deep page: index scan, no Sort, ~limit+1 rows, generic plan', report.explain.deepPage ? Number(report.explain.deepPage.ok) : undefined, 'ok', (v) => v === 1),
  ];
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
  const line = (cells: string[]) => `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join(' | ')} |`;
  return [line(header), `|${widths.map((width, column) => (column === 0 ? ':' : '-') + '-'.repeat(width) + (column === 0 ? '-' : ':')).join('|')}|`, ...rows.map(line)].join('\n');
}

/** The measurements as a Markdown table (the same text goes to the terminal and to docs/performance.md). */
export function formatReport(report: Report): string {
  const reference = (run: Run): LoadResult | undefined => (run.target === 'gateway' ? find(report.runs, `keyset:${run.caseId}`) : undefined);
  const rows = report.runs.map((run) => {
    const base = reference(run);
    const offset = run.target === 'gateway' && run.caseId === 'deep' ? find(report.runs, 'offset:deep') : undefined;
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
    `${dataset.chats.toLocaleString('en-US')} chats in ${dataset.sessions} sessions (seeded in ${dataset.seedSeconds.toFixed(1)} s); ${settings.connections} connections, ${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s per case in ${settings.rounds} rounds; gateway LOG_LEVEL=${settings.gatewayLogLevel} LOG_ASYNC=${settings.gatewayLogAsync}`,
    '',
    table(['case', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'server CPU µs/req', 'vs keyset baseline', 'vs OFFSET baseline'], rows),
    '',
    `Gateway RSS after the run: ${fixed(report.gatewayMemory?.rssMb)} MB (peak ${fixed(report.gatewayMemory?.peakRssMb)} MB)`,
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
