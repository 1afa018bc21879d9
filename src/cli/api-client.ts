/** The CLI talks to a running Gantry through the same /api/v1 the UI uses. */
export class ApiClient {
  constructor(private readonly server: string) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.server), {
        method,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      throw new CliError(
        `cannot reach Gantry at ${this.server} (${cause}); start it with "gantry serve" or pass --server`,
      );
    }
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      const detail = (parsed as { detail?: string } | undefined)?.detail ?? text;
      throw new CliError(`${res.status} ${res.statusText}: ${detail}`);
    }
    return parsed as T;
  }
}

/** An error whose message is all the user needs: printed without a stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

export function serverUrl(option: string | undefined): string {
  return option ?? process.env.GANTRY_URL ?? 'http://127.0.0.1:5000';
}
