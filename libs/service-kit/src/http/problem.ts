/** RFC 9457 problem details, the error shape of every non-FHIR HTTP API. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code?: string;
  instance?: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problem(status: number, code: string, title: string, detail?: string, extra: Record<string, unknown> = {}): Problem {
  return { type: `https://clinmesh.dev/problems/${code.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`, title, status, detail, code, ...extra };
}
