#!/usr/bin/env node
// The `outpost` command. Sources are TypeScript that Node (>= 24) runs directly.
import '../src/cli/main.ts';
