//! The columns the core reads from a Supabase row, per table: what the object path
//! (`rt.ingest('supabase', payload)`, a supabase-js `postgres_changes` callback's object) needs to
//! carry across, so the shim writes those columns as payload text instead of `JSON.stringify` of the
//! whole payload (issue 10). The core decides what is read; the shim only copies what it is told.
//!
//! A table's [`Need`] is compiled from the options ([`Columns::compile`]): the id columns
//! (`primaryKey`), `version`, `factoryId` / `factory_id` (the list head and the scope guard), every
//! scope field in both spellings, and the columns the table's rule templates read (`{col}`). Where an
//! UPDATE goes to the doc/list policy with `patch` on, its changed columns matter (the patch values,
//! `pending.rs`'s forbidden fields): [`Need::update_diff`], and such an UPDATE with a whole old row
//! crosses with both rows whole (below). Tables no rule names share one default need.
//!
//! # The picked payload (what the shim writes, `js/createRealtime.js` `writePicked`)
//!
//! `{"table":T,"eventType":E,"new":N,"old":O}`: `T` and `E` copied, `new` / `old` left out when the
//! payload's member is `undefined` and `null` when it is `null`. A *member* of a row is an own
//! enumerable column whose value `JSON.stringify` writes (not `undefined`, a function or a symbol),
//! and each value is written as `JSON.stringify` writes it. Only a payload without `type`, whose
//! `table` is a string, `eventType` one of INSERT/UPDATE/DELETE and `new` / `old` plain objects (or
//! absent/null) is picked; anything else (broadcasts, bad shapes, a value `JSON.stringify` throws on)
//! crosses whole as JSON text, so every error is the text path's.
//!
//! - Whole rows: an UPDATE of a table with [`Need::update_diff`] whose `old` has a member outside
//!   [`Columns::keys`] (a whole old row, REPLICA IDENTITY FULL: the adapter diffs it, `supabase.rs`
//!   `diffable`) gets `N` and `O` as `JSON.stringify` writes `new` and `old`.
//! - Pick, every other event: `N` = `new`'s members among [`Need::columns`], in that order; the same
//!   for `O`. When the row had members but none of those, the object gets `"<filler>":0` instead,
//!   [`Columns::filler`] being a name no need holds, so a non-empty row stays non-empty (the adapter
//!   takes `new` or `old` by that) and nothing reads it. A picked `old` never passes for a whole
//!   one: it only holds columns of the `old` it came from, so a key-only `old` stays key-only, and a
//!   whole `old` is only picked where nothing reads the changed columns.
//!
//! The adapter reads the picked text as it reads the whole payload: same event, same errors, same
//! plans (`tests/js/objectPath.test.mjs` checks it against the text path with a real QueryClient).
//! Needs change with the options (`setScope` can name other scope fields), so they carry an epoch:
//! the shim sends it with each picked payload and the core refuses one of an older epoch
//! ([`Engine::handle_picked`]), which the shim then sends whole.

use crate::config::Config;
use crate::engine::{Engine, Ingested};
use crate::error::Error;
use crate::event::Action;
use crate::key::write_string;
use crate::scan::push_uint;
use crate::Millis;

/// What the core reads from one table's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// Columns of `new` / `old` that the adapter, the guards and routing read, each once.
    pub columns: Vec<String>,
    /// An UPDATE's changed columns matter (it goes to the doc/list policy and `patch` is on).
    pub update_diff: bool,
}

/// Every table's [`Need`], compiled from the options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    /// Bumped whenever the needs may have changed (`Realtime::set_scope_text`).
    pub epoch: u32,
    /// A column name no [`Need`] holds (see the module doc).
    pub filler: String,
    /// The id columns (`primaryKey`): an `old` with a member beyond them is a whole old row.
    pub keys: Vec<String>,
    /// Tables no rule names.
    pub default: Need,
    /// Tables rules name.
    pub tables: Vec<(String, Need)>,
}

fn push_unique(cols: &mut Vec<String>, c: &str) {
    if !cols.iter().any(|x| x == c) {
        cols.push(c.to_string());
    }
}

impl Columns {
    /// The needs under `config`.
    /// `base`: the columns the guards and the doc/list policy read from every row
    /// ([`Engine::row_columns`], the engine's own list); each table adds its rules' placeholders.
    pub fn compile(config: &Config, base: Vec<String>, epoch: u32) -> Columns {
        let tables: Vec<(String, Need)> = config
            .rules
            .tables()
            .map(|t| {
                let mut columns = base.clone();
                config.rules.placeholder_columns(t, |c| push_unique(&mut columns, c));
                let update_diff = config.patch && !config.rules.matches(t, Action::Update);
                (t.to_string(), Need { columns, update_diff })
            })
            .collect();
        let mut filler = String::from("_");
        while tables.iter().flat_map(|(_, n)| &n.columns).chain(&base).any(|c| *c == filler) {
            filler.push('_');
        }
        let keys = config.primary_key.clone();
        Columns { epoch, filler, keys, default: Need { columns: base, update_diff: config.patch }, tables }
    }

    /// The need of `table`'s rows.
    pub fn need(&self, table: &str) -> &Need {
        self.tables.iter().find(|(t, _)| t == table).map_or(&self.default, |(_, n)| n)
    }

    /// The needs as JSON text for the shim (`WasmRealtime.columns()`): a flat array
    /// `[epoch, filler, keys, defaultColumns, defaultUpdateDiff, table, columns, updateDiff, ...]`.
    pub fn encode(&self) -> String {
        let mut s = String::from("[");
        push_uint(&mut s, self.epoch.into());
        s.push(',');
        write_string(&mut s, &self.filler);
        s.push(',');
        write_list(&mut s, &self.keys);
        s.push(',');
        write_need(&mut s, &self.default);
        for (t, n) in &self.tables {
            s.push(',');
            write_string(&mut s, t);
            s.push(',');
            write_need(&mut s, n);
        }
        s.push(']');
        s
    }
}

impl Engine {
    /// Every table's [`Need`] under the current options.
    pub fn columns(&self) -> Columns {
        Columns::compile(self.config(), self.row_columns(), self.columns_epoch)
    }

    /// A picked Supabase payload (see the module doc) written under the needs of `epoch`: read as
    /// [`Engine::handle_text`] reads a `supabase` payload. `None` (nothing read, nothing counted) when
    /// the needs have changed since: the caller sends the whole payload instead.
    pub fn handle_picked(&mut self, now: Millis, epoch: u32, text: &str) -> Option<Result<Ingested, Error>> {
        (epoch == self.columns_epoch).then(|| self.handle_text(now, "supabase", text))
    }
}

fn write_list(s: &mut String, list: &[String]) {
    s.push('[');
    for (i, c) in list.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        write_string(s, c);
    }
    s.push(']');
}

fn write_need(s: &mut String, n: &Need) {
    write_list(s, &n.columns);
    s.push_str(if n.update_diff { ",1" } else { ",0" });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(n: &Need) -> Vec<&str> {
        n.columns.iter().map(String::as_str).collect()
    }

    #[test]
    fn needs_follow_keys_scope_rules_and_patch() {
        let c = Config::from_text(
            r#"{"scope":{"factoryId":"f1","siteCode":7},"primaryKey":["id","uuid"],
                "rules":[{"table":"items","invalidate":[["wo","{work_order_id}"],["x-{id}-{lot}"]]},
                         {"table":"insp","events":["INSERT"],"invalidate":[{"queryKey":["i","{work_order_id}"]}]}]}"#,
        )
        .unwrap();
        let n = Columns::compile(&c, Engine::new(c.clone()).row_columns(), 3);
        let base = ["id", "uuid", "version", "factoryId", "factory_id", "siteCode", "site_code"];
        assert_eq!(cols(&n.default), base);
        assert!(n.default.update_diff, "a policy UPDATE patches its changed columns");
        assert_eq!(cols(n.need("machines")), base, "a table no rule names gets the default");
        let items = n.need("items");
        assert_eq!(cols(items), [&base[..], &["work_order_id", "lot"]].concat());
        assert!(!items.update_diff, "its UPDATEs go to a rule: changed columns are not read");
        // A rule for INSERT only: its UPDATEs still go to the policy.
        assert!(n.need("insp").update_diff);
        assert_eq!(n.filler, "_");
        let text = n.encode();
        let head = r#"[3,"_",["id","uuid"],["id","uuid","version","factoryId","factory_id","siteCode","site_code"],1,"#;
        assert!(text.starts_with(head), "{text}");
        assert!(text.contains(r#","insp",["id","uuid","version","factoryId","factory_id","siteCode","site_code","work_order_id"],1"#), "{text}");
        assert!(text.contains(r#","items",["id","uuid","version","factoryId","factory_id","siteCode","site_code","work_order_id","lot"],0"#), "{text}");
        assert_eq!(text.len(), head.len() + r#""insp",["id","uuid","version","factoryId","factory_id","siteCode","site_code","work_order_id"],1,"items",["id","uuid","version","factoryId","factory_id","siteCode","site_code","work_order_id","lot"],0]"#.len());
    }

    #[test]
    fn a_picked_payload_of_an_older_epoch_is_refused_and_not_counted() {
        let mut e = Engine::from_options_text(r#"{"scope":{"factoryId":"f1"}}"#).unwrap();
        let before = e.columns();
        let text = r#"{"table":"t","eventType":"INSERT","new":{"id":1,"factory_id":"f1"}}"#;
        assert_eq!(e.handle_picked(0, before.epoch, text).map(|r| r.unwrap()), Some(Ingested::Queued));
        e.set_scope_text(r#"{"siteId":"s1"}"#).unwrap();
        let after = e.columns();
        assert_ne!(after.epoch, before.epoch);
        assert!(after.default.columns.iter().any(|c| c == "site_id"), "the new scope field, both spellings");
        assert!(e.handle_picked(0, before.epoch, text).is_none(), "written under the old needs");
        assert_eq!(e.stats().received, 1, "a refused payload is not counted");
        assert!(e.handle_picked(0, after.epoch, text).is_some());
        assert_eq!(e.stats().received, 2);
    }

    #[test]
    fn patch_off_needs_no_diff_and_the_filler_is_no_column() {
        let c = Config::from_text(r#"{"patch":false,"primaryKey":["_","__"],"rules":[{"table":"t","invalidate":[["{___}"]]}]}"#).unwrap();
        let n = Columns::compile(&c, Engine::new(c.clone()).row_columns(), 0);
        assert!(!n.default.update_diff && !n.need("t").update_diff);
        assert_eq!(n.filler, "____");
    }
}
