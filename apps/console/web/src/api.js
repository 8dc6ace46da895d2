// Console API client: same-origin cookie session; every state-changing call carries the CSRF token.
let csrf = null;
export const setCsrf = (t) => { csrf = t; };

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title)) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function api(method, path, { body, headers = {} } = {}) {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: {
      accept: 'application/json',
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(method !== 'GET' && csrf ? { 'x-csrf-token': csrf } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!res.ok) throw new ApiError(res.status, data);
  return { data, etag: res.headers.get('etag') };
}

export const PURPOSES = [
  ['TREAT', 'Treatment'], ['HOPERAT', 'Healthcare operations'], ['HPAYMT', 'Payment'], ['HRESCH', 'Research'], ['PUBHLTH', 'Public health'], ['BTG', 'Break the glass'], ['HSYSADMIN', 'System administration'],
];
