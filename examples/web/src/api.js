// The demo server's REST API (docs/INTERFACES.md) and the query keys querywire's policy uses.
import { docKey, listKey, listPrefix } from 'querywire';
import { PAGE_SIZE } from './config.js';

export const TYPE = 'work_orders';
// querywire's key builders: the keys its doc/list policy refreshes, whatever the id's type.
export const keys = {
  list: (factoryId, page) => listKey(TYPE, factoryId, page),
  listAll: (factoryId) => listPrefix(TYPE, factoryId),
  doc: (id) => docKey(TYPE, id),
};

export class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function http(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) throw new HttpError(res.status, json?.error ?? (text || res.statusText));
  return json;
}

export const api = {
  list: (factoryId, page, { signal } = {}) =>
    fetch(`/api/work_orders?factory_id=${encodeURIComponent(factoryId)}&page=${page}&pageSize=${PAGE_SIZE}`, { signal })
      .then(async (r) => {
        if (!r.ok) throw new HttpError(r.status, await r.text());
        return r.json();
      }),
  get: (id, { signal } = {}) =>
    fetch(`/api/work_orders/${encodeURIComponent(id)}`, { signal }).then(async (r) => {
      if (!r.ok) {
        let msg = r.statusText;
        try { msg = (await r.json()).error ?? msg; } catch { /* ignore */ }
        throw new HttpError(r.status, msg);
      }
      return r.json();
    }),
  create: (row) => http('POST', '/api/work_orders', row),
  update: (id, fields) => http('PATCH', `/api/work_orders/${encodeURIComponent(id)}`, fields),
  approve: (id) => http('POST', `/api/work_orders/${encodeURIComponent(id)}/approve`),
  remove: (id) => http('DELETE', `/api/work_orders/${encodeURIComponent(id)}`),
  burst: (body) => http('POST', '/api/burst', body),
  stats: () => http('GET', '/api/stats'),
  resetStats: () => http('POST', '/api/stats/reset'),
};

// A cached doc is newer-or-equal when its version is at least the list row's.
export function newest(a, b) {
  if (!a) return b;
  if (!b) return a;
  const va = typeof a.version === 'number' ? a.version : -Infinity;
  const vb = typeof b.version === 'number' ? b.version : -Infinity;
  return vb > va ? b : a;
}
