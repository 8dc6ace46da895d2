import { RECORD_LISTS, renderFhir, type CanonicalRecordType } from '@clinmesh/canonical';
import type { RoutedEvent } from '@clinmesh/schemas';

/**
 * The focus of a full-resource notification: the record rendered as FHIR R4 from the routed view
 * the audience received (policy's projection already applied — a record or field the projection
 * removed cannot appear). Null when the view does not hold the focus (a task event, a record the
 * projection dropped): the notification entry then carries the id only.
 */
export function focusResource(view: RoutedEvent['canonical'] | null, focus: { resourceType: string; id: string } | null): Record<string, unknown> | null {
  if (!view?.records || !focus) return null;
  const list = RECORD_LISTS[focus.resourceType as CanonicalRecordType];
  if (!list) return null;
  const record = (view.records[list] as Array<{ id: string }>).find((r) => r.id === focus.id);
  return record ? renderFhir(focus.resourceType as CanonicalRecordType, record as Parameters<typeof renderFhir>[1]) : null;
}
