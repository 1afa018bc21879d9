/** Running the `gantry` command line the way a user would, for the CLI tests. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../support/gantry.ts';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `gantry ...args` (bin/gantry.js) in a child process with exactly this environment; with
 * `input`, that is its standard input (else it has none).
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<CliResult> {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'gantry.js'), ...args], {
    env,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => {
    stdout += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  if (input !== undefined) child.stdin?.end(input);
  return new Promise((done) => child.once('close', (code) => done({ code, stdout, stderr })));
}
