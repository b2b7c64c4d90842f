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

export const SERVICES: NodeService[] = [lambdaService, workflowsService, queuesService, cronService, sqsService];
