import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** The only files served, with their types: what a Vite build of the UI produces. */
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
};

/** Files under assets/ carry a content hash in their names: cache them for good. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** The page talks to /api/v1 on the same origin only; nothing may frame it. */
const PAGE_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
};

/**
 * The web UI at `/ui`: the static files of its build (`npm run build:web` → web/dist, or config
 * `uiDir`), `index.html` for every other path under /ui (client-side routes). Only the
 * extensions above are served, only from inside the directory. `GET /` sends browsers to
 * `/ui/`; other clients get the 404 they always got.
 */
export async function uiPlugin(app: FastifyInstance, options: { dir: string }): Promise<void> {
  const root = resolve(options.dir);

  app.get('/', async (request, reply) => {
    if ((request.headers.accept ?? '').includes('text/html')) return reply.redirect('/ui/', 302);
    return notFound(reply);
  });

  const handler = (request: FastifyRequest, reply: FastifyReply) => serve(root, request, reply);
  app.route({ method: ['GET', 'HEAD'], url: '/ui', handler });
  app.route({ method: ['GET', 'HEAD'], url: '/ui/*', handler });
}

async function serve(root: string, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const index = join(root, 'index.html');
  if (!(await isFile(index))) {
    return reply
      .code(503)
      .header('Content-Type', 'application/problem+json')
      .header('Cache-Control', 'no-store')
      .send({
        type: 'about:blank',
        title: 'Service Unavailable',
        status: 503,
        detail:
          'the web UI has not been built: run `npm run build:web` on the server (or point the uiDir setting at a built UI); /api/v1 works without it',
      });
  }
  const raw = request.raw.url ?? '/ui';
  const path = raw.slice(0, raw.indexOf('?') < 0 ? raw.length : raw.indexOf('?'));
  const relative = path === '/ui' ? '' : path.slice('/ui/'.length);
  let segments: string[];
  try {
    segments = relative.split('/').map((s) => decodeURIComponent(s));
  } catch {
    return notFound(reply);
  }
  if (segments.some((s) => s === '..' || s === '.' || /[/\\\0]/.test(s))) return notFound(reply);
  const wanted = segments.filter((s) => s !== '').join('/');
  const ext = extname(wanted).toLowerCase();
  if (wanted !== '' && ext !== '') {
    const file = resolve(root, wanted);
    const type = CONTENT_TYPES[ext];
    if (type && file.startsWith(root + sep) && (await isFile(file))) {
      const immutable = wanted.startsWith('assets/');
      return sendFile(reply, request, file, type, immutable ? IMMUTABLE : 'no-cache');
    }
    // A missing file is a 404, not the page: a script URL must never get HTML back.
    return notFound(reply);
  }
  return sendFile(reply, request, index, CONTENT_TYPES['.html'] as string, 'no-cache', PAGE_HEADERS);
}

async function sendFile(
  reply: FastifyReply,
  request: FastifyRequest,
  file: string,
  type: string,
  cacheControl: string,
  extra: Record<string, string> = {},
): Promise<FastifyReply> {
  const { size } = await stat(file);
  reply
    .code(200)
    .headers(extra)
    .header('Content-Type', type)
    .header('Content-Length', size)
    .header('Cache-Control', cacheControl)
    .header('X-Content-Type-Options', 'nosniff');
  if (request.method === 'HEAD') return reply.send();
  return reply.send(createReadStream(file));
}

/** Fastify's own 404, as for any unknown path. */
function notFound(reply: FastifyReply): FastifyReply {
  reply.callNotFound();
  return reply;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
