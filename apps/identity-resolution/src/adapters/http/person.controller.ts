import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventRuntime } from '@clinmesh/event-runtime';
import { AuditTrail, Principal, SCOPES } from '@clinmesh/security';
import { AUDIT_TRAIL, DATA_SOURCE, EVENT_RUNTIME, RequireScopes } from '@clinmesh/service-kit';
import type { PersonIdentifier } from '@clinmesh/empi';
import { InvalidRequestError, PersonNotFoundError } from '../../domain/identity.errors';
import { canonicalIdentifier } from '../../domain/patient-demographics.model';
import { MasterPatientIndex } from '../../application/master-patient-index';
import { MASTER_PATIENT_INDEX } from './identity-resolution.tokens';
import { inIdentityTransaction, newOperationId, readIndex } from './identity-request.transaction';

type Req = { principal: Principal; headers: Record<string, string | undefined> };

/**
 * Persons of the master patient index: GET /v1/persons/{epid},
 * GET /v1/persons?identifier=system|value (audited reads), and
 * POST /v1/persons/{epid}/unmerge.
 */
@Controller('v1/persons')
export class PersonController {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(AUDIT_TRAIL) private readonly audit: AuditTrail,
    @Inject(EVENT_RUNTIME) private readonly runtime: EventRuntime,
    @Inject(MASTER_PATIENT_INDEX) private readonly index: MasterPatientIndex,
  ) {}

  @RequireScopes(SCOPES.personsRead)
  @Get(':epid')
  async get(@Req() req: Req, @Param('epid') epid: string) {
    const view = await readIndex(this.db, async (repo) => {
      const person = await repo.person(epid);
      if (!person) return undefined;
      const [records, links] = await Promise.all([repo.candidates.recordsOfPerson(epid), repo.links(epid)]);
      return { person, records, links };
    });
    await this.audit.record({
      actor: req.principal.subject, action: 'read-person', resource: 'persons', patientRef: epid, purpose: req.headers['x-purpose-of-use'] ?? null,
      outcome: view ? 'allowed' : 'error', details: view ? { records: view.records.length } : { notFound: true },
    });
    if (!view) throw new PersonNotFoundError(epid);
    return {
      epid: view.person.epid,
      status: view.person.status,
      mergedInto: view.person.mergedInto,
      createdAt: view.person.createdAt,
      updatedAt: view.person.updatedAt,
      records: view.records.map((r) => {
        const link = view.links.find((l) => l.recordId === r.recordId);
        const { recordId: _id, sourceSystem: _source, identifiers: _ids, ...demographics } = r.record;
        return {
          recordId: r.recordId, source: r.record.sourceSystem ?? null, identifiers: r.record.identifiers ?? [], demographics,
          // Why the record is on this person: how it was linked, against which record, with the evidence as scored then.
          why: link ? { method: link.method, score: link.score, candidateRecordId: link.candidateRecordId, explanation: link.explanation ?? null } : null,
        };
      }),
      links: view.links.map((l) => ({ recordId: l.recordId, method: l.method, score: l.score, candidateRecordId: l.candidateRecordId, contributions: l.contributions })),
    };
  }

  @RequireScopes(SCOPES.personsRead)
  @Get()
  async search(@Req() req: Req, @Query('identifier') identifier?: string) {
    const bar = identifier?.indexOf('|') ?? -1;
    if (!identifier || bar < 0 || bar === identifier.length - 1) throw new InvalidRequestError('PERSON.SEARCH.INVALID', 'identifier must be given as system|value');
    const id = canonicalIdentifier({ system: identifier.slice(0, bar), value: identifier.slice(bar + 1) });
    const persons = await readIndex(this.db, async (repo) => {
      const holders = await repo.recordsWithIdentifier(id.system, id.value);
      const byPerson = new Map<string, string[]>();
      for (const h of holders) byPerson.set(h.epid, [...(byPerson.get(h.epid) ?? []), h.recordId]);
      const out = [];
      for (const [epid, recordIds] of byPerson) {
        const p = await repo.person(epid);
        out.push({ epid, status: p?.status ?? 'active', recordIds });
      }
      return out;
    });
    await this.audit.record({
      actor: req.principal.subject, action: 'search-persons', resource: 'persons', patientRef: persons.length === 1 ? persons[0].epid : null,
      purpose: req.headers['x-purpose-of-use'] ?? null, outcome: 'allowed', details: { system: id.system, returned: persons.length },
    });
    return { persons };
  }

  @RequireScopes(SCOPES.personsWrite)
  @Post(':epid/unmerge')
  @HttpCode(200)
  async unmerge(@Req() req: Req, @Param('epid') epid: string, @Body() body: { recordIds?: unknown }) {
    if (!Array.isArray(body?.recordIds)) throw new InvalidRequestError('PERSON.UNMERGE.INVALID', 'recordIds must be a non-empty list of record ids');
    const operationId = newOperationId();
    const restored = await inIdentityTransaction(this.runtime, operationId, req.headers['x-correlation-id'], (repo, changes) =>
      this.index.unmerge(repo, epid, body.recordIds as string[], operationId, changes),
    );
    await this.audit.record({
      actor: req.principal.subject, action: 'unmerge-person', resource: 'persons', patientRef: epid, purpose: req.headers['x-purpose-of-use'] ?? null,
      outcome: 'allowed', details: { operationId, persons: restored.map((r) => r.epid) },
    });
    return { epid, operationId, persons: restored };
  }
}

export type { PersonIdentifier };
