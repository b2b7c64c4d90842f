/**
 * @module
 * The table of commands: name → options, help text and the function that runs it.
 */
import type { ParseArgsConfig } from 'node:util';
import { dev, serve } from './node-commands.ts';
import { deploy, invoke, list, remove, rollback } from './control-commands.ts';
import { aliasesCommand, rolloutCommand, versionsCommand } from './versions-commands.ts';
import { queues, trigger } from './queues-commands.ts';
import { traces } from './traces-commands.ts';
import { workflows } from './workflows-commands.ts';
import { keys } from './keys-commands.ts';
import { apikeys } from './apikeys-commands.ts';
import { secret } from './secrets-commands.ts';
import { d1 } from './d1-commands.ts';
import { kv } from './kv-commands.ts';
import { logs } from './logs-commands.ts';
import { usage } from './usage-commands.ts';

export type Values = Record<string, string | boolean | undefined>;

export interface Command {
  summary: string;
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Values, positionals: string[]): Promise<number>;
}

const remote = {
  to: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** serve and dev: log history and usage estimates (src/observe/logs-service.ts). */
const observeFlags = { 'log-retention-mb': { type: 'string' }, 'log-retention-days': { type: 'string' }, prices: { type: 'string' } } as const;

const OBSERVE_HELP = `  --log-retention-mb <n>    log history kept in <state>/logs (default 256)
  --log-retention-days <n>  days of log history kept (default 7)
  --prices <file.json>      a price table to estimate usage with, beside AWS Lambda's and
                            Cloudflare Workers' (docs/guide-observability.md)`;

const REMOTE_HELP = `  --to <url>       the node (default $OUTPOST_URL or http://127.0.0.1:8787)
  --token <token>  control API token (default $OUTPOST_TOKEN; not needed for outpost dev on loopback)
  --json           print the result as JSON`;

export const COMMANDS: Record<string, Command> = {
  logs: {
    summary: 'print or follow the log records and console lines of a node\'s functions',
    options: { ...remote, url: { type: 'string' }, tail: { type: 'boolean' }, since: { type: 'string' }, until: { type: 'string' }, status: { type: 'string' }, level: { type: 'string' }, search: { type: 'string' }, sample: { type: 'string' }, limit: { type: 'string' } },
    help: `outpost logs [function] — invocation records and console lines, oldest first

Options:
${REMOTE_HELP} (one record per line)
  --url <url>      same as --to
  --tail           follow new records as they happen (Ctrl-C stops)
  --since <t>      from an ISO time or a span back from now: 30s, 15m, 1h, 7d (default 1h)
  --until <t>      up to an ISO time or span
  --status <s>     invocations with this status or class: 500, 4xx, 5xx
  --level <l>      this level or worse: debug, info, warn, error
  --search <text>  text in the message, error, path or request id
  --sample <0..1>  keep this share of requests (a request's lines stay together)
  --limit <n>      at most this many of the newest records (default 200, at most 10000)

Lambda-style functions print as CloudWatch shows them: START, the console lines, END and REPORT.

Examples:
  outpost logs api --since 15m --status 5xx
  outpost logs --tail --level error
  outpost logs orders --search "order 42" --json`,
    run: logs,
  },
  usage: {
    summary: 'show what functions used (requests, GB-seconds, CPU) and what it would cost',
    options: { ...remote, url: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, by: { type: 'string' } },
    help: `outpost usage [function] — metered usage and estimated cost

Options:
${REMOTE_HELP}
  --url <url>      same as --to
  --since <t>      from an ISO time or a span back from now (default 24h); whole hours count
  --until <t>      up to an ISO time or span (default now)
  --by <g>         rows per function (default), version or hour

Estimates use list prices without free tiers: AWS Lambda (requests and GB-seconds),
Cloudflare Workers Standard (requests and CPU ms), and any table given to serve/dev --prices.

Examples:
  outpost usage
  outpost usage api --since 7d --by hour --json`,
    run: usage,
  },
  secret: {
    summary: 'set, list and delete a function\'s secrets',
    options: { ...remote, function: { type: 'string' }, name: { type: 'string' } },
    help: `outpost secret <put|list|delete> --function <fn> — a function's encrypted secrets

  outpost secret put <name> --function <fn>     set a secret; the value is read from stdin
  outpost secret list --function <fn>           the names (values are never shown again)
  outpost secret delete <name> --function <fn>  remove a secret

Options:
${REMOTE_HELP}
  --function <fn>  the function the secret belongs to (also --name, as wrangler spells it;
                   default: the function of the project in the current folder)

A secret reaches the function on env (and process.env for Node styles). A change takes effect
at once: the function's running instances finish what they are doing and new ones load the new
values. Secrets are encrypted at rest with the node's key (OUTPOST_SECRETS_KEY, or secrets.key
in the state directory).

Examples:
  echo -n "$API_KEY" | outpost secret put API_KEY --function billing
  outpost secret list --function billing`,
    run: secret,
  },
  d1: {
    summary: 'query D1 databases and apply migrations',
    // --local / --remote are wrangler's; accepted so its habits work, and ignored: the node is the database.
    options: { ...remote, command: { type: 'string' }, file: { type: 'string' }, dir: { type: 'string' }, local: { type: 'boolean' }, remote: { type: 'boolean' } },
    help: `outpost d1 <list|execute|migrations apply> — the node's D1 (SQL) databases

  outpost d1 list                                   databases on the node
  outpost d1 execute <database> --command "<sql>"   run SQL (several statements allowed)
  outpost d1 execute <database> --file <file.sql>   run a SQL file
  outpost d1 migrations apply <database>            apply the .sql files of ./migrations not yet
                                                    recorded in the database's d1_migrations table

Options:
${REMOTE_HELP}
  --command <sql>  SQL to run
  --file <path>    a file of SQL to run
  --dir <folder>   migrations folder (default ./migrations)

<database> is the database_name of a [[d1_databases]] binding.

Examples:
  outpost d1 execute shop --command "SELECT * FROM orders LIMIT 5"
  outpost d1 migrations apply shop --dir ./migrations`,
    run: d1,
  },
  kv: {
    summary: 'list and create KV namespaces; read, write and bulk-load keys',
    options: { ...remote, namespace: { type: 'string' }, prefix: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' }, ttl: { type: 'string' }, expiration: { type: 'string' }, metadata: { type: 'string' } },
    help: `outpost kv <namespace|key|bulk> — the node's KV namespaces

  outpost kv namespace list                         namespaces (created, or holding keys)
  outpost kv namespace create <name>                create one (its id is the name)
  outpost kv key get <key> --namespace <id>         print a value
  outpost kv key put <key> <value> --namespace <id> (--ttl <s>, --expiration <epoch s>, --metadata <json>)
  outpost kv key delete <key> --namespace <id>
  outpost kv key list --namespace <id>              (--prefix <p>, --limit <n>, --cursor <c>)
  outpost kv bulk put <file.json> --namespace <id>  [{ key, value, expiration?, expiration_ttl?, metadata?, base64? }]
  outpost kv bulk get <file.json> --namespace <id>  a JSON array of keys; prints { key: value }

Options:
${REMOTE_HELP}

<id> is the id of a [[kv_namespaces]] binding. Writes meet Workers KV's limits.

Examples:
  outpost kv key put greeting hello --namespace CACHE
  outpost kv bulk put seed.json --namespace CACHE`,
    run: kv,
  },
  dev: {
    summary: 'serve a project (or a folder of projects) locally, reloading on save',
    options: { port: { type: 'string' }, host: { type: 'string' }, 'aws-port': { type: 'string' }, state: { type: 'string' }, env: { type: 'string' }, quiet: { type: 'boolean' }, 's3-auth': { type: 'boolean' }, telemetry: { type: 'string' }, 'otlp-endpoint': { type: 'string' }, 'max-concurrency': { type: 'string' }, ...observeFlags },
    help: `outpost dev [dir] — serve a project locally with hot reload

Options:
  --port <n>       HTTP port (default 8787; 0 picks a free port)
  --host <addr>    address to listen on (default 127.0.0.1)
  --aws-port <n>   AWS-compatible APIs (default 4566; 0 picks a free port)
  --state <dir>    state directory (default .outpost)
  --env <name>     wrangler environment / serverless stage
  --quiet          no request log
  --s3-auth        verify SigV4 signatures on the S3 API with keys from outpost keys create
                   (without it, dev accepts any credentials, as LocalStack does)
  --max-concurrency <n>  concurrent invocations on the node, reserved and shared (default 1000)
  --otlp-endpoint <url>  export traces over OTLP/HTTP (default $OTEL_EXPORTER_OTLP_ENDPOINT)
  --telemetry off  no request log, metrics or traces (on by default)
${OBSERVE_HELP}

Prints "ready on http://127.0.0.1:<port>" when it accepts requests.

Examples:
  outpost dev ./my-worker
  outpost dev examples --port 0`,
    run: dev,
  },
  serve: {
    summary: 'run a long-lived node with the control API',
    options: { port: { type: 'string' }, host: { type: 'string' }, 'aws-port': { type: 'string' }, state: { type: 'string' }, store: { type: 'string' }, 'store-replicas': { type: 'string' }, name: { type: 'string' }, region: { type: 'string' }, pin: { type: 'string', multiple: true }, 'trust-proxy': { type: 'string', multiple: true }, quiet: { type: 'boolean' }, 'allow-private-network': { type: 'boolean' }, telemetry: { type: 'string' }, 'otlp-endpoint': { type: 'string' }, 'max-concurrency': { type: 'string' }, ...observeFlags },
    help: `outpost serve — run a node that serves what is deployed to it

Options:
  --state <dir>        state directory (default .outpost; with --store nats://… only the
                       node's own files: cached bundles, D1 databases, the secrets key)
  --store <url>        where state lives: nats://host:4222[,host2:4222…] shares it through
                       NATS JetStream with every node given the same URL (default: embedded
                       SQLite in --state)
  --store-replicas <n> replicas of each JetStream bucket and stream (default 1; 3 in a cluster)
  --name <node>        this node's name in a fleet (default: the host name)
  --port <n>           HTTP port (default 8787; 0 picks a free port)
  --host <addr>        address to listen on (default 127.0.0.1)
  --aws-port <n>       AWS-compatible APIs (default 4566; 0 picks a free port)
  --region <name>      region reported to functions, and this node's region in a fleet (default local)
  --pin kv:<ns>=<region>[:refuse]  with --store nats://…: keep KV namespace <ns> only on the
                       JetStream servers tagged region:<region>; :refuse also turns away nodes of
                       other regions (repeatable; give every node the same pins)
  --trust-proxy <ip>   trust geo and x-forwarded-for headers from this proxy (repeatable)
  --allow-private-network  let functions reach loopback and private addresses (denied by default)
  --max-concurrency <n>  concurrent invocations on the node; functions' reserved concurrency is
                       carved from it, 100 always stay unreserved (default 1000)
  --quiet              no request log
  --otlp-endpoint <url>  export traces over OTLP/HTTP (default $OTEL_EXPORTER_OTLP_ENDPOINT)
  --telemetry off      no request log, metrics or traces (on by default)
${OBSERVE_HELP}

On first start it creates an admin token and prints it once on stderr.

Examples:
  outpost serve --state ./data
  outpost serve --state ./data --port 0
  outpost serve --store nats://a:4222,b:4222 --region eu-west --name node-1`,
    run: serve,
  },
  deploy: {
    summary: 'build a project and deploy it to a node',
    options: { ...remote, env: { type: 'string' } },
    help: `outpost deploy [dir] — build every function of a project and deploy it

Options:
${REMOTE_HELP}
  --env <name>     wrangler environment / serverless stage

A bundle that fails to build or to start is rejected; the previous version keeps serving.

Examples:
  outpost deploy ./my-worker --to http://127.0.0.1:8787 --token op_…`,
    run: deploy,
  },
  ls: { summary: 'list deployed functions', options: remote, help: `outpost ls — list deployed functions\n\nOptions:\n${REMOTE_HELP}`, run: list },
  versions: {
    summary: 'list versions, upload one without serving it, or split live between versions',
    options: { ...remote, alias: { type: 'string' }, env: { type: 'string' } },
    help: `outpost versions — a function's versions

  outpost versions <function>                     list them (the active one is marked)
  outpost versions upload [dir]                   build and store new versions without moving live
  outpost versions deploy fn@3=10% fn@2=90%       point an alias (default live) at a split of 1–4
                                                  versions whose weights sum to 100

Options:
${REMOTE_HELP}
  --alias <name>   versions deploy: the alias to move (default live)
  --env <name>     versions upload: wrangler environment / serverless stage

A client keeps its version across requests (Cloudflare-Workers-Version-Key header, else the
outpost-vk cookie). Other aliases answer under /<function>@<alias>/.

Examples:
  outpost versions upload ./my-worker
  outpost versions deploy api@3=10% api@2=90%
  outpost versions deploy api@3 --alias staging`,
    run: versionsCommand,
  },
  aliases: {
    summary: 'list, set and delete the aliases of a function',
    options: remote,
    help: `outpost aliases <ls|set|delete> <function> — named pointers at a version or a split

  outpost aliases ls <function>
  outpost aliases set <function> <alias> <version>[=<percent>%] …   (1–4 versions, weights sum to 100)
  outpost aliases delete <function> <alias>                         (live cannot be deleted)

Options:
${REMOTE_HELP}

Examples:
  outpost aliases set api staging 4
  outpost aliases set api live 4=25% 3=75%`,
    run: aliasesCommand,
  },
  rollout: {
    summary: 'shift live to a new version in steps, rolling back by itself if it is worse',
    options: {
      ...remote,
      // A number is the version to roll out, a URL the node (see versions-commands.ts).
      to: { type: 'string', multiple: true },
      steps: { type: 'string' },
      every: { type: 'string' },
      'max-error-rate-increase': { type: 'string' },
      'max-p99-increase-ms': { type: 'string' },
      'min-requests': { type: 'string' },
    },
    help: `outpost rollout <function> --to <version> — an automatic, staged rollout

  outpost rollout <function> --to 3 [--steps 10,50,100] [--every 5m]
  outpost rollout status <function>     the plan, its state and every step taken
  outpost rollout cancel <function>     stop and point live back at the old version

Options:
${REMOTE_HELP}
  --to <version>                 the version to roll out (upload it with outpost versions upload);
                                 --to <url> still names the node
  --steps <p,p,…>                percent of traffic on the new version at each step (default 10,50,100)
  --every <duration>             time between steps: 250ms, 30s, 5m, 1h (default 5m)
  --max-error-rate-increase <f>  roll back when the new error rate exceeds the old by more (default 0.05)
  --max-p99-increase-ms <ms>     roll back when the new p99 exceeds the old by more (default: not checked)
  --min-requests <n>             invocations of each version before judging (default 20)

Exit codes: 0 the plan was stored (it runs on the node), 1 refused.

Examples:
  outpost versions upload ./api && outpost rollout api --to 4 --steps 10,50,100 --every 5m
  outpost rollout status api`,
    run: rolloutCommand,
  },
  rollback: {
    summary: 'point a function back at an earlier version',
    options: { ...remote, version: { type: 'string' } },
    help: `outpost rollback <function> [--version N] — switch to an earlier version (default: the one before)\n\nOptions:\n${REMOTE_HELP}\n  --version <n>    the version to switch to`,
    run: rollback,
  },
  invoke: {
    summary: 'call a function once and print its answer',
    options: { ...remote, data: { type: 'string' }, event: { type: 'string' }, path: { type: 'string' }, method: { type: 'string' }, async: { type: 'boolean' }, 'idempotency-key': { type: 'string' } },
    help: `outpost invoke <function> — call a function and print the response

Options:
${REMOTE_HELP}
  --path <path>    request path (default /)
  --method <m>     request method (default GET, or POST with --data)
  --data <body>    request body
  --event <json>   send an event instead of an HTTP request (Lambda-style functions)
  --async          queue the event and return at once (Lambda InvocationType Event): retried
                   on error, then sent to the function's on-failure destination
  --idempotency-key <id>  with --async: repeats with this id within 5 minutes are queued once

Examples:
  outpost invoke hello --path /health
  outpost invoke orders --event '{"id":1}'
  outpost invoke orders --async --event '{"id":1}'`,
    run: invoke,
  },
  delete: {
    summary: 'delete a function and its versions',
    options: remote,
    help: `outpost delete <function> — stop serving a function and remove its versions\n\nOptions:\n${REMOTE_HELP}`,
    run: remove,
  },
  workflows: {
    summary: 'list, start and inspect state machine executions',
    options: { ...remote, input: { type: 'string' }, name: { type: 'string' }, status: { type: 'string' }, wait: { type: 'boolean' } },
    help: `outpost workflows <list|start|describe|history> — state machines (Step Functions) on a node

  outpost workflows list                      state machines
  outpost workflows list <state-machine>      its executions, newest first (--status RUNNING)
  outpost workflows start <state-machine>     start an execution (--input <json>, --name <n>, --wait)
  outpost workflows describe <execution>      status, input, output, error
  outpost workflows history <execution>       the execution's history events

An execution is its ARN or <state-machine>/<name>.

Options:
${REMOTE_HELP}
  --input <json>   execution input (default {})
  --name <name>    execution name (default: a UUID; the same name and input twice is idempotent)
  --status <s>     list only executions with this status
  --wait           start: wait for the execution to end; exit 1 unless it succeeded

Examples:
  outpost workflows start order-flow --input '{"orderId":"o1"}' --wait
  outpost workflows history order-flow/order-o1`,
    run: workflows,
  },
  traces: {
    summary: 'show a request\'s trace as a waterfall, or the recent traces',
    options: { ...remote, function: { type: 'string' }, limit: { type: 'string' } },
    help: `outpost traces [<requestId|traceId>] — traces the node keeps in memory

  outpost traces                    recent traces, newest first (--function <fn>, --limit <n>)
  outpost traces <requestId>        one trace as a waterfall: gateway, dispatch, cold start,
                                    handler, each fetch and binding call, with their timings

Options:
\${REMOTE_HELP}
  --function <fn>  only traces of this function
  --limit <n>      how many recent traces (default 20, at most 1000)

The request id is in every response's x-request-id header; the trace id in its traceparent.
Exit codes: 0 shown, 1 not found or the node failed, 2 bad usage.

Examples:
  outpost traces --function api --limit 5
  outpost traces 5f0c6a9e-8d1b-4c2a-9f57-2b3c4d5e6f70`,
    run: traces,
  },
  queues: {
    summary: 'list, create, send to, peek at and redrive queues',
    options: { ...remote, 'visibility-timeout': { type: 'string' }, 'max-receives': { type: 'string' }, dlq: { type: 'string' }, 'content-type': { type: 'string' }, delay: { type: 'string' }, limit: { type: 'string' }, dead: { type: 'boolean' }, 'to-queue': { type: 'string' } },
    help: `outpost queues <list|create|send|peek|purge|dlq redrive> — the node's queues

  outpost queues list                         depth, in flight, delayed, dead, oldest age, consumers
  outpost queues create <queue>               (--visibility-timeout <s>, --max-receives <n> --dlq <queue>)
  outpost queues send <queue> <body>          a JSON body (--content-type text|json, --delay <s>)
  outpost queues peek <queue>                 look at messages without taking them (--limit <n>, --dead)
  outpost queues purge <queue>                delete every message
  outpost queues dlq redrive <queue>          deliver dead messages again (from a DLQ to the queue each
                                              came from, or a queue's own dead messages; --to-queue <q>)

Options:
${REMOTE_HELP}

A message that fails max_retries times goes to the consumer's dead_letter_queue; with none it
stays in its queue as dead and \`outpost queues list\` counts it.

Examples:
  outpost queues send jobs '{"id":1}'
  outpost queues peek jobs-dlq --limit 5
  outpost queues dlq redrive jobs-dlq`,
    run: queues,
  },
  apikeys: {
    summary: 'create, list and delete API keys for routes that require x-api-key',
    options: { ...remote },
    help: `outpost apikeys <create|list|delete> — API keys for routes that require one

  outpost apikeys create <name>   a new key; its value is printed once (the node keeps a hash)
  outpost apikeys list            names and when they were created (never values)
  outpost apikeys delete <name>   requests with it are refused from now on

A route requires a key with serverless \`private: true\`, SAM \`Auth.ApiKeyRequired\` or
outpost.toml \`api_key = { … }\`. A key created here is accepted where the config names it
(provider.apiGateway.apiKeys) or names no keys. Clients send it as the x-api-key header.

Options:
${REMOTE_HELP}

Examples:
  outpost apikeys create partner-a
  curl -H "x-api-key: opk_…" http://127.0.0.1:8787/orders`,
    run: apikeys,
  },
  keys: {
    summary: 'create, list and delete access keys for the S3 API',
    options: { ...remote, label: { type: 'string' } },
    help: `outpost keys <create|list|delete> — access keys for the S3 API on the AWS port

  outpost keys create [--label <text>]   a new key pair; the secret is printed once
  outpost keys list                      key ids, when created, labels (never secrets)
  outpost keys delete <access-key-id>    requests signed with it are refused from now on

\`outpost serve\` verifies every S3 request's SigV4 signature against these keys;
\`outpost dev\` does too when started with --s3-auth (otherwise it accepts any credentials).

Options:
${REMOTE_HELP}
  --label <text>   a note kept with the key

Examples:
  outpost keys create --label ci
  AWS_ACCESS_KEY_ID=OPAK… AWS_SECRET_ACCESS_KEY=… aws --endpoint-url http://127.0.0.1:4566 s3 ls`,
    run: keys,
  },
  trigger: {
    summary: 'run a function\'s scheduled handler now',
    options: { ...remote, cron: { type: 'string' } },
    help: `outpost trigger cron <function> [--cron <expression>] — run a scheduled handler now

Options:
${REMOTE_HELP}
  --cron <expr>    the cron the handler sees (default: the function's first cron trigger)

Examples:
  outpost trigger cron jobs
  outpost trigger cron jobs --cron '*/5 * * * *'`,
    run: trigger,
  },
};
