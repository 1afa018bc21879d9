import type { Readable } from 'node:stream';
import { TOKEN_PREFIX } from '../../auth/api-tokens.ts';
import { AuthenticationError, decodeBasic, type LoginOptions } from '../../auth/authenticator.ts';
import { ANONYMOUS, type Principal } from '../../auth/principal.ts';
import { TokenError } from '../../auth/registry-tokens.ts';
import { grantScopes, requestedScopes, type ScopeResolver } from '../../auth/token-grants.ts';
import { OciError } from '../../oci/errors.ts';
import { checkName } from '../../oci/names.ts';
import type { Handler, RegistryContext, RegistryRequest } from '../http-types.ts';

/**
 * `GET /v2/token` (Docker token authentication: Basic credentials or none, `scope` and
 * `service` in the query) and `POST /v2/token` (OAuth2 form: `grant_type=password` or
 * `refresh_token`). Answers a registry token with the granted part of the requested scopes.
 */
export const issue: Handler = async (req, ctx) => {
  const form = req.method === 'POST' ? await readForm(req.body) : req.query;
  const service = form.get('service');
  if (service !== null && service !== ctx.auth.tokens.settings.service) {
    throw new OciError(
      'DENIED',
      `this token service is "${ctx.auth.tokens.settings.service}", not "${service.slice(0, 100)}"`,
    );
  }
  const { principal, refreshToken } = await principalOf(req, ctx, form);
  const access = grantScopes(
    requestedScopes(form.getAll('scope')),
    principal,
    ctx.auth.identity.policy,
    resolver(req, ctx),
  );
  const issued = await ctx.auth.tokens.issueAccess(principal.name, access, {
    ...(principal.token ? { tid: principal.token.id } : {}),
    ...(principal.id ? { uid: principal.id } : {}),
  });
  const offline = form.get('access_type') === 'offline' || form.get('offline_token') === 'true';
  const body: Record<string, unknown> = {
    token: issued.token,
    access_token: issued.token,
    expires_in: issued.expiresIn,
    issued_at: issued.issuedAt,
  };
  if (offline && refreshToken) body.refresh_token = refreshToken;
  return { status: 200, headers: { 'Cache-Control': 'no-store' }, body };
};

async function principalOf(
  req: RegistryRequest,
  ctx: RegistryContext,
  form: URLSearchParams,
): Promise<{ principal: Principal; refreshToken?: string }> {
  const { authenticator, tokens } = ctx.auth;
  try {
    if (req.method === 'POST') {
      const grant = form.get('grant_type');
      if (grant === 'password') {
        // containerd asks again with Basic when this fails: one attempt, counted once.
        const credentials = { user: form.get('username') ?? '', password: form.get('password') ?? '' };
        return await passwordGrant(req, ctx, credentials, { fallbackFollows: true });
      }
      if (grant === 'refresh_token') {
        const refresh = form.get('refresh_token') ?? '';
        if (refresh.startsWith(TOKEN_PREFIX)) {
          return {
            principal: authenticator.viaApiToken(refresh, 'bearer', undefined, req.address),
            refreshToken: refresh,
          };
        }
        const claims = await tokens.verifyRefresh(refresh);
        const user = ctx.auth.identity.userWithId(claims.sub, claims.uid);
        if (!user || user.disabled || user.generation !== claims.gen) {
          throw new AuthenticationError('invalid', 'the refresh token is no longer valid; log in again');
        }
        return { principal: authenticator.principalOf(user, 'bearer'), refreshToken: refresh };
      }
      throw new OciError(
        'UNSUPPORTED',
        `grant_type must be password or refresh_token, not "${(grant ?? '').slice(0, 40)}"`,
      );
    }
    const header = req.headers.authorization;
    if (header === undefined) return { principal: ANONYMOUS };
    if (!/^basic /i.test(header))
      throw new AuthenticationError('invalid', 'the token endpoint takes Basic credentials or none');
    return await passwordGrant(req, ctx, decodeBasic(header.slice(6).trim()), {});
  } catch (error) {
    if (error instanceof TokenError)
      throw new OciError('UNAUTHORIZED', error.message, undefined, {
        'WWW-Authenticate': 'Basic realm="gantry"',
      });
    if (!(error instanceof AuthenticationError)) throw error;
    if (error.reason === 'limited')
      throw new OciError('TOOMANYREQUESTS', error.message, undefined, {
        'Retry-After': String(error.retryAfter),
      });
    throw new OciError('UNAUTHORIZED', error.message, undefined, {
      'WWW-Authenticate': 'Basic realm="gantry"',
    });
  }
}

async function passwordGrant(
  req: RegistryRequest,
  ctx: RegistryContext,
  { user, password }: { user: string; password: string },
  options: LoginOptions,
): Promise<{ principal: Principal; refreshToken?: string }> {
  const { authenticator, tokens } = ctx.auth;
  if (password.startsWith(TOKEN_PREFIX)) {
    return {
      principal: authenticator.viaApiToken(password, 'bearer', user, req.address),
      refreshToken: password,
    };
  }
  const record = await authenticator.login(user, password, req.address, options);
  return {
    principal: authenticator.principalOf(record, 'bearer'),
    refreshToken: await tokens.issueRefresh(record.name, record.id, record.generation),
  };
}

/** Names in scopes resolve as in registry URLs on the same host and port. */
function resolver(req: RegistryRequest, ctx: RegistryContext): ScopeResolver {
  const read = (name: string) => {
    try {
      const checked = checkName(name);
      return req.scope ? ctx.repos.resolveWithin(req.scope, checked) : ctx.repos.resolveName(checked);
    } catch {
      return undefined;
    }
  };
  return {
    read,
    write: (name) => {
      const found = read(name);
      try {
        return found && ctx.repos.writeTarget(found);
      } catch {
        return undefined;
      }
    },
  };
}

const FORM_LIMIT = 64 * 1024;

async function readForm(body: Readable): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > FORM_LIMIT)
      throw new OciError('SIZE_INVALID', `token request form is over ${FORM_LIMIT} bytes`);
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
