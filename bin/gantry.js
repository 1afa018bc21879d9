#!/usr/bin/env node
// Entry point of the `gantry` command: runs the TypeScript sources through tsx's loader so that
// a clone works without a build step.
import { register } from 'node:module';
register('tsx/esm', import.meta.url);
await import('../src/cli/main.ts');
