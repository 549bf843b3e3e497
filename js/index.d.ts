import type { QueryClient, QueryKey } from '@tanstack/query-core'

/**
 * Which queries an invalidation refetches, as in TanStack's `invalidateQueries`.
 * @example
 * const rule: Rule = { table: 'audit_log', invalidate: [{ queryKey: ['audit'], refetchType: 'none' }] }
 */
export type RefetchType = 'active' | 'inactive' | 'all' | 'none'

/** A value inside a {@link KeyTemplate}: JSON, where `"{col}"` strings are placeholders. */
export type KeyTemplateValue =
  | string
  | number
  | boolean
  | null
  | readonly KeyTemplateValue[]
  | { readonly [key: string]: KeyTemplateValue }

/**
 * A query key with placeholders, filled from the changed row. A string element that is exactly
 * `"{col}"` becomes the row's value of `col` with its JSON type kept; `{col}` inside a longer string
 * is replaced by the value's text; objects are templated the same way, recursively. A key whose
 * placeholder has no value (missing or null) is skipped whole.
 * @example
 * const byFactory: KeyTemplate = ['list', 'work_orders', '{factory_id}']
 * const byLabel: KeyTemplate = ['label', 'wo-{id}', { factory: '{factory_id}' }]
 */
export type KeyTemplate = readonly KeyTemplateValue[]

/** A row event kind a {@link Rule} can be limited to. */
export type RowEvent = 'INSERT' | 'UPDATE' | 'DELETE'

/**
 * One entry of a rule's `invalidate` list: a key template alone (a prefix match refetching active
 * queries) or with TanStack's `exact` and `refetchType`.
 * @example
 * const target: RuleTarget = { queryKey: ['stats', '{factory_id}'], exact: true, refetchType: 'all' }
 */
export type RuleTarget =
  | KeyTemplate
  | { queryKey: KeyTemplate; exact?: boolean; refetchType?: RefetchType }

/**
 * Routes a table's row events to query keys. Every rule whose table and event match applies; an
 * event no rule matches falls back to the doc/list policy (`['doc', type, id]`,
 * `['list', type, factoryId, { page: 1 }]`).
 * @example
 * const rule: Rule = {
 *   table: 'work_order_lines',
 *   events: ['INSERT', 'DELETE'],
 *   invalidate: [['doc', 'work_orders', '{work_order_id}'], { queryKey: ['lines'], refetchType: 'all' }],
 * }
 */
export interface Rule {
  /** A row's table, an event's `type`, an envelope's `entity`. */
  table: string
  /** Default: all three. */
  events?: readonly RowEvent[]
  invalidate: readonly RuleTarget[]
}

/**
 * Bad input reported through `onError` (never thrown), and transport failures such as
 * `unauthorized` / `forbidden` close codes.
 * @example
 * const onError = (e: RealtimeError) => console.warn(`[${e.source}] ${e.code}: ${e.message}`)
 */
export interface RealtimeError {
  /**
   * Machine-readable class: bad input (`'bad_json'`, `'not_object'`, `'missing_id'`, `'too_large'`, …),
   * a refused connection (`'unauthorized'`, `'forbidden'`), a connector's trouble; every code is in
   * docs/API.md ("Error codes").
   */
  code: string
  message: string
  /** The ingest source (`'supabase'`, `'envelope'`, …) or the transport that failed. */
  source: string
}

/**
 * A field the engine drops events for when its value differs: `{ factoryId: 'f1' }` matches a
 * payload's `factoryId` or `factory_id`.
 * @example
 * const scope: Scope = { factoryId: 'f1' }
 */
export type Scope = Record<string, string | number | boolean | null>

/**
 * Options of {@link createRealtime}. All but `queryClient` are optional.
 * @example
 * const options: RealtimeOptions = {
 *   queryClient,
 *   debounceMs: 300,
 *   maxWaitMs: 1000,
 *   scope: { factoryId: 'f1' },
 *   rules: [{ table: 'work_order_lines', invalidate: [['doc', 'work_orders', '{work_order_id}']] }],
 *   primaryKey: ['id', 'uuid', 'code'],
 *   patch: true,
 *   onError: (e) => console.warn(e.code, e.message),
 * }
 */
export interface RealtimeOptions {
  /** The @tanstack/query-core or @tanstack/react-query v5 client whose cache is kept fresh. */
  queryClient: QueryClient
  /** Trailing window that restarts on each event. Default 300; 0 flushes on the next macrotask. */
  debounceMs?: number
  /** No pending operation waits longer than this, even under a continuous burst. Default 1000. */
  maxWaitMs?: number
  /** Events carrying another value for one of these fields are dropped. Default: none. */
  scope?: Scope
  /** Table-to-key routes tried before the doc/list policy. Default: none. */
  rules?: readonly Rule[]
  /** Row columns tried, in order, for a row's id. Default `['id', 'uuid', 'code']`. */
  primaryKey?: readonly string[]
  /** Patch cached docs with `setQueryData` instead of refetching them. Default true. */
  patch?: boolean
  /** Realtime on or off; when off, active views are polled. Default true. */
  enabled?: boolean
  /**
   * Polling interval while the page is visible (15 s while hidden, ±1 s jitter): when realtime is
   * off, given up on, or down (the first poll this long after a drop, status still `reconnecting`).
   * Clamped to 1000..60000. Default 5000.
   */
  pollingMs?: number
  /** Receives bad input and transport failures; `ingest` never throws. */
  onError?: (error: RealtimeError) => void
  /**
   * One connection per browser: the tabs of an origin elect one leader (Web Locks) that alone holds
   * the `connectWebSocket` / `connectEventSource` / `connectSupabase` / `connectCentrifuge`
   * connection and hands every event to the other tabs (BroadcastChannel); each tab keeps its own
   * QueryClient, views, scope, rules and window. With `connectCentrifuge` querywire connects the
   * leader tab's client itself: do not call `centrifuge.connect()`. `true` or `{ name }` (tabs
   * with another `name` never share). Default off. Where Web Locks or BroadcastChannel are missing
   * (Node, SSR, old browsers) each engine connects on its own.
   * @example
   * const rt = await createRealtime({ queryClient, shareConnection: { name: 'orders-app' } })
   */
  shareConnection?: boolean | ShareConnectionOptions
}

/**
 * The object form of {@link RealtimeOptions.shareConnection}.
 * @example
 * const share: ShareConnectionOptions = { name: 'orders-app', hiddenHandoverMs: 30_000 }
 */
export interface ShareConnectionOptions {
  /** Keeps apps on one origin apart: only engines with the same name share. Default `'default'`. */
  name?: string
  /** A leader hidden this long hands the connection to a visible tab (its timers are throttled). Default 30000. */
  hiddenHandoverMs?: number
}

/**
 * This tab's part in a shared connection: `'off'` when `shareConnection` is off or unsupported here.
 * @example
 * const lead = (r: ShareRole) => r === 'leader'
 */
export type ShareRole = 'leader' | 'follower' | 'off'

/**
 * Cumulative counts since the engine was created.
 * @example
 * const { flushes, dropped } = rt.stats()
 * console.log(flushes, dropped.duplicate)
 */
export interface Stats {
  /** Payloads handed to `ingest`, valid or not. */
  received: number
  flushes: number
  /** Query keys invalidated on the QueryClient, after dedupe and prefix subsumption. */
  invalidations: number
  /** Cached docs patched with `setQueryData`. */
  patches: number
  dropped: {
    invalid: number
    stale: number
    duplicate: number
    outOfScope: number
  }
}

/**
 * What a screen shows: a doc view opens `doc:<type>:<id>`, a list view `list:<type>:<factoryId>`,
 * and either one `factory:<factoryId>`.
 * @example
 * const doc: View = { kind: 'doc', type: 'work_orders', id: 12 }
 * const list: View = { kind: 'list', type: 'work_orders' }
 */
export type View<T extends string = string> =
  | { kind: 'doc'; type: T; id: string | number }
  | { kind: 'list'; type: T }

/**
 * A document's query key: `['doc', type, String(id)]`, what the doc/list policy patches and
 * invalidates and what a doc view refreshes.
 * @example
 * type Doc = 'work_orders' | 'invoices'
 * const key: DocKey<Doc> = docKey('invoices', 7) // readonly ['doc', 'invoices', string]
 */
export type DocKey<T extends string = string> = readonly ['doc', T, string]

/**
 * A list page's query key: `['list', type, String(factoryId), { page }]`; the policy invalidates page 1.
 * @example
 * const key: ListKey<'work_orders'> = listKey('work_orders', 'f1', 2)
 */
export type ListKey<T extends string = string> = readonly ['list', T, string, { readonly page: number }]

/**
 * Every page of one factory's list: `['list', type, String(factoryId)]`, what a list view refreshes.
 * @example
 * queryClient.invalidateQueries({ queryKey: listPrefix('work_orders', 'f1') })
 */
export type ListPrefix<T extends string = string> = readonly ['list', T, string]

/**
 * `['doc', type, String(id)]`. Use it for every doc query: a numeric id and its string then name the
 * same query, the one the policy and the view `{ kind: 'doc', type, id }` refresh. The `type`
 * parameter keeps an app's own union of type names.
 * @example
 * useQuery({ queryKey: docKey('work_orders', id), queryFn: () => fetchWorkOrder(id) })
 */
export function docKey<const T extends string>(type: T, id: string | number): DocKey<T>

/**
 * `['list', type, String(factoryId), { page }]`, `page` defaulting to 1 (the list head the policy
 * invalidates on a create or a delete).
 * @example
 * useQuery({ queryKey: listKey('work_orders', factoryId, page), queryFn: () => fetchPage(page) })
 */
export function listKey<const T extends string>(type: T, factoryId: string | number, page?: number): ListKey<T>

/**
 * `['list', type, String(factoryId)]`: a prefix of every {@link listKey} of that list.
 * @example
 * queryClient.invalidateQueries({ queryKey: listPrefix('work_orders', 'f1') })
 */
export function listPrefix<const T extends string>(type: T, factoryId: string | number): ListPrefix<T>

/**
 * Connection state. `disconnected` before a connect and after the app disconnects, `reconnecting`
 * after an established connection drops, `polling` while realtime is off or given up on, `error`
 * after a final close (it stays until the app acts). While `connecting`, `reconnecting` or `polling`
 * the active views are polled (5 s ± 1 s after the drop, then every 5 s visible / 15 s hidden); the
 * return refetches each view once and stops the polls.
 * @example
 * const live = (s: Status) => s === 'connected'
 */
export type Status = 'connecting' | 'connected' | 'reconnecting' | 'disconnected' | 'polling' | 'error'

/** A row as a change event carries it. */
export type Row = Record<string, unknown>

/**
 * What supabase-js v2 hands a `.on('postgres_changes', …)` callback.
 * @example
 * channel.on('postgres_changes', { event: '*', schema: 'public' }, (p) => rt.ingest('supabase', p))
 */
export interface SupabaseChangePayload {
  schema: string
  table: string
  commit_timestamp: string
  eventType: RowEvent
  new: Row
  old: Row
  errors?: unknown
}

/**
 * A Supabase broadcast message whose `payload` is an `'event'` payload.
 * @example
 * channel.on('broadcast', { event: 'change' }, (m) => rt.ingest('supabase', m))
 */
export interface SupabaseBroadcastPayload {
  type: 'broadcast'
  event: string
  payload: EventPayload
}

/**
 * An application change event.
 * @example
 * rt.ingest('event', { type: 'work_orders', id: 12, action: 'approve', changedKeys: ['status'], version: 4, data: { status: 'approved' } })
 */
export interface EventPayload {
  type: string
  id: string | number
  factoryId?: string | number
  action: 'create' | 'update' | 'delete' | 'approve' | 'reject'
  changedKeys?: readonly string[]
  version?: number
  ts?: string | number
  /** The changed values. */
  data?: Row
}

/**
 * A change envelope: `entity` is the table, `data` the row, `id` a unique event id (deduped).
 * @example
 * rt.ingest('envelope', { type: 'realtime', entity: 'work_orders', action: 'update', data: row, timestamp: new Date().toISOString(), id: 'chg-41' })
 */
export interface EnvelopePayload {
  type: string
  entity: string
  action: 'insert' | 'update' | 'delete'
  data: Row
  timestamp: string
  id: string
}

/**
 * An explicit invalidation, as TanStack's `invalidateQueries` filters.
 * @example
 * rt.ingest('invalidate', { queryKey: ['list', 'work_orders'], refetchType: 'all' })
 */
export interface InvalidatePayload {
  queryKey: QueryKey
  exact?: boolean
  refetchType?: RefetchType
}

/**
 * A centrifuge-js publication context; `offset` dedupes per channel.
 * @example
 * sub.on('publication', (ctx) => rt.ingest('centrifugo', ctx))
 */
export interface CentrifugoPublication {
  channel: string
  data:
    | { event: 'invalidate'; queryKey: QueryKey }
    | SupabaseChangePayload
    | EventPayload
    | EnvelopePayload
    | InvalidatePayload
  offset?: number
}

/**
 * The payload shape each ingest source takes.
 * @example
 * const p: IngestPayloads['invalidate'] = { queryKey: ['doc', 'work_orders', '1'], exact: true }
 */
export interface IngestPayloads {
  supabase: SupabaseChangePayload | SupabaseBroadcastPayload
  event: EventPayload
  envelope: EnvelopePayload
  centrifugo: CentrifugoPublication
  invalidate: InvalidatePayload
}

/** An ingest source name. */
export type Source = keyof IngestPayloads

/**
 * Reconnect policy: exponential backoff with full jitter (the views are polled meanwhile), then
 * status `polling`.
 * @example
 * const backoff: BackoffOptions = { initialMs: 500, maxMs: 5_000, maxAttempts: 5 }
 */
export interface BackoffOptions {
  /** Upper bound of the first retry delay. Default 1000. */
  initialMs?: number
  /**
   * Cap of every retry delay; after giving up the transport is retried every 0.9-1 × maxMs, so a
   * server that is back is reached within maxMs. Default 10000.
   */
  maxMs?: number
  /** Consecutive failed attempts before the status turns `polling`. Default 10. */
  maxAttempts?: number
}

/**
 * Liveness check: no answer within `timeoutMs` of a ping means reconnect.
 * @example
 * const heartbeat: HeartbeatOptions = { intervalMs: 15_000, timeoutMs: 5_000 }
 */
export interface HeartbeatOptions {
  /** Default 30000. */
  intervalMs?: number
  /** Default 10000. */
  timeoutMs?: number
}

/**
 * Options of `connectWebSocket` and `connectEventSource`.
 * @example
 * const opts: ConnectOptions = { token: () => getAccessToken(), backoff: { maxAttempts: 5 } }
 */
export interface ConnectOptions {
  /** Called on every connect; sent as `{ type: 'auth', token }` (WebSocket) or `?token=` (SSE). */
  token?: () => string | Promise<string>
  backoff?: BackoffOptions
  heartbeat?: HeartbeatOptions
}

/**
 * Options of `connectSupabase`.
 * @example
 * const opts: SupabaseConnectOptions = { schema: 'public', tables: ['work_orders'], filter: 'factory_id=eq.f1' }
 */
export interface SupabaseConnectOptions {
  /** Default `'public'`. */
  schema?: string
  /**
   * Tables to listen to: one `postgres_changes` binding per table on every channel. Default: one
   * binding on the whole schema (every change of the schema on every channel).
   */
  tables?: readonly string[]
  /**
   * A realtime filter such as `factory_id=eq.f1` for every binding, or a function of the channel
   * name (and the binding's table) whose answer is used as is (`undefined` = no filter).
   * Default, when `tables` is given: `doc:<table>:<id>` → `id=eq.<id>` on that table's binding,
   * `list:<table>:<factoryId>` and `factory:<factoryId>` → `factory_id=eq.<factoryId>`.
   */
  filter?: string | ((channelName: string, table: string | undefined) => string | undefined | null)
}

/**
 * The part of a supabase-js v2 client that querywire uses.
 * @example
 * const supabase: SupabaseClientLike = createClient(url, anonKey)
 */
export interface SupabaseClientLike {
  channel(name: string, opts?: any): any
  removeChannel(channel: any): any
  realtime: { setAuth(token?: string | null): unknown }
  auth?: { onAuthStateChange(callback: (event: any, session: any) => void): any }
}

/**
 * The part of a centrifuge-js v5 `Centrifuge` client that querywire uses.
 * @example
 * const centrifuge: CentrifugeLike = new Centrifuge('ws://localhost:8000/connection/websocket')
 */
export interface CentrifugeLike {
  newSubscription(channel: string, options?: any): any
  getSubscription(channel: string): any
  removeSubscription(subscription: any): void
  /** Called by querywire with `shareConnection`: in the leader tab only. */
  connect?(): void
  /** Called by querywire with `shareConnection`: in the other tabs, and when the leader stops leading. */
  disconnect?(): void
}

/**
 * Options of `connectCentrifuge`.
 * @example
 * const opts: CentrifugeConnectOptions = { recoverable: true }
 */
export interface CentrifugeConnectOptions {
  /** Passed to `newSubscription`: recover missed publications from the channel's history. */
  recoverable?: boolean
  /** Passed to `newSubscription`. */
  positioned?: boolean
  /** More `newSubscription` options (e.g. `getToken`), or a function of the channel name returning them. */
  subscription?: Record<string, unknown> | ((channelName: string) => Record<string, unknown>)
}

/**
 * A running engine, returned by {@link createRealtime}.
 * @example
 * const rt = await createRealtime({ queryClient })
 * const off = rt.subscribe({ kind: 'doc', type: 'work_orders', id: 12 })
 * rt.ingest('invalidate', { queryKey: ['doc', 'work_orders', '12'] })
 * off()
 * rt.dispose()
 */
export interface Realtime {
  /**
   * Feeds one payload. Never throws: malformed input goes to `onError` and
   * `stats().dropped.invalid`.
   * @example
   * rt.ingest('envelope', JSON.parse(message.data))
   */
  ingest<S extends Source>(source: S, payload: IngestPayloads[S]): void
  /**
   * Feeds one payload as JSON text (what a WebSocket, SSE or Centrifugo message already is), so
   * an app that owns its socket never parses a payload into objects just for it to be read again.
   * The text is scanned once; only the columns routing reads are decoded. Never throws: text that
   * is not JSON is `bad_json` in `onError` and `stats().dropped.invalid`.
   * @example
   * socket.onmessage = (m) => rt.ingestText('envelope', m.data)
   */
  ingestText(source: Source, text: string): void
  /**
   * Applies every pending operation now.
   * @example
   * rt.flush()
   */
  flush(): void
  /**
   * Flushes, then stops timers, transports and listeners.
   * @example
   * window.addEventListener('pagehide', () => rt.dispose())
   */
  dispose(): void
  /**
   * Cumulative counts.
   * @example
   * console.log(rt.stats().dropped.invalid)
   */
  stats(): Stats
  /**
   * Opens a view's channels (reference counted); returns its unsubscribe function, which is
   * idempotent.
   * @example
   * const off = rt.subscribe({ kind: 'list', type: 'work_orders' })
   * off()
   */
  subscribe(view: View): () => void
  /**
   * Moves open views to the new scope's channels; events from other scopes are dropped.
   * @example
   * rt.setScope({ factoryId: 'f2' })
   */
  setScope(scope: Scope): void
  /**
   * Opens and closes supabase-js channels as views come and go, and follows `setAuth` on token
   * refresh. Returns a function that disconnects.
   * @example
   * const stop = rt.connectSupabase(supabase, { schema: 'public', tables: ['work_orders'] })
   */
  connectSupabase(supabase: SupabaseClientLike, opts?: SupabaseConnectOptions): () => void
  /**
   * Connects querywire's wire protocol (docs/PROTOCOL.md) over WebSocket, with backoff, heartbeat and recovery.
   * Returns a function that disconnects.
   * @example
   * const stop = rt.connectWebSocket('wss://api.example.com/ws', { token: () => session.token })
   */
  connectWebSocket(url: string, opts?: ConnectOptions): () => void
  /**
   * Connects querywire's wire protocol (docs/PROTOCOL.md) over Server-Sent Events. Returns a function that
   * disconnects.
   * @example
   * const stop = rt.connectEventSource('/sse', { token: async () => (await refresh()).token })
   */
  connectEventSource(url: string, opts?: ConnectOptions): () => void
  /**
   * Subscribes a centrifuge-js client to the views' channels. Returns a function that disconnects.
   * Publications are deduped by `offset`; a subscription that comes back `recovered: true` refetches
   * nothing, `recovered: false` or a new stream epoch refetches its views once. A final disconnect
   * (e.g. 3500 invalid token) is status `'error'` and `onError({ code: 'unauthorized', … })`. Tokens
   * stay with the client's own `getToken`. Without `shareConnection` the app calls
   * `centrifuge.connect()`; with it, querywire connects the leader tab's client only (the others stay
   * disconnected and get its publications and status), and a new leader subscribes from the last
   * stream position any tab saw (`since`), so Centrifugo replays what the handover missed.
   * @example
   * const centrifuge = new Centrifuge(url, { getToken })
   * const stop = rt.connectCentrifuge(centrifuge)
   * centrifuge.connect() // without shareConnection only
   */
  connectCentrifuge(centrifuge: CentrifugeLike, opts?: CentrifugeConnectOptions): () => void
  /**
   * The current connection state.
   * @example
   * if (rt.status() === 'polling') showBanner()
   */
  status(): Status
  /**
   * Calls `listener` on every status change; returns a function that stops it.
   * @example
   * const off = rt.onStatus((s) => console.log('realtime', s))
   */
  onStatus(listener: (status: Status) => void): () => void
  /**
   * With `shareConnection`: whether this tab holds the shared connection (`'leader'`) or receives
   * from the tab that does (`'follower'`); `'off'` without sharing.
   * @example
   * const badge = rt.shareRole() === 'leader' ? 'this tab holds the connection' : 'shared'
   */
  shareRole(): ShareRole
  /**
   * Observes the engine (what `querywire/devtools` draws): `listener` first gets a `start` record
   * with the state now, then every input, plan, status change and error as it happens, until the
   * returned function is called. Nothing is recorded while no listener is attached. The records
   * of a session are a {@link Trace}'s `records`.
   * @example
   * const records: TraceRecord[] = []
   * const stop = rt.inspect((r) => records.push(r))
   * // … later: a bug report
   * const trace: Trace = { version: 1, options: (records[0] as TraceStart).options, records }
   * stop()
   */
  inspect(listener: (record: TraceRecord) => void): () => void
  /**
   * Attaches a client the app owns that subscribes per channel (how `connectSupabase` and
   * `connectCentrifuge` are built; docs/CONNECTORS.md). The engine decides which channels to open
   * and close, when to reopen one, when a channel that came back refetches its views, and the
   * status; the connector holds the handles and reports facts through the returned port. One
   * connector at a time: attaching another detaches the previous one.
   * @example
   * const port = rt.attachConnector({
   *   source: 'event',
   *   open: ({ name }) => { client.join(name, (msg) => port.ingest(msg)); client.onJoined(name, () => port.joined(name)) },
   *   close: (name) => client.leave(name).then(() => port.left(name)),
   * })
   * port.client('connected')
   */
  attachConnector(connector: Connector): ConnectorPort
}

/** A channel the engine asks a connector to open. */
export interface ConnectorChannel {
  /** The channel name: `doc:<type>:<id>`, `list:<type>:<factoryId>`, `factory:<factoryId>`. */
  name: string
  /** One table subscription each (supabase-js `postgres_changes`): `table` absent = the whole schema. */
  bindings: Array<{ table?: string; filter?: string }>
  /**
   * With `shareConnection`, after a handover: the stream position another tab's client had reached
   * on this channel; subscribe from it (centrifuge-js `since`). Absent: subscribe from now.
   */
  since?: { offset: number; epoch: string }
}

/** What a connector implements (docs/CONNECTORS.md). */
export interface Connector {
  /** The `source` its payloads are ingested as, and the `source` of the errors it reports. */
  source?: Source
  /** Tables for `bindings` (one each); absent = one whole-schema binding. */
  tables?: string[]
  /** A filter used as is on every binding instead of the default filters. */
  filter?: string
  /**
   * `true`: with `shareConnection`, only the leader tab's connector is told to open channels
   * (every tab's), and what it passes to `port.ingest(payload, channel)` reaches every tab
   * (`connectSupabase` and `connectCentrifuge` set it). Absent: each tab's connector opens its own
   * tab's channels.
   */
  share?: boolean
  /**
   * With `share: true`, for a client with a connection of its own (centrifuge-js): the engine
   * connects it (`true`) in the leader tab only and disconnects it (`false`) in the others.
   */
  connection?(up: boolean): void
  /** Open this channel; report `joined` (or `down`, `closed`, `refused`) as the client says. */
  open(channel: ConnectorChannel): void
  /** Release this channel's handle; call `port.left(name)` once it is gone. */
  close(name: string): void
  /** Called once when detached (after `close` for each channel): release what is left, remove listeners. */
  stop?(): void
}

/** The facts a connector reports; each is applied at once, none throws, any may be called from inside a callback. */
export interface ConnectorPort {
  /**
   * Subscribed. `replay`: `'replayed'` when the server resent what the channel missed (no refetch),
   * `'lost'` when it could not. `position`: the stream position it joined at (centrifuge-js
   * `streamPosition`), kept by every tab for a handover's `since`.
   */
  joined(name: string, replay?: 'replayed' | 'lost', position?: { offset: number; epoch: string }): void
  /** Down; the client rejoins it by itself. */
  down(name: string): void
  /** Closed by the server; the client will not rejoin it (the engine reopens it 1 s later). */
  closed(name: string): void
  /** The handle `close(name)` released is gone. */
  left(name: string): void
  /** Cannot be opened (after reporting why with `error`); not retried. */
  refused(name: string): void
  /** The client's own connection state, for a client that has one. */
  client(state: 'connecting' | 'connected' | 'disconnected' | 'signedOut' | 'signedIn' | 'failed'): void
  /**
   * A payload the client delivered, ingested under the connector's `source`. `channel`: the
   * channel it came on (needed for `share: true`: each tab applies only its own channels' payloads);
   * `seq`: its offset in that channel's stream (a Centrifugo publication's), kept for `since`.
   */
  ingest(payload: unknown, channel?: string, seq?: number): void
  /** Reports `{ code, message, source }` to `onError`. */
  error(code: string, message: string): void
  /** Closes every channel through `close`, then `stop()`; idempotent. The connectors' disconnect function. */
  detach(): void
  readonly detached: boolean
}

/** A flush plan as the engine hands it to the QueryClient (docs/API.md "Flush plans"). */
export interface FlushPlan {
  invalidate: { queryKey: unknown[]; queryHash: string; exact: boolean; refetchType: RefetchType }[]
  patch: { queryKey: unknown[]; queryHash: string; fields: Record<string, unknown>; version: number | null }[]
  refetch: { queryKey: unknown[]; queryHash: string; exact: boolean }[]
}

/**
 * The first record an inspector gets: the engine's options (functions left out), open views,
 * channels, status and stats at that time.
 * @example
 * rt.inspect((r) => { if (r.kind === 'start') console.log(r.channels) })
 */
export interface TraceStart {
  kind: 'start'
  t: number
  options: Omit<RealtimeOptions, 'queryClient' | 'onError'>
  views: { handle: number; view: View }[]
  channels: string[]
  status: Status
  stats: Stats
  visible: boolean
  /** Pending mutations that hold keys (optimistic updates): their ids and key prefixes (`hashKey`s, one per line). */
  mutations: { id: number; keys: string }[]
}

/**
 * One observation, `t` being `Date.now()` when it happened. `ingest`: a payload (as JSON text);
 * `frame`: a frame of querywire's own WebSocket / SSE; `plan`: a flush as applied, with the
 * counts applied, the queries whose fetch it started, and `stats()` after it.
 * @example
 * const show = (r: TraceRecord) => r.kind === 'plan' ? `${r.refetched.length} refetches` : r.kind
 */
export type TraceRecord =
  | TraceStart
  | { kind: 'ingest'; t: number; source: string; text: string }
  | { kind: 'frame'; t: number; text: string }
  | { kind: 'subscribe'; t: number; handle: number; view: View; channels: string[] }
  | { kind: 'unsubscribe'; t: number; handle: number; channels: string[] }
  | { kind: 'scope'; t: number; scope: Scope; channels: string[] }
  | { kind: 'flush'; t: number }
  | { kind: 'dispose'; t: number }
  | { kind: 'mutation'; t: number; id: number; keys: string }
  | { kind: 'settled'; t: number; id: number }
  | { kind: 'visible'; t: number; visible: boolean }
  | { kind: 'plan'; t: number; plan: FlushPlan; applied: { invalidations: number; patches: number }; refetched: string[]; stats: Stats }
  | { kind: 'status'; t: number; status: Status }
  | { kind: 'error'; t: number; error: RealtimeError }

/**
 * A recorded session: what the devtools export and `replayTrace` reads.
 * @example
 * const trace: Trace = JSON.parse(await file.text())
 */
export interface Trace {
  version: 1
  options: Omit<RealtimeOptions, 'queryClient' | 'onError'>
  records: TraceRecord[]
}

/**
 * Creates an engine bound to `options.queryClient`. Loads the WebAssembly module once; works in
 * browsers, bundlers and Node 20+.
 * @example
 * import { QueryClient } from '@tanstack/query-core'
 * import { createRealtime } from 'querywire'
 *
 * const queryClient = new QueryClient()
 * const rt = await createRealtime({ queryClient, scope: { factoryId: 'f1' } })
 * rt.connectWebSocket('wss://api.example.com/ws')
 */
export function createRealtime(options: RealtimeOptions): Promise<Realtime>
