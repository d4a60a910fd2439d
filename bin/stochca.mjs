#!/usr/bin/env node
// The `stochca` command: runs the TypeScript sources through tsx (installed by npm ci).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
