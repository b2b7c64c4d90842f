/**
 * @module
 * The capabilities a node starts, in order. Each is a NodeService (see context.ts); adding a
 * capability is one line here.
 */
import type { NodeService } from './context.ts';

export const SERVICES: NodeService[] = [];
