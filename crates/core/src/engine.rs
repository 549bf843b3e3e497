//! The cache engine: payloads and the time in, flush plans out. It owns the window, the guards and
//! the routing; it owns no timer, no socket and no JS value (see the crate doc for the run loop).

use crate::adapt::{self, fields::field, Source};
use crate::config::{parse_scope, Config};
use crate::error::{Error, ErrorCode};
use crate::event::{Action, Event, RefetchType, RowEvent};
use crate::guard::{IdMemory, Verdict, VersionMemory};
use crate::pending::Pending;
use crate::plan::FlushPlan;
use crate::rules::value_text;
use crate::scan::{to_value, Tape};
use crate::stats::Stats;
use crate::Millis;
use serde_json::{json, Value};
use std::collections::VecDeque;

/// Payloads larger than this are refused (CONTRACT "Feeding events").
pub const MAX_PAYLOAD_BYTES: usize = 1 << 20;

/// What became of one ingested event (queued, or dropped and why); returned for tests and traces.
/// Not to be confused with [`crate::Output`], what the [`crate::Realtime`] machine asks the glue to do.
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

#[derive(Debug)]
pub struct Engine {
    config: Config,
    pending: Pending,
    /// When the first pending operation arrived (for `maxWaitMs`) and the trailing deadline.
    window: Option<Window>,
    ids: IdMemory,
    versions: VersionMemory,
    plans: VecDeque<FlushPlan>,
    stats: Stats,
    visible: bool,
    /// The scanner's reusable tape (one payload at a time).
    tape: Tape,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    opened: Millis,
    deadline: Millis,
}

impl Engine {
    pub fn new(config: Config) -> Engine {
        Engine {
            config,
            pending: Pending::default(),
            window: None,
            ids: IdMemory::default(),
            versions: VersionMemory::default(),
            plans: VecDeque::new(),
            stats: Stats::default(),
            visible: true,
            tape: Tape::new(),
        }
    }

    /// Builds an engine from the `createRealtime` options object.
    pub fn from_options(opts: &Value) -> Result<Engine, Error> {
        Ok(Engine::new(Config::from_json(opts)?))
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    // ---- inputs -------------------------------------------------------------------------------

    /// One payload as JSON text (a WebSocket message, or an object the shim stringified).
    /// Errors are counted in `dropped.invalid` and returned for `onError`.
    pub fn handle_text(&mut self, now: Millis, source: &str, text: &str) -> Result<Ingested, Error> {
        self.stats.received += 1;
        self.text_inner(now, source, text).inspect_err(|_| self.stats.dropped.invalid += 1)
    }

    fn text_inner(&mut self, now: Millis, source: &str, text: &str) -> Result<Ingested, Error> {
        let src = Source::parse(source).ok_or_else(|| unknown_source(source))?;
        if text.len() > MAX_PAYLOAD_BYTES {
            return Err(too_large(source, text.len()));
        }
        self.tape.scan(text).map_err(|e| Error::new(ErrorCode::BadJson, source, e.message("payload is not JSON: ")))?;
        if src == Source::Supabase {
            let rules = &self.config.rules;
            let needs = adapt::supabase_fast::Needs {
                primary_key: &self.config.primary_key,
                scope: &self.config.scope,
                whole_row: &|t: &str| rules.has_table(t),
            };
            if let Some(ev) = adapt::supabase_fast::adapt(&self.tape, text, &needs) {
                return Ok(self.handle_event(now, ev));
            }
        }
        let payload = to_value(&self.tape, text, 0);
        let ev = adapt::adapt(src, payload, &self.config.primary_key)?;
        Ok(self.handle_event(now, ev))
    }

    /// One payload already parsed. `size` is its JSON size when known (for the 1 MiB limit).
    pub fn handle_payload(&mut self, now: Millis, source: &str, payload: Value, size: Option<usize>) -> Result<Ingested, Error> {
        self.stats.received += 1;
        let r = (|| {
            let src = Source::parse(source).ok_or_else(|| unknown_source(source))?;
            if let Some(n) = size.filter(|n| *n > MAX_PAYLOAD_BYTES) {
                return Err(too_large(source, n));
            }
            let ev = adapt::adapt(src, payload, &self.config.primary_key)?;
            Ok(self.handle_event(now, ev))
        })();
        r.inspect_err(|_| self.stats.dropped.invalid += 1)
    }

    /// Counts a replayed frame the link recognised by its `seq`.
    pub fn record_duplicate(&mut self) {
        self.stats.received += 1;
        self.stats.dropped.duplicate += 1;
    }

    /// Counts a payload refused before it reached the engine (the shim could not serialise it).
    pub fn record_invalid(&mut self) {
        self.stats.received += 1;
        self.stats.dropped.invalid += 1;
    }

    /// A canonical event: guards, then routing, then the window.
    pub fn handle_event(&mut self, now: Millis, ev: Event) -> Ingested {
        if let Some(id) = ev.event_id() {
            if self.ids.contains(id) {
                self.stats.dropped.duplicate += 1;
                return Ingested::Duplicate;
            }
        }
        let outcome = match &ev {
            Event::Invalidate(inv) => {
                self.pending.invalidate(inv.key.clone(), inv.exact, inv.refetch_type);
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

    fn route_row(&mut self, row: &RowEvent) -> Ingested {
        if !self.in_scope(row) {
            return Ingested::OutOfScope;
        }
        match self.versions.check(&row.ty, &row.id, row.version, row.action) {
            Verdict::Stale => return Ingested::Stale,
            Verdict::Duplicate => return Ingested::Duplicate,
            Verdict::Fresh => {}
        }
        if let Some(keys) = self.config.rules.route(&row.ty, row.action, &row.row) {
            let queued = !keys.is_empty();
            for k in keys {
                self.pending.invalidate(k.key, k.exact, k.refetch_type);
            }
            return if queued { Ingested::Queued } else { Ingested::NoOp };
        }
        self.apply_policy(row);
        Ingested::Queued
    }

    /// The doc/list policy of seed 001 for events no rule matched (CONTRACT "Routing").
    fn apply_policy(&mut self, row: &RowEvent) {
        let doc = json!(["doc", row.ty, row.id]);
        match row.action {
            Action::Update => match &row.changed {
                Some(fields) if self.config.patch => self.pending.patch(doc, fields.clone(), row.version),
                _ => self.pending.invalidate(doc, false, RefetchType::Active),
            },
            Action::Create => self.invalidate_list_head(row),
            Action::Delete => {
                self.invalidate_list_head(row);
                self.pending.invalidate(doc, false, RefetchType::Active);
            }
        }
    }

    fn invalidate_list_head(&mut self, row: &RowEvent) {
        let factory = row.factory_id.clone().or_else(|| self.config.scope.get("factoryId").cloned());
        let key = match factory {
            // As text, like views (`list:<type>:<factoryId>`, views.rs) and `listKey`: a numeric
            // factory id and its string name one list.
            Some(f) => json!(["list", row.ty, value_text(&f), {"page": 1}]),
            // Without a factory the head cannot be named: every list of the type is refreshed.
            None => json!(["list", row.ty]),
        };
        self.pending.invalidate(key, false, RefetchType::Active);
    }

    fn in_scope(&self, row: &RowEvent) -> bool {
        self.config.scope.iter().all(|(name, want)| {
            let got = if name == "factoryId" { row.factory_id.as_ref() } else { None }.or_else(|| field(&row.row, name));
            match got {
                None => true, // an event that does not say cannot be judged; it is kept
                Some(v) => v == want || (is_primitive(v) && value_text(v) == value_text(want)),
            }
        })
    }

    /// Refetch the active queries under these keys with the next flush (recovery after a reconnect,
    /// polling). They go through the window like any operation, so several recoveries arriving
    /// together (one `recovered` frame per channel, a `factory:` channel covering every view)
    /// refetch each view once.
    pub fn refetch(&mut self, now: Millis, keys: impl IntoIterator<Item = Value>) {
        let mut any = false;
        for k in keys {
            self.pending.refetch(k, false);
            any = true;
        }
        if any {
            self.arm_window(now);
        }
    }

    /// Replaces the scope; later events are judged against it.
    pub fn set_scope(&mut self, scope: &Value) -> Result<(), Error> {
        self.config.scope = parse_scope(scope)?;
        Ok(())
    }

    /// `document.visibilityState`: turning visible flushes at once (a woken tab shows fresh data).
    pub fn set_visible(&mut self, now: Millis, visible: bool) {
        let woke = visible && !self.visible;
        self.visible = visible;
        if woke {
            self.flush(now);
        }
    }

    /// The counts the shim reports after applying a plan (patch fallbacks are decided there).
    pub fn record_applied(&mut self, invalidations: u64, patches: u64) {
        self.stats.invalidations += invalidations;
        self.stats.patches += patches;
    }

    // ---- time ---------------------------------------------------------------------------------

    fn arm_window(&mut self, now: Millis) {
        let opened = self.window.map_or(now, |w| w.opened);
        let trailing = now.saturating_add(self.config.debounce_ms);
        let cap = opened.saturating_add(self.config.max_wait_ms);
        self.window = Some(Window { opened, deadline: trailing.min(cap) });
    }

    /// When `handle_timeout` should next be called, if anything waits.
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.window.map(|w| w.deadline)
    }

    /// Closes the window when its deadline has passed; early or spurious calls do nothing.
    pub fn handle_timeout(&mut self, now: Millis) {
        if self.window.is_some_and(|w| now >= w.deadline) {
            self.flush(now);
        }
    }

    /// Flushes whatever waits, now (`rt.flush()`, visibility, dispose).
    pub fn flush(&mut self, _now: Millis) {
        self.window = None;
        if self.pending.is_empty() {
            return;
        }
        let plan = self.pending.take_plan();
        if !plan.is_empty() {
            self.stats.flushes += 1;
            self.plans.push_back(plan);
        }
    }

    // ---- outputs ------------------------------------------------------------------------------

    /// The next plan to apply, oldest first.
    pub fn poll_plan(&mut self) -> Option<FlushPlan> {
        self.plans.pop_front()
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Sizes of the bounded memories (for tests that check memory stays flat).
    pub fn memory(&self) -> (usize, usize, usize) {
        (self.ids.len(), self.versions.len(), self.pending.len())
    }
}

fn is_primitive(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

fn unknown_source(source: &str) -> Error {
    Error::new(
        ErrorCode::UnknownSource,
        source,
        format!("unknown source '{source}': expected supabase, event, envelope, centrifugo or invalidate"),
    )
}

fn too_large(source: &str, n: usize) -> Error {
    Error::new(ErrorCode::TooLarge, source, format!("payload is {n} bytes; the limit is {MAX_PAYLOAD_BYTES}"))
}
