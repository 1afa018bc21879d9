import { type Logger, pino } from 'pino';

export type { Logger };

/** JSON lines on stdout. Authorization headers are never logged (redacted at the source). */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'gantry' },
    redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
