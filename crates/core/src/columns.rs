//! The columns the core reads from a Supabase row, per table: what the object path
//! (`rt.ingest('supabase', payload)`, a supabase-js `postgres_changes` callback's object) needs to
//! carry across. The shim writes those columns' values as typed slots (`slots.rs`), not JSON text
//! of the payload (issue 10). The core decides what is read and what the values mean; the shim
//! only copies what it is told.
//!
//! A table's [`Need`] is compiled from the options ([`Columns::compile`]): the id columns
//! (`primaryKey`), `version`, `factoryId` / `factory_id` (the list head and the scope guard), every
//! scope field in both spellings, and the columns the table's rule templates read (`{col}`), each
//! with the slot the engine's row index gives it. Where an UPDATE goes to the doc/list policy with
//! `patch` on, its changed columns matter (the patch values, `pending.rs`'s forbidden fields):
//! [`Need::update_diff`]; such an UPDATE with a whole old row needs both rows whole, so the core
//! has it sent as text (`slots.rs`). Tables no rule names share one default need.
//!
//! Needs change with the options (`setScope` can name other scope fields), so they carry an epoch:
//! the shim sends it with each payload and the core refuses one written under an older epoch
//! ([`Engine::handle_slots`]), which the shim then sends whole after reading the needs again.

use crate::config::Config;
use crate::engine::Engine;
use crate::event::{Action, Columns as RowIndex};
use crate::key::write_string;
use crate::scan::push_uint;

/// What the core reads from one table's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// Columns of `new` / `old` that the adapter, the guards and routing read, each once: the
    /// object path's slots, in this order.
    pub columns: Vec<String>,
    /// Each column's slot in the engine's row index ([`RowIndex`]; `usize::MAX`: none).
    pub slots: Vec<usize>,
    /// The positions in `columns` of the id columns, in `primaryKey` order, each once.
    pub keys: Vec<usize>,
    /// An UPDATE's changed columns matter (it goes to the doc/list policy and `patch` is on).
    pub update_diff: bool,
    /// One more than the largest slot: the row index an event of this table fills.
    pub found_len: usize,
}

/// Every table's [`Need`], compiled from the options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    /// Bumped whenever the needs may have changed (`Engine::set_scope_text`).
    pub epoch: u32,
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

impl Need {
    fn new(columns: Vec<String>, update_diff: bool, config: &Config, index: &RowIndex) -> Need {
        let slots: Vec<usize> = columns.iter().map(|c| index.position(c).unwrap_or(usize::MAX)).collect();
        let mut keys: Vec<usize> = Vec::new();
        for k in &config.primary_key {
            if let Some(i) = columns.iter().position(|c| c == k) {
                if !keys.contains(&i) {
                    keys.push(i);
                }
            }
        }
        let found_len = slots.iter().filter(|&&s| s != usize::MAX).max().map_or(0, |m| m + 1);
        Need { columns, slots, keys, update_diff, found_len }
    }
}

impl Columns {
    /// The needs under `config`.
    /// `base`: the columns the guards and the doc/list policy read from every row
    /// ([`Engine::row_columns`], the engine's own list); each table adds its rules' placeholders.
    /// `index`: the engine's row index, whose slots the columns get.
    pub fn compile(config: &Config, base: Vec<String>, index: &RowIndex, epoch: u32) -> Columns {
        // A loop, not a `map(..).collect()` chain (a monomorphization of its own; docs/SIZE.md).
        let mut tables: Vec<(String, Need)> = Vec::new();
        for t in config.rules.tables() {
            let mut columns = base.clone();
            config.rules.placeholder_columns(t, |c| push_unique(&mut columns, c));
            let update_diff = config.patch && !config.rules.matches(t, Action::Update);
            tables.push((t.to_string(), Need::new(columns, update_diff, config, index)));
        }
        Columns { epoch, default: Need::new(base, config.patch, config, index), tables }
    }

    /// The need of `table`'s rows.
    pub fn need(&self, table: &str) -> &Need {
        self.tables.iter().find(|(t, _)| t == table).map_or(&self.default, |(_, n)| n)
    }

    /// The needs as JSON text for the shim (`WasmRealtime.columns()`): a flat array
    /// `[epoch, rowChoices, defaultColumns, defaultKeys, table, columns, keys, ...]`, `rowChoices`
    /// being [`crate::slots::row_choices`] (which row an event's columns are read from).
    pub fn encode(&self) -> String {
        let mut s = String::from("[");
        push_uint(&mut s, self.epoch.into());
        s.push_str(",[");
        for (i, c) in crate::slots::row_choices().into_iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            push_uint(&mut s, c.into());
        }
        s.push_str("],");
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
    /// The needs' epoch now ([`Columns::epoch`]).
    pub fn columns_epoch(&self) -> u32 {
        self.columns_epoch
    }

    /// Every table's [`Need`] under the current options.
    pub fn columns(&self) -> Columns {
        Columns::compile(self.config(), self.row_columns(), self.row_index(), self.columns_epoch)
    }
}

fn write_need(s: &mut String, n: &Need) {
    write_list(s, &n.columns);
    s.push_str(",[");
    for (i, &k) in n.keys.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        push_uint(s, k as u64);
    }
    s.push(']');
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(n: &Need) -> Vec<&str> {
        n.columns.iter().map(String::as_str).collect()
    }

    fn compile(options: &str, epoch: u32) -> Columns {
        let c = Config::from_text(options).unwrap();
        let e = Engine::new(c.clone());
        Columns::compile(&c, e.row_columns(), e.row_index(), epoch)
    }

    #[test]
    fn needs_follow_keys_scope_rules_and_patch() {
        let n = compile(
            r#"{"scope":{"factoryId":"f1","siteCode":7},"primaryKey":["id","uuid"],
                "rules":[{"table":"items","invalidate":[["wo","{work_order_id}"],["x-{id}-{lot}"]]},
                         {"table":"insp","events":["INSERT"],"invalidate":[{"queryKey":["i","{work_order_id}"]}]}]}"#,
            3,
        );
        let base = ["id", "uuid", "version", "factoryId", "factory_id", "siteCode", "site_code"];
        assert_eq!(cols(&n.default), base);
        assert!(n.default.update_diff, "a policy UPDATE patches its changed columns");
        assert_eq!(n.default.keys, [0, 1]);
        assert_eq!(cols(n.need("machines")), base, "a table no rule names gets the default");
        let items = n.need("items");
        assert_eq!(cols(items), [&base[..], &["work_order_id", "lot"]].concat());
        assert!(!items.update_diff, "its UPDATEs go to a rule: changed columns are not read");
        assert!(items.slots.iter().all(|&s| s < items.found_len), "every column has a slot in the row index");
        let mut distinct = items.slots.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), items.slots.len());
        // A rule for INSERT only: its UPDATEs still go to the policy.
        assert!(n.need("insp").update_diff);
        let text = n.encode();
        let head = r#"[3,[0,0,1,1,0,0,1,1,1,0,1,0],["id","uuid","version","factoryId","factory_id","siteCode","site_code"],[0,1],"#;
        assert!(text.starts_with(head), "{text}");
        assert!(text.contains(r#","insp",["id","uuid","version","factoryId","factory_id","siteCode","site_code","work_order_id"],[0,1]"#), "{text}");
        assert!(text.contains(r#","items",["id","uuid","version","factoryId","factory_id","siteCode","site_code","work_order_id","lot"],[0,1]"#), "{text}");
        assert_eq!(text.len(), head.len() + r#""insp",["id","uuid","version","factoryId","factory_id","siteCode","site_code","work_order_id"],[0,1],"items",["id","uuid","version","factoryId","factory_id","siteCode","site_code","work_order_id","lot"],[0,1]]"#.len());
    }

    #[test]
    fn set_scope_changes_the_epoch_and_the_needs() {
        let mut e = Engine::from_options_text(r#"{"scope":{"factoryId":"f1"}}"#).unwrap();
        let before = e.columns();
        e.set_scope_text(r#"{"siteId":"s1"}"#).unwrap();
        let after = e.columns();
        assert_ne!(after.epoch, before.epoch);
        assert!(after.default.columns.iter().any(|c| c == "site_id"), "the new scope field, both spellings");
    }

    #[test]
    fn patch_off_needs_no_diff() {
        let n = compile(
            r#"{"patch":false,"primaryKey":["_","__","_"],"rules":[{"table":"t","invalidate":[["{___}"]]}]}"#,
            0,
        );
        assert!(!n.default.update_diff && !n.need("t").update_diff);
        assert_eq!(n.need("t").keys, [0, 1], "each id column once");
    }
}
