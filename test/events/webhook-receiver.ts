/**
 * A webhook receiver for tests: a real HTTP server on 127.0.0.1 that records every delivery and
 * answers as the test tells it (a status, or hang until the sender gives up).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { verifySignature } from '../../src/events/webhook-signature.ts';

export interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: a parsed CloudEvent, checked field by field
  event: any;
  /** Whether Gantry-Signature verified with the secret the receiver knows. */
  signed: boolean;
  /** What the receiver answered: a status, or 'hang'. */
  answer: number | 'hang';
}

/** Decides the answer to the n-th request (0-based) for this event. */
export type Answer = (request: { n: number; event: Received['event'] }) => number | 'hang';

export class WebhookReceiver {
  readonly received: Received[] = [];
  answer: Answer = () => 200;
  #server: Server;
  #hanging = new Set<ServerResponse>();

  private constructor(
    readonly secret: string,
    server: Server,
  ) {
    this.#server = server;
  }

  static async start(secret: string): Promise<WebhookReceiver> {
    const server = createServer();
    const receiver = new WebhookReceiver(secret, server);
    server.on('request', (req, res) => receiver.#handle(req, res));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    return receiver;
  }

  get url(): string {
    const address = this.#server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return `http://127.0.0.1:${port}/hook`;
  }

  /** Successful (2xx) deliveries, in the order they arrived. */
  get accepted(): Received[] {
    return this.received.filter((r) => typeof r.answer === 'number' && r.answer < 300);
  }

  /** Resolves once `check` holds, polling; rejects after `ms`. */
  async until(check: () => boolean, ms = 20_000, what = 'deliveries'): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; got ${this.summary()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  summary(): string {
    return JSON.stringify(this.received.map((r) => [r.event?.type, r.event?.gantrysequence, r.answer]));
  }

  async close(): Promise<void> {
    for (const res of this.#hanging) res.destroy();
    this.#server.closeAllConnections();
    await new Promise((done) => this.#server.close(done));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let event: Received['event'];
      try {
        event = JSON.parse(body);
      } catch {
        event = undefined;
      }
      const header = req.headers['gantry-signature'];
      const signed = verifySignature({
        secret: this.secret,
        body,
        header: typeof header === 'string' ? header : undefined,
        nowSeconds: Math.floor(Date.now() / 1000),
      });
      const n = this.received.filter((r) => r.event?.id === event?.id).length;
      const answer = this.answer({ n, event });
      this.received.push({ headers: req.headers, body, event, signed, answer });
      if (answer === 'hang') {
        this.#hanging.add(res);
        return;
      }
      res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : 'receiver failed');
    });
  }
}
