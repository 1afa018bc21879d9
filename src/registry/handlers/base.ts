import type { Handler } from '../http-types.ts';

/** `GET /v2/`: tells clients this is a registry speaking API v2. */
export const check: Handler = async () => ({ status: 200, body: {} });
