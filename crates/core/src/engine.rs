//! The cache engine: payloads and the time in, flush plans out. It owns the window, the guards and
//! the routing; it owns no timer, no socket and no JS value (see the crate doc for the run loop).

use crate::adapt::{
    self,
    fields::{diff_rows, snake_case, In},
    Scratch, Source, Wants,
};
use crate::config::{parse_scope_text, Config};
use crate::error::{Error, ErrorCode};
use crate::event::{Action, Columns, Event, RefetchType, Row, RowEvent};
use crate::guard::{IdMemory, Verdict, VersionMemory};
use crate::hold::{Holds, MutationId};
use crate::key::{number_text, tape_text, write_string, write_string_body, write_tape};
use crate::pending::Pending;
use crate::plan::FlushPlan;
use crate::rules::RoutedKeys;
use crate::scan::{bytes_eq, push_uint, Kind, Tape};
use crate::stats::Stats;
use crate::tables::{Table, Tables};
use crate::Millis;
#[cfg(feature = "serde_json")]
use serde_json::Value;
use std::collections::VecDeque;

/// Payloads larger than this are refused (CONTRACT "Feeding events").
pub const MAX_PAYLOAD_BYTES: usize = 1 << 20;

/// What became of a payload that crossed as the object path's slots ([`Engine::handle_slots`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slotted {
    /// Read and routed.
    Read(Ingested),
    /// Not read: send the whole payload as text (its errors are the text path's).
    Text,
    /// Not read: written under the needs of another epoch (`setScope` changed what is read). Read
    /// the needs again (`columns()`) and send the whole payload as text.
    Stale,
    /// Not read: an UPDATE whose changed columns are diffed from its whole rows. Send
    /// `{table, eventType, new, old}` as text (`slots.rs`).
    Rows,
}

/// What happened to one accepted-or-dropped event; returned for tests and traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingested {
    /// Routed to at least one operation.
    Queued,
    /// Valid, but no rule key could be built (a placeholder had no value).
    NoOp,
    Stale,
    Duplicate,
    OutOfScope,
}

/// The engine: what a payload is read into ([`Input`]) and what routing changes ([`State`]),
/// kept apart so an event can borrow the first while the second is updated.
#[derive(Debug)]
pub struct Engine {
    st: State,
    input: Input,
    /// Bumped when the options change what is read from rows (`columns.rs`, the object path).
    pub(crate) columns_epoch: u32,
    /// The needs of that epoch, compiled on the object path's first payload (`slots.rs`).
    needs: Option<crate::columns::Columns>,
}

/// The scanner's reusable tape, the buffers the event being routed borrows, and the columns its
/// row is indexed by (compiled from the rules, primary key and scope).
#[derive(Debug, Default)]
struct Input {
    tape: Tape,
    scratch: Scratch,
    columns: Columns,
}

/// A scope field: its name and snake_case form with their [`Columns`] slots, and the text of the
/// wanted value.
#[derive(Debug)]
struct ScopeField {
    name: (usize, String),
    snake: (usize, String),
    want: String,
    /// `factoryId`: the event's own `factory_id` node is judged too.
    factory: bool,
}

#[derive(Debug)]
struct State {
    config: Config,
    scope: Vec<ScopeField>,
    /// `hashKey` of the scope's `factoryId`, for list heads of events that carry none.
    scope_factory: Option<String>,
    pending: Pending,
    /// When the first pending operation arrived (for `maxWaitMs`) and the trailing deadline.
    window: Option<Window>,
    ids: IdMemory,
    versions: VersionMemory,
    /// The tables events name, with their key texts and rules (`tables.rs`).
    tables: Tables,
    plans: VecDeque<FlushPlan>,
    /// A plan given back after it was applied ([`Engine::recycle_plan`]): the next flush fills it,
    /// so a steady stream's flushes allocate nothing either.
    spare: Option<FlushPlan>,
    stats: Stats,
    visible: bool,
    /// Keys built for the event being routed.
    keys: RoutedKeys,
    /// Pending mutations' keys (optimistic updates, crate::hold), and whether ops wait for them.
    holds: Holds,
    held: bool,
    /// The changed fields of the event being routed, when they come from a diff of its rows.
    diff: Vec<(u32, u32)>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    opened: Millis,
    deadline: Millis,
}

impl Engine {
    pub fn new(config: Config) -> Engine {
        let mut st = State {
            config,
            scope: Vec::new(),
            scope_factory: None,
            pending: Pending::default(),
            window: None,
            ids: IdMemory::default(),
            versions: VersionMemory::default(),
            tables: Tables::default(),
            plans: VecDeque::new(),
            spare: None,
            stats: Stats::default(),
            visible: true,
            keys: RoutedKeys::default(),
            holds: Holds::default(),
            held: false,
            diff: Vec::new(),
        };
        let mut input = Input::default();
        st.compile_scope(&mut input.columns);
        Engine { st, input, columns_epoch: 0, needs: None }
    }

    /// Builds an engine from the `createRealtime` options object.
    #[cfg(feature = "serde_json")]
    /// Kept for callers holding a `Value` (tests, `src/replay.rs`), written as text with
    /// `key::value_json`; the shipped path is [`Engine::from_options_text`].
    pub fn from_options(opts: &Value) -> Result<Engine, Error> {
        Ok(Engine::new(Config::from_json(opts)?))
    }

    /// Builds an engine from the options' JSON text.
    pub fn from_options_text(text: &str) -> Result<Engine, Error> {
        Ok(Engine::new(Config::from_text(text)?))
    }

    pub fn config(&self) -> &Config {
        &self.st.config
    }

    // ---- inputs -------------------------------------------------------------------------------

    /// One payload as JSON text (a WebSocket message, or an object the shim stringified).
    /// Errors are counted in `dropped.invalid` and returned for `onError`.
    pub fn handle_text(&mut self, now: Millis, source: &str, text: &str) -> Result<Ingested, Error> {
        self.st.stats.received += 1;
        let r = self.text_inner(now, source, text);
        if r.is_err() {
            self.st.stats.dropped.invalid += 1;
        }
        r
    }

    fn text_inner(&mut self, now: Millis, source: &str, text: &str) -> Result<Ingested, Error> {
        let src = Source::parse(source).ok_or_else(|| unknown_source(source))?;
        if text.len() > MAX_PAYLOAD_BYTES {
            return Err(too_large(source, text.len()));
        }
        self.input
            .tape
            .scan(text)
            .map_err(|e| Error::new(ErrorCode::BadJson, source, e.message("payload is not JSON: ")))?;
        self.route_scanned(now, src, text, 0)
    }

    /// The scanner's tape, for a caller that scans a larger text (a wire frame) and hands one of
    /// its nodes to [`Engine::handle_scanned`].
    pub(crate) fn tape_mut(&mut self) -> &mut Tape {
        &mut self.input.tape
    }

    /// The payload at node `root` of the text the tape holds (a wire frame's `payload`).
    pub(crate) fn handle_scanned(
        &mut self,
        now: Millis,
        src: Source,
        text: &str,
        root: u32,
    ) -> Result<Ingested, Error> {
        self.st.stats.received += 1;
        let r = self.route_scanned(now, src, text, root);
        if r.is_err() {
            self.st.stats.dropped.invalid += 1;
        }
        r
    }

    fn route_scanned(&mut self, now: Millis, src: Source, text: &str, root: u32) -> Result<Ingested, Error> {
        let Input { tape, scratch, columns } = &mut self.input;
        let wants = Wants { primary_key: &self.st.config.primary_key, columns };
        // Matched by reference, not `?`: at opt z, the shipped setting, `?` copied the whole event
        // out of its `Result` (~140 instructions per event; issue 10).
        let ev = adapt::adapt(src, tape, text, root, wants, scratch);
        match ev {
            Ok(ref ev) => Ok(self.st.handle_event(now, ev)),
            Err(e) => Err(e),
        }
    }

    /// A supabase-js payload as the object path's typed slots (`slots.rs`: `words`, and `text` that
    /// holds their values) written under the needs of `epoch` (`columns.rs`). Unless it was read,
    /// nothing was read or counted and the caller sends it as text ([`Slotted`]).
    pub fn handle_slots(&mut self, now: Millis, epoch: u32, words: &[u32], text: &str) -> Slotted {
        if epoch != self.columns_epoch {
            return Slotted::Stale;
        }
        if self.needs.is_none() {
            self.needs = Some(self.columns());
        }
        let Some(needs) = self.needs.as_ref() else { return Slotted::Text };
        let Input { tape, scratch, columns } = &mut self.input;
        let Some((row, whole)) =
            crate::slots::read(needs, columns, &self.st.config.primary_key, tape, &mut scratch.found, words, text)
        else {
            return Slotted::Text;
        };
        // Its changed columns are patched from both rows whole: its rows cross as text, unless the
        // scope guard drops it (which reads nothing else).
        if whole && self.st.in_scope(&row) {
            return Slotted::Rows;
        }
        self.st.stats.received += 1;
        Slotted::Read(self.st.handle_event(now, &Event::Row(row)))
    }

    /// The engine's row index (the slots of the columns routing reads), for `columns.rs`.
    pub(crate) fn row_index(&self) -> &Columns {
        &self.input.columns
    }

    #[cfg(feature = "serde_json")]
    /// One payload already parsed (the glue's object path, tests): written as JSON text and read
    /// like any other. `size` is its JSON size when known (for the 1 MiB limit).
    pub fn handle_payload(
        &mut self,
        now: Millis,
        source: &str,
        payload: Value,
        size: Option<usize>,
    ) -> Result<Ingested, Error> {
        let _ = size; // the text's own length is checked
        self.handle_text(now, source, &payload.to_string())
    }

    /// Counts a replayed frame the link recognised by its `seq`.
    pub fn record_duplicate(&mut self) {
        self.st.stats.received += 1;
        self.st.stats.dropped.duplicate += 1;
    }

    /// Counts a payload refused before it reached the engine (the shim could not serialise it).
    pub fn record_invalid(&mut self) {
        self.st.stats.received += 1;
        self.st.stats.dropped.invalid += 1;
    }

    /// Refetch the active queries under these keys with the next flush (recovery after a reconnect,
    /// polling). They go through the window like any operation, so several recoveries arriving
    /// together (one `recovered` frame per channel, a `factory:` channel covering every view)
    /// refetch each view once. Keys come as their canonical hashes (`Views::query_key`,
    /// [`crate::key::hash_key`]).
    pub fn refetch<S: AsRef<str>>(&mut self, now: Millis, keys: impl IntoIterator<Item = S>) {
        let mut any = false;
        for k in keys {
            self.st.pending.refetch(k.as_ref(), false);
            any = true;
        }
        if any {
            self.st.arm_window(now);
        }
    }

    /// Replaces the scope; later events are judged against it.
    #[cfg(feature = "serde_json")]
    pub fn set_scope(&mut self, scope: &Value) -> Result<(), Error> {
        self.set_scope_text(&crate::key::value_json(scope))
    }

    /// The columns the guards and the doc/list policy read from any row: the primary key,
    /// `version`, `factoryId` / `factory_id`, each scope field in both spellings, in that order and
    /// each once (the slots `compile_scope` gave them). The object path carries these for every
    /// table (`columns.rs`), so what it carries and what is read have one source.
    pub(crate) fn row_columns(&self) -> Vec<String> {
        let c = &self.input.columns;
        let slots = c.primary_key.iter().copied().chain([c.version, c.factory[0], c.factory[1]]);
        let slots = slots.chain(self.st.scope.iter().flat_map(|f| [f.name.0, f.snake.0]));
        let mut out: Vec<String> = Vec::new();
        for slot in slots {
            let name = c.name(slot);
            if !out.iter().any(|n| n == name) {
                out.push(name.to_string());
            }
        }
        out
    }

    /// Replaces the scope from its JSON text (`rt.setScope`).
    pub fn set_scope_text(&mut self, scope: &str) -> Result<(), Error> {
        self.st.config.scope = parse_scope_text(scope)?;
        self.st.compile_scope(&mut self.input.columns);
        self.columns_epoch = self.columns_epoch.wrapping_add(1);
        self.needs = None;
        Ok(())
    }

    /// `document.visibilityState`: turning visible flushes at once (a woken tab shows fresh data).
    pub fn set_visible(&mut self, now: Millis, visible: bool) {
        let woke = visible && !self.st.visible;
        self.st.visible = visible;
        if woke {
            self.flush(now);
        }
    }

    /// The counts the shim reports after applying a plan (patch fallbacks are decided there).
    pub fn record_applied(&mut self, invalidations: u64, patches: u64) {
        let s = &mut self.st.stats;
        s.invalidations = s.invalidations.saturating_add(invalidations);
        s.patches = s.patches.saturating_add(patches);
    }

    /// When `handle_timeout` should next be called, if anything waits.
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.st.window.map(|w| w.deadline)
    }

    /// Closes the window when its deadline has passed; early or spurious calls do nothing.
    pub fn handle_timeout(&mut self, now: Millis) {
        if self.st.window.is_some_and(|w| now >= w.deadline) {
            self.flush(now);
        }
    }

    /// Flushes whatever waits, now (`rt.flush()`, visibility, dispose).
    pub fn flush(&mut self, _now: Millis) {
        let st = &mut self.st;
        st.window = None;
        if st.pending.is_empty() {
            return;
        }
        let plan = st.pending.take_plan_into(&st.holds, st.spare.take().unwrap_or_default());
        // What stayed pending waits for a mutation to settle, not for a window.
        st.held = !st.pending.is_empty();
        if !plan.is_empty() {
            st.stats.flushes += 1;
            st.plans.push_back(plan);
        } else {
            self.recycle_plan(plan);
        }
    }

    // ---- optimistic updates (crate::hold) -----------------------------------------------------

    /// A mutation went pending; `keys` holds the `hashKey`s of the key prefixes it names (its
    /// `mutationKey` and `meta.querywire.keys`), one per line (a hash never holds a raw newline).
    /// Until it settles, operations on queries under them wait (CONTRACT "Optimistic updates").
    pub fn mutation_started(&mut self, id: MutationId, keys: &str) -> Result<(), Error> {
        // One line at a time by a byte search (a `char` pattern links `CharSearcher`; docs/SIZE.md).
        let mut rest = Some(keys);
        let lines = std::iter::from_fn(move || {
            let r = rest?;
            let (line, tail) = crate::split_byte(r, b'\n').map_or((r, None), |(l, t)| (l, Some(t)));
            rest = tail;
            Some(line)
        });
        self.st.holds.start(id, lines.filter(|k| !k.is_empty())).map_err(|_| {
            Error::new(
                ErrorCode::WrongType,
                "mutation",
                "a mutation's keys are query key hashes (JSON arrays), one per line",
            )
        })
    }

    /// A mutation settled (or was removed): when operations waited and none is held any more by the
    /// mutations still pending, they go out now, in one flush.
    pub fn mutation_settled(&mut self, now: Millis, id: MutationId) {
        if self.st.holds.settle(id) && self.st.held {
            self.flush(now);
        }
    }

    // ---- outputs ------------------------------------------------------------------------------

    /// The next plan to apply, oldest first.
    pub fn poll_plan(&mut self) -> Option<FlushPlan> {
        self.st.plans.pop_front()
    }

    /// Gives a plan back once it has been applied (or encoded): the next flush reuses its buffers.
    /// Optional; a plan dropped instead costs the next flush its allocations.
    pub fn recycle_plan(&mut self, mut plan: FlushPlan) {
        if self.st.spare.is_none() {
            plan.clear();
            self.st.spare = Some(plan);
        }
    }

    pub fn stats(&self) -> Stats {
        self.st.stats
    }

    /// Sizes of the bounded memories (for tests that check memory stays flat): event ids, row
    /// versions, pending operations.
    pub fn memory(&self) -> (usize, usize, usize) {
        (self.st.ids.len(), self.st.versions.len(), self.st.pending.len())
    }

    /// How many keys are interned (bounded by `pending::KEY_CAPACITY` plus one window's keys).
    pub fn interned_keys(&self) -> usize {
        self.st.pending.keys().len()
    }
}

impl State {
    /// The scope's fields, and the row columns routing reads (`columns`).
    fn compile_scope(&mut self, columns: &mut Columns) {
        *columns = Columns::new(self.config.rules.columns(), &self.config.primary_key);
        // A list head names the scope's factory.
        self.tables.forget_heads();
        self.scope = self
            .config
            .scope
            .iter()
            .map(|(k, v)| {
                let snake = snake_case(k);
                ScopeField {
                    name: (columns.slot(k), k.clone()),
                    snake: (columns.slot(&snake), snake),
                    want: v.clone(),
                    factory: k == "factoryId",
                }
            })
            .collect();
        // The list head names the factory as text, like views (`list:<type>:<factoryId>`, views.rs)
        // and `listKey`: a numeric factory id and its string name one list.
        self.scope_factory = self.config.scope_get("factoryId").map(|v| {
            let mut s = String::new();
            write_string(&mut s, v);
            s
        });
    }

    /// A canonical event: guards, then routing, then the window.
    fn handle_event(&mut self, now: Millis, ev: &Event<'_>) -> Ingested {
        if let Some(id) = ev.event_id() {
            if self.ids.contains(id) {
                self.stats.dropped.duplicate += 1;
                return Ingested::Duplicate;
            }
        }
        let outcome = match ev {
            Event::Invalidate(inv) => {
                self.pending.invalidate(&inv.hash, inv.exact, inv.refetch_type);
                Ingested::Queued
            }
            Event::Row(row) => self.route_row(row),
        };
        match outcome {
            Ingested::Stale => self.stats.dropped.stale += 1,
            Ingested::Duplicate => self.stats.dropped.duplicate += 1,
            Ingested::OutOfScope => self.stats.dropped.out_of_scope += 1,
            Ingested::Queued | Ingested::NoOp => {
                // Only accepted events are remembered: a dropped copy must not shadow a good one.
                if let Some(id) = ev.event_id() {
                    self.ids.insert(id);
                }
            }
        }
        if outcome == Ingested::Queued {
            self.arm_window(now);
        }
        outcome
    }

    fn route_row(&mut self, row: &RowEvent<'_>) -> Ingested {
        if !self.in_scope(row) {
            return Ingested::OutOfScope;
        }
        let at = self.tables.get(&row.ty, &self.config.rules);
        let table = self.tables.at(at);
        match self.versions.check(table, &row.id, row.version, row.action) {
            Verdict::Stale => return Ingested::Stale,
            Verdict::Duplicate => return Ingested::Duplicate,
            Verdict::Fresh => {}
        }
        self.keys.clear();
        if let Some(rules) = table.rules {
            if self.config.rules.route_at(rules, row.action, &row.row, &mut self.keys).is_some() {
                for k in &self.keys.keys {
                    self.pending.invalidate_with(self.keys.hash(k), Some(self.keys.ends(k)), k.exact, k.refetch_type);
                }
                return if self.keys.keys.is_empty() { Ingested::NoOp } else { Ingested::Queued };
            }
        }
        self.apply_policy(at, row);
        Ingested::Queued
    }

    /// The doc/list policy of seed 001 for events no rule matched (CONTRACT "Routing").
    /// `table`: the index of the row's table in `tables`.
    fn apply_policy(&mut self, table: usize, row: &RowEvent<'_>) {
        match row.action {
            Action::Update => {
                let doc = write_doc_key(&mut self.keys.text, self.tables.at(table), row);
                let (tape, text) = (row.row.tape, row.row.text);
                let fields = match (row.changed, row.diff) {
                    (Some(fields), _) => Some(fields),
                    (None, Some((new, old))) if self.config.patch => {
                        diff_rows(&In { tape, text }, new, old, &self.config.primary_key, &mut self.diff)
                            .then_some(&self.diff[..])
                    }
                    _ => None,
                };
                match fields {
                    Some(fields) if self.config.patch => {
                        let fields = fields.iter().map(|&(k, v)| (tape.str(text, k), tape.raw(text, v)));
                        self.pending.patch_with(&self.keys.text, Some(&doc), fields, row.version);
                    }
                    _ => {
                        self.pending.invalidate_with(&self.keys.text, Some(&doc), false, RefetchType::Active);
                    }
                }
            }
            Action::Create => self.invalidate_list_head(table, row),
            Action::Delete => {
                self.invalidate_list_head(table, row);
                let doc = write_doc_key(&mut self.keys.text, self.tables.at(table), row);
                self.pending.invalidate_with(&self.keys.text, Some(&doc), false, RefetchType::Active);
            }
        }
    }

    fn invalidate_list_head(&mut self, table: usize, row: &RowEvent<'_>) {
        // Under a scope with a `factoryId`, every event that reaches here names the scope's factory
        // (the scope guard dropped the others, and an event without one is listed under it), so
        // the table's head is one text: written and interned once, then invalidated by its id.
        let epoch = self.pending.key_epoch();
        if self.scope_factory.is_some() {
            if let Some((at, id)) = self.tables.at(table).head {
                if at == epoch {
                    self.pending.invalidate_id(id, false, RefetchType::Active);
                    return;
                }
            }
        }
        let buf = &mut self.keys.text;
        buf.clear();
        // `["list",<type>`, interned with the table.
        buf.push_str(&self.tables.at(table).list);
        // The key's element ends (`pending::Keys::ends`), as it is written.
        let mut ends = [0u32; 4];
        ends[0] = 7;
        ends[1] = buf.len() as u32;
        let n = match (row.factory_id, &self.scope_factory) {
            (Some(f), _) => {
                buf.push(',');
                match row.row.tape.kind(f) {
                    // As text (see `compile_scope`).
                    Kind::Number | Kind::True | Kind::False => {
                        write_string(buf, &tape_text(row.row.tape, row.row.text, f))
                    }
                    _ => write_tape(buf, row.row.tape, row.row.text, f),
                }
                4
            }
            (None, Some(f)) => {
                buf.push(',');
                buf.push_str(f);
                4
            }
            // Without a factory the head cannot be named: every list of the type is refreshed.
            (None, None) => 2,
        };
        if n == 4 {
            ends[2] = buf.len() as u32;
            buf.push_str(",{\"page\":1}");
            ends[3] = buf.len() as u32;
        }
        buf.push(']');
        let id = self.pending.invalidate_with(&self.keys.text, Some(&ends[..n]), false, RefetchType::Active);
        if self.scope_factory.is_some() {
            self.tables.at_mut(table).head = Some((epoch, id));
        }
    }

    /// Every spelling the event carries must match (CONTRACT "Scope guard": where an event carries
    /// the field in more than one accepted spelling, any one that differs drops it; issue 11): the
    /// event's `factoryId`, each spelling on every object of the row, and on the event object beside
    /// it. An event that does not say cannot be judged; it is kept.
    fn in_scope(&self, row: &RowEvent<'_>) -> bool {
        let (tape, text) = (row.row.tape, row.row.text);
        for f in &self.scope {
            // The event's `factoryId` node is judged first; when it is one of the row's members
            // (the Supabase adapter reads it from the row) it is not judged again.
            let judged = if f.factory { row.factory_id } else { None };
            if let Some(v) = judged {
                if !is_wanted(tape, text, v, &f.want) {
                    return false;
                }
            }
            let ok = |v: u32| Some(v) == judged || is_wanted(tape, text, v, &f.want);
            let (name, snake) = ((f.name.0, f.name.1.as_str()), (f.snake.0, f.snake.1.as_str()));
            if !row.row.all_spellings(name, snake, ok)
                || row.outer.is_some_and(|o| !Row::new(tape, text, Some(o), None).all_spellings(name, snake, ok))
            {
                return false;
            }
        }
        true
    }

    fn arm_window(&mut self, now: Millis) {
        let opened = self.window.map_or(now, |w| w.opened);
        let trailing = now.saturating_add(self.config.debounce_ms);
        let cap = opened.saturating_add(self.config.max_wait_ms);
        self.window = Some(Window { opened, deadline: trailing.min(cap) });
    }
}

/// Whether value `v` is the scope value whose text is `want` (a string by its text, a number by how
/// JS prints it, a boolean by its name). A string without escapes is compared inline (at opt z, the
/// shipped setting, the match over every kind was a call per event; issue 10).
#[inline(always)]
fn is_wanted(tape: &Tape, text: &str, v: u32, want: &str) -> bool {
    let n = tape.node(v);
    if n.kind == Kind::Str {
        let w = want.as_bytes();
        let s = n.start as usize + 1;
        // `match`, not `is_some_and`: at opt z that was a call per event.
        return n.end.wrapping_sub(n.start) as usize == w.len() + 2
            && match text.as_bytes().get(s..s + w.len()) {
                Some(got) => bytes_eq(got, w),
                None => false,
            };
    }
    is_wanted_rest(tape, text, v, want)
}

#[inline(never)]
fn is_wanted_rest(tape: &Tape, text: &str, v: u32, want: &str) -> bool {
    match tape.kind(v) {
        Kind::Str | Kind::StrEscaped => tape.str_eq(text, v, want),
        Kind::Number => number_text(tape, text, v) == want,
        Kind::True => want == "true",
        Kind::False => want == "false",
        _ => false,
    }
}

fn unknown_source(source: &str) -> Error {
    let mut m = String::from("unknown source '");
    m.push_str(source);
    m.push_str("': expected supabase, event, envelope, centrifugo or invalidate");
    Error::new(ErrorCode::UnknownSource, source, m)
}

fn too_large(source: &str, n: usize) -> Error {
    let mut m = String::from("payload is ");
    push_uint(&mut m, n as u64);
    m.push_str(" bytes; the limit is 1048576");
    Error::new(ErrorCode::TooLarge, source, m)
}

/// `buf` = the policy's doc key `['doc', type, String(id)]` as its canonical hash (`table`: the
/// row's, whose doc key text up to the id is interned); returns its element ends
/// (`pending::Keys::ends`).
fn write_doc_key(buf: &mut String, table: &Table, row: &RowEvent<'_>) -> [u32; 3] {
    buf.clear();
    // `["doc",<type>,"` interned, the id's text, `"]`: three writes (at opt z each `push` of a
    // quote or bracket was a call of ~40 instructions; issue 10).
    buf.push_str(&table.doc);
    let ty_end = (buf.len() as u32).saturating_sub(2);
    write_string_body(buf, &row.id);
    buf.push_str("\"]");
    [6, ty_end, buf.len() as u32 - 1]
}
