import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { ClinmeshError } from '@clinmesh/errors';

/** Who is calling and what they may do. */
export interface Principal {
  subject: string;
  scopes: ReadonlySet<string>;
  /** Tenant/organisation or client id, for audit. */
  clientId?: string;
  /** Policy audience an API client (a FHIR subscriber, a partner) belongs to, from its token. */
  audience?: string;
  /** Purpose of use the client acts for (HL7 PurposeOfUse: TREAT, HPAYMT, HOPERAT, HRESCH, PUBHLTH), from its token. */
  purposeOfUse?: string;
}

/** Optional claims binding an API client to a policy audience and a purpose of use. */
export interface ClientClaims {
  audience?: string;
  purposeOfUse?: string;
}

const ISSUER = 'clinmesh';
const AUDIENCE = 'clinmesh-api';

/**
 * Bearer tokens: HS256 JWTs with a space-separated `scope` claim (RFC 8693
 * style), signed with a secret that comes only from configuration. Real
 * deployments can front the services with their IdP; the verifier is the one
 * seam to swap for JWKS.
 */
export class AccessTokens {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    if (!secret || secret.length < 32) throw new ClinmeshError('AUTH.WEAK_SECRET', 'the token signing secret must be at least 32 characters');
    this.key = new TextEncoder().encode(secret);
  }

  async issue(subject: string, scopes: string[], ttlSeconds = 3600, clientId?: string, claims: ClientClaims = {}): Promise<string> {
    return new SignJWT({
      scope: scopes.join(' '),
      ...(clientId ? { client_id: clientId } : {}),
      ...(claims.audience ? { clinmesh_audience: claims.audience } : {}),
      ...(claims.purposeOfUse ? { purpose_of_use: claims.purposeOfUse } : {}),
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(subject)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
      .sign(this.key);
  }

  async verify(token: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
      const scope = typeof payload.scope === 'string' ? payload.scope : '';
      return {
        subject: String(payload.sub ?? ''),
        scopes: new Set(scope.split(' ').filter(Boolean)),
        clientId: payload.client_id as string | undefined,
        audience: typeof payload.clinmesh_audience === 'string' ? payload.clinmesh_audience : undefined,
        purposeOfUse: typeof payload.purpose_of_use === 'string' ? payload.purpose_of_use : undefined,
      };
    } catch (error) {
      const expired = error instanceof joseErrors.JWTExpired;
      throw new ClinmeshError(expired ? 'AUTH.TOKEN_EXPIRED' : 'AUTH.TOKEN_INVALID', expired ? 'the bearer token has expired' : 'the bearer token is not valid', { status: 401 });
    }
  }
}

/** Scopes used across services (one per operation kind). */
export const SCOPES = {
  ingestWrite: 'ingest:write',
  ingestRead: 'ingest:read',
  rejectionsRead: 'rejections:read',
  tasksRead: 'tasks:read',
  tasksWrite: 'tasks:write',
  subscriptionsWrite: 'subscriptions:write',
  subscriptionsRead: 'subscriptions:read',
  deliveriesRead: 'deliveries:read',
  personsRead: 'persons:read',
  personsWrite: 'persons:write',
  reviewRead: 'review:read',
  reviewWrite: 'review:write',
  canonicalRead: 'canonical:read',
  policyRead: 'policy:read',
  policyWrite: 'policy:write',
  consentsRead: 'consents:read',
  consentsWrite: 'consents:write',
  breakGlass: 'break-glass:request',
  decisionsRead: 'decisions:read',
  disclosuresRead: 'disclosures:read',
  deliveriesWrite: 'deliveries:write',
  auditRead: 'audit:read',
  lineageRead: 'lineage:read',
  metricsRead: 'metrics:read',
  adminOperate: 'admin:operate',
} as const;

export const ALL_SCOPES: string[] = Object.values(SCOPES);
