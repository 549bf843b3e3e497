import { useEffect, useMemo, useState } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRealtimeSubscription } from 'querywire/react';
import { api, keys, newest, TYPE } from './api.js';
import { PAGE_SIZE, source } from './config.js';
import { navigate } from './router.js';

export const LIST_VIEW = { kind: 'list', type: TYPE };
export const STATUSES = ['open', 'in_progress', 'approved', 'rejected', 'done'];

/**
 * Seed each row's doc query from a list page: querywire's policy refetches a list only on create and
 * delete, and routes an update to the doc alone (patched in place, or invalidated), so the rows read
 * their values from the docs.
 */
export function seedDocs(queryClient, items) {
  for (const item of items ?? []) {
    const key = keys.doc(item.id);
    const cur = queryClient.getQueryData(key);
    if (cur && typeof cur.version === 'number' && typeof item.version === 'number' && cur.version >= item.version) continue;
    queryClient.setQueryData(key, item);
  }
}

export function useListPage(factoryId, page) {
  const queryClient = useQueryClient();
  return useQuery({
    queryKey: keys.list(factoryId, page),
    queryFn: async ({ signal }) => {
      const res = await api.list(factoryId, page, { signal });
      seedDocs(queryClient, res.items);
      return res;
    },
    placeholderData: keepPreviousData,
  });
}

/**
 * A row is a view of its doc query (a normalized cache): the list seeds it, realtime events patch or
 * invalidate it, and an invalidated row on screen refetches itself (one request for that row, not the
 * page). staleTime Infinity: a seeded row never fetches on mount; only an invalidation makes it refetch.
 */
function useRow(item) {
  const { data: doc } = useQuery({
    queryKey: keys.doc(item.id),
    queryFn: ({ signal }) => api.get(item.id, { signal }),
    staleTime: Infinity,
    retry: false,
  });
  return newest(item, doc);
}

function fmtTime(s) {
  if (!s) return '';
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? String(s) : d.toLocaleTimeString();
}

export function StatusPill({ status, testId }) {
  return <span className={`pill pill-${status}`} data-testid={testId}>{String(status ?? '').replace('_', ' ')}</span>;
}

function Row({ item, selected, onOpen, compact }) {
  const row = useRow(item);
  return (
    <tr
      className={selected ? 'selected' : ''}
      data-testid="wo-row"
      data-id={row.id}
      data-version={row.version}
      data-title={row.title}
      data-status={row.status}
      onClick={onOpen ? () => onOpen(row.id) : undefined}
    >
      <td className="num">#{row.id}</td>
      <td data-testid="wo-row-title">{row.title}</td>
      <td><StatusPill status={row.status} testId="wo-row-status" /></td>
      <td className="num" data-testid="wo-row-qty">{row.qty}</td>
      <td className="num" data-testid="wo-row-version">v{row.version}</td>
      {!compact && <td className="muted small">{fmtTime(row.updated_at)}</td>}
    </tr>
  );
}

export function WorkOrderTable({ items, selectedId, onOpen, compact }) {
  return (
    <table className="table wo-table" data-testid="wo-table">
      <thead>
        <tr>
          <th>ID</th><th>Title</th><th>Status</th><th className="num">Qty</th><th className="num">Ver</th>
          {!compact && <th>Updated</th>}
        </tr>
      </thead>
      <tbody>
        {items.map((it) => (
          <Row key={it.id} item={it} selected={String(it.id) === String(selectedId)} onOpen={onOpen} compact={compact} />
        ))}
        {items.length === 0 && (
          <tr><td colSpan={compact ? 5 : 6} className="muted empty">No work orders in this factory yet.</td></tr>
        )}
      </tbody>
    </table>
  );
}

function Pager({ page, total, onPage }) {
  const pages = Math.max(1, Math.ceil((total ?? 0) / PAGE_SIZE));
  const shown = [];
  for (let p = 1; p <= pages; p++) {
    if (p === 1 || p === pages || Math.abs(p - page) <= 2) shown.push(p);
    else if (shown[shown.length - 1] !== '…') shown.push('…');
  }
  return (
    <div className="pager" data-testid="pager">
      <button onClick={() => onPage(page - 1)} disabled={page <= 1} data-testid="page-prev">‹ Prev</button>
      {shown.map((p, i) =>
        p === '…' ? <span key={`gap${i}`} className="muted">…</span> : (
          <button key={p} className={p === page ? 'current' : ''} onClick={() => onPage(p)} data-testid={`page-btn-${p}`}>{p}</button>
        ))}
      <button onClick={() => onPage(page + 1)} disabled={page >= pages} data-testid="page-next">Next ›</button>
      <span className="muted small" data-testid="list-page" data-page={page}>page {page} of {pages} · {total ?? 0} total</span>
    </div>
  );
}

function NewOrderForm({ factoryId }) {
  const [title, setTitle] = useState('');
  const [qty, setQty] = useState(1);
  const m = useMutation({
    mutationFn: () => api.create({ factory_id: factoryId, title: title.trim() || 'Untitled order', qty: Number(qty) || 1 }),
    onSuccess: () => setTitle(''),
  });
  return (
    <form className="inline-form" onSubmit={(e) => { e.preventDefault(); m.mutate(); }} data-testid="create-form">
      <input placeholder="New work order title" value={title} onChange={(e) => setTitle(e.target.value)} data-testid="create-title" />
      <input type="number" min="1" value={qty} onChange={(e) => setQty(e.target.value)} className="qty" data-testid="create-qty" aria-label="Quantity" />
      <button type="submit" className="primary" disabled={m.isPending} data-testid="create-submit">Create</button>
      {m.isError && <span className="error small">{String(m.error.message)}</span>}
      {source === 'poll' && m.isSuccess && <span className="muted small">created; the list picks it up on the next poll</span>}
    </form>
  );
}

export function WorkOrdersPage({ factoryId, selectedId }) {
  const [page, setPage] = useState(1);
  useEffect(() => setPage(1), [factoryId]);
  useRealtimeSubscription(LIST_VIEW);
  const q = useListPage(factoryId, page);
  const data = q.data;
  const items = data?.items ?? [];

  return (
    <div className={`wo-page ${selectedId ? 'with-detail' : ''}`}>
      <section className="card list-card">
        <div className="card-head">
          <h2>Work orders <span className="muted">· factory {factoryId}</span></h2>
          <span className="muted small" data-testid="list-updated" title="when this page of the list was last fetched (an insert or delete event, a poll while realtime is down, a recovery)">
            {q.dataUpdatedAt ? `fetched ${fmtTime(q.dataUpdatedAt)}` : ''}
          </span>
          <span className={`fetching ${q.isFetching ? 'on' : ''}`} data-testid="list-fetching">{q.isFetching ? 'fetching…' : ''}</span>
        </div>
        {q.isError && !data ? (
          <div className="error">Could not load the list: {String(q.error.message)}</div>
        ) : !data ? (
          <div className="muted">Loading…</div>
        ) : (
          <>
            <WorkOrderTable items={items} selectedId={selectedId} onOpen={(id) => navigate(`/work-orders/${id}`)} />
            <Pager page={page} total={data.total} onPage={setPage} />
          </>
        )}
        <NewOrderForm factoryId={factoryId} />
      </section>
      {selectedId && <DetailPane key={selectedId} id={selectedId} />}
    </div>
  );
}

export function DetailPane({ id, onClose }) {
  const queryClient = useQueryClient();
  const view = useMemo(() => ({ kind: 'doc', type: TYPE, id: String(id) }), [id]);
  useRealtimeSubscription(view);
  const q = useQuery({ queryKey: keys.doc(id), queryFn: ({ signal }) => api.get(id, { signal }) });
  const [editing, setEditing] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const close = onClose ?? (() => navigate('/work-orders'));

  // A mutation's response is the new row: write it into the doc so this tab shows it at once
  // (the realtime event that follows carries the same version and changes nothing).
  const writeBack = (row) => { if (row) queryClient.setQueryData(keys.doc(id), (old) => newest(old, row)); };
  const update = useMutation({ mutationFn: (fields) => api.update(id, fields), onSuccess: (row) => { writeBack(row); setEditing(false); } });
  // Optimistic: the status flips at once; querywire holds the doc's realtime changes back while the
  // mutation (keyed by the doc's key) is pending, so its own echo never flickers it (and a rollback
  // on error is not overwritten).
  const approve = useMutation({
    mutationKey: keys.doc(id),
    mutationFn: () => api.approve(id),
    onMutate: async () => {
      await queryClient.cancelQueries({ queryKey: keys.doc(id) });
      const before = queryClient.getQueryData(keys.doc(id));
      queryClient.setQueryData(keys.doc(id), (old) => (old ? { ...old, status: 'approved' } : old));
      return { before };
    },
    onError: (_e, _v, ctx) => queryClient.setQueryData(keys.doc(id), ctx?.before),
    onSuccess: writeBack,
  });
  const remove = useMutation({ mutationFn: () => api.remove(id), onSuccess: close });

  const deleted = q.error?.status === 404;
  const doc = q.data;
  return (
    <aside className="card detail-card" data-testid="detail" data-id={id}>
      <div className="card-head">
        <h2>Work order <span className="muted">#{id}</span></h2>
        <span className={`fetching ${q.isFetching ? 'on' : ''}`} data-testid="detail-fetching">{q.isFetching ? 'fetching…' : ''}</span>
        <button className="ghost" onClick={close} data-testid="detail-close" aria-label="Close">✕</button>
      </div>
      {deleted ? (
        <div className="notice" data-testid="detail-deleted">This work order was deleted.</div>
      ) : q.isError && !doc ? (
        <div className="error">Could not load: {String(q.error.message)}</div>
      ) : !doc ? (
        <div className="muted">Loading…</div>
      ) : (
        <>
          <h3 className="detail-title" data-testid="detail-title">{doc.title}</h3>
          <dl className="props">
            <dt>Status</dt><dd><StatusPill status={doc.status} testId="detail-status" /></dd>
            <dt>Quantity</dt><dd data-testid="detail-qty">{doc.qty}</dd>
            <dt>Version</dt><dd data-testid="detail-version">{doc.version}</dd>
            <dt>Factory</dt><dd data-testid="detail-factory">{doc.factory_id}</dd>
            <dt>Updated</dt><dd className="small">{fmtTime(doc.updated_at)}</dd>
          </dl>
          {editing ? (
            <EditForm doc={doc} pending={update.isPending} onCancel={() => setEditing(false)} onSave={(f) => update.mutate(f)} />
          ) : (
            <div className="actions">
              <button onClick={() => setEditing(true)} data-testid="detail-edit">Edit</button>
              <button className="primary" onClick={() => approve.mutate()} disabled={approve.isPending || doc.status === 'approved'} data-testid="detail-approve">Approve</button>
              {confirmDelete ? (
                <>
                  <button className="danger" onClick={() => remove.mutate()} disabled={remove.isPending} data-testid="detail-delete-confirm">Really delete</button>
                  <button className="ghost" onClick={() => setConfirmDelete(false)}>Keep</button>
                </>
              ) : (
                <button className="danger-outline" onClick={() => setConfirmDelete(true)} data-testid="detail-delete">Delete</button>
              )}
            </div>
          )}
          {[update, approve, remove].map((m, i) => m.isError && <div key={i} className="error small">{String(m.error.message)}</div>)}
        </>
      )}
    </aside>
  );
}

function EditForm({ doc, onSave, onCancel, pending }) {
  const [title, setTitle] = useState(doc.title ?? '');
  const [qty, setQty] = useState(doc.qty ?? 0);
  const [status, setStatus] = useState(doc.status ?? 'open');
  const statuses = STATUSES.includes(status) ? STATUSES : [status, ...STATUSES];
  return (
    <form
      className="edit-form"
      data-testid="edit-form"
      onSubmit={(e) => { e.preventDefault(); onSave({ title, qty: Number(qty), status }); }}
    >
      <label>Title<input value={title} onChange={(e) => setTitle(e.target.value)} data-testid="edit-title" /></label>
      <label>Quantity<input type="number" value={qty} onChange={(e) => setQty(e.target.value)} data-testid="edit-qty" /></label>
      <label>Status
        <select value={status} onChange={(e) => setStatus(e.target.value)} data-testid="edit-status">
          {statuses.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </label>
      <div className="actions">
        <button type="submit" className="primary" disabled={pending} data-testid="edit-save">Save</button>
        <button type="button" className="ghost" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}
