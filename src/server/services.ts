/**
 * @module
 * The capabilities a node starts, in order. Each is a NodeService (see context.ts); adding a
 * capability is one line here.
 */
import type { NodeService } from './context.ts';
import { cronService } from '../events/cron.ts';
import { queuesService } from '../events/queues.ts';
import { sqsService } from '../aws/sqs.ts';
import { workflowsService } from '../workflows/service.ts';
import { lambdaService } from '../aws/lambda.ts';
import { s3Service } from '../aws/s3.ts';
import { asyncService } from '../events/async.ts';
import { kvChangesService } from '../events/kv-changes.ts';
import { objectChangesService } from '../events/object-changes.ts';
import { d1ChangesService } from '../events/d1-changes.ts';
import { apiKeysService } from '../traffic/api-keys.ts';
import { logsService } from '../observe/logs-service.ts';
import { rolloutService } from '../traffic/rollout.ts';
import { metricsService } from '../observe/metrics-service.ts';
import { dashboardService } from '../observe/dashboard-service.ts';

export const SERVICES: NodeService[] = [logsService, lambdaService, workflowsService, queuesService, asyncService, kvChangesService, d1ChangesService, objectChangesService, apiKeysService, cronService, sqsService, s3Service, metricsService, dashboardService, rolloutService];
