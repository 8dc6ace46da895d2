import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ClinmeshError } from '@clinmesh/errors';
import { AccessTokens, Principal } from '@clinmesh/security';
import { ACCESS_TOKENS } from './tokens';
import { PUBLIC_KEY, SCOPES_KEY } from './scopes.decorator';

/**
 * Global guard: every endpoint needs `Authorization: Bearer <token>` and the
 * scopes declared with @RequireScopes, except those marked @PublicEndpoint
 * (health probes). An endpoint that declares no scope is refused, so a
 * forgotten decorator fails closed.
 */
@Injectable()
export class ScopeGuard implements CanActivate {
  constructor(private readonly reflector: Reflector, @Inject(ACCESS_TOKENS) private readonly tokens: AccessTokens) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; principal?: Principal }>();
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new ClinmeshError('AUTH.MISSING_TOKEN', 'this endpoint requires Authorization: Bearer <token>', { status: 401 });
    const principal = await this.tokens.verify(match[1]);
    req.principal = principal;
    const required = this.reflector.getAllAndOverride<string[]>(SCOPES_KEY, targets);
    if (!required?.length) throw new ClinmeshError('AUTH.NO_SCOPE_DECLARED', 'endpoint has no scope declared; refusing', { status: 403 });
    const missing = required.filter((s) => !principal.scopes.has(s));
    if (missing.length) {
      throw new ClinmeshError('AUTH.INSUFFICIENT_SCOPE', `the token lacks the scope(s): ${missing.join(', ')}`, { status: 403, details: { requiredScopes: required } });
    }
    return true;
  }
}
