#!/usr/bin/env node
// Entry point of the `gantry` command: runs the TypeScript sources through tsx so that a clone
// works without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
