/**
 * @module
 * The shapes the dashboard reads from the node's API, only the fields it shows. They mirror
 * the server's records (src/control/records.ts, src/events/queues-api.ts,
 * src/workflows/control-routes.ts) and the observability endpoints (metrics, logs, traces,
 * usage); the dashboard cannot import server code, so they are restated here.
 */

export interface RouteInfo {
  path: string;
  method?: string;
  host?: string;
}

export interface FunctionRecord {
  name: string;
  project: string;
  active: number;
  latest: number;
  updatedAt: string;
}

export interface VersionRecord {
  function: string;
  version: number;
  project: string;
  createdAt: string;
  digest: string;
  manifest: { routes?: RouteInfo[]; style?: string; platform?: { name?: string } };
}

export interface FunctionDetail {
  function: FunctionRecord;
  active: VersionRecord;
  runtime: { instances: number; inFlight: number };
}

export interface Alias {
  name: string;
  versions: Array<{ version: number; weight: number }>;
}

export interface SeriesPoint {
  t: number;
  invocations: number;
  errors: number;
  coldStarts: number;
  p50: number;
  p95: number;
  p99: number;
  concurrency: number;
}

export interface Series {
  step: number;
  points: SeriesPoint[];
}

export interface LogRecord {
  type: 'invocation' | 'console';
  time: number | string;
  requestId: string;
  function?: string;
  version?: number;
  level?: string;
  status?: number;
  outcome?: string;
  durationMs?: number;
  message?: string;
}

export interface Span {
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: string | number;
  start: number;
  end: number;
  attributes?: Record<string, unknown>;
  status?: { code?: string | number; message?: string } | string;
}

export interface Trace {
  traceId: string;
  spans: Span[];
}

export interface QueueInfo {
  name: string;
  createdAt: string;
  config: { deadLetterQueue?: string; maxReceiveCount?: number };
  stats: { visible: number; inFlight: number; delayed: number; dead: number; oldestSentAt?: number };
  consumers: string[];
}

export interface StateMachine {
  name: string;
  arn: string;
  type?: string;
  createdAt?: number | string;
}

export interface Execution {
  arn: string;
  name: string;
  /** The state machine's name. */
  stateMachine: string;
  status: string;
  startDate: number | string;
  stopDate?: number | string;
  input?: string;
  output?: string;
  error?: string;
  cause?: string;
}

export interface HistoryEvent {
  id: number;
  type: string;
  timestamp?: number | string;
  [details: string]: unknown;
}

export interface UsageCounters {
  requests: number;
  errors: number;
  coldStarts: number;
  durationMs: number;
  billedMs: number;
  gbSeconds: number;
  cpuMs: number;
  bytesIn: number;
  bytesOut: number;
}

export interface UsageEstimate {
  table: string;
  currency: string;
  total: number;
  lines: Array<{ item: string; quantity: number; unitPrice: number; amount: number }>;
}

export interface UsageAnswer {
  rows: Array<UsageCounters & { function: string; version?: number; hour?: string }>;
  totals: UsageCounters;
  estimates: UsageEstimate[];
}
