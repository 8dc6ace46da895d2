import { Controller, Get, Inject, Param, Req, Res, UseFilters } from '@nestjs/common';
import { RECORD_LISTS, CanonicalRecordType, renderFhir } from '@clinmesh/canonical';
import { ClinmeshError } from '@clinmesh/errors';
import { AuditTrail, Principal, SCOPES } from '@clinmesh/security';
import { AUDIT_TRAIL, RequireScopes } from '@clinmesh/service-kit';
import { CanonicalRecordReader } from '../../domain/canonical-store.port';
import { CANONICAL_RECORDS } from '../../normalization.tokens';
import { FhirOperationOutcomeFilter } from './fhir-operation-outcome.filter';

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * GET /fhir/{type}/{id} — a canonical record normalization published,
 * rendered as a FHIR R4 resource whose id is the canonical id (what id-only
 * notifications carry). Scope canonical:read; every read is audited (found or
 * not); ETag is the record's version; errors are OperationOutcomes.
 */
@Controller('fhir')
@UseFilters(FhirOperationOutcomeFilter)
export class FhirReadController {
  constructor(@Inject(CANONICAL_RECORDS) private readonly records: CanonicalRecordReader, @Inject(AUDIT_TRAIL) private readonly audit: AuditTrail) {}

  @RequireScopes(SCOPES.canonicalRead)
  @Get(':type/:id')
  async read(
    @Param('type') type: string,
    @Param('id') id: string,
    @Req() req: { principal: Principal; headers: Record<string, string | undefined> },
    @Res({ passthrough: true }) res: { setHeader(k: string, v: string): void },
  ) {
    const known = Object.prototype.hasOwnProperty.call(RECORD_LISTS, type);
    const stored = known && ID.test(id) ? await this.records.find(id) : null;
    const found = stored && stored.type === type ? stored : null;
    await this.audit.record({
      actor: req.principal.subject, action: 'fhir-read', resource: `${type}/${id}`.slice(0, 200), patientRef: found?.epid || null,
      purpose: req.headers['x-purpose-of-use'] ?? null, outcome: found ? 'allowed' : 'error', details: { status: found ? 200 : 404 },
    });
    if (!known) throw new ClinmeshError('FHIR.TYPE_NOT_SUPPORTED', `resource type ${JSON.stringify(type).slice(0, 60)} is not served here (types: ${Object.keys(RECORD_LISTS).join(', ')})`, { status: 404 });
    if (!found) throw new ClinmeshError('FHIR.NOT_FOUND', `${type}/${id.slice(0, 64)} is not known`, { status: 404 });
    res.setHeader('Content-Type', 'application/fhir+json');
    res.setHeader('ETag', `W/"${found.version}"`);
    res.setHeader('Last-Modified', new Date(found.updatedAt).toUTCString());
    return renderFhir(type as CanonicalRecordType, found.record as never, found.version);
  }
}
