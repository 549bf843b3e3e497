//! Interned tables: what routing writes for a table is built when an event first names it, not per
//! event (issue 10: the doc and list keys wrote the table's name through `write_string` twice per
//! event, the version guard copied it into its key, and the rules were found by hashing it). A table
//! here is its name, the start of its doc key (`["doc","t","`) and list head (`["list","t"`) as
//! canonical hash text, the hash its version-guard entries start from, and the index of its rules.
//!
//! An app's events name a few tables, so a few are kept and found by comparing the name's bytes; a
//! table beyond those takes the place of the one named longest ago (memory stays flat whatever
//! names arrive, and a steady stream allocates nothing).

use crate::hash::hash_str;
use crate::key::write_string;
use crate::rules::RuleTable;
use crate::scan::bytes_eq;

/// How many tables are kept.
pub const TABLES: usize = 16;

/// One table's interned texts.
#[derive(Debug, Default)]
pub struct Table {
    /// The name and a `\0`: how the version guard's keys start (`type \0 id`, `guard.rs`).
    pub key: String,
    /// `["doc",<name>,"`: the policy's doc key up to its id's text (an id is written as a string).
    pub doc: String,
    /// `["list",<name>`: the policy's list head up to its factory.
    pub list: String,
    /// `hash_str` of the name (the version guard's keys' hashes start from it).
    pub hash: u64,
    /// The index of its rules ([`RuleTable::table`]), if any rule names it.
    pub rules: Option<u32>,
    /// The id of its list head under the scope's factory in the pending key table, with that
    /// table's epoch (`pending::Pending::key_epoch`), once an event wrote it (the engine's
    /// `invalidate_list_head`): the same text every time, so it is not written or looked up again.
    pub head: Option<(u32, crate::pending::KeyId)>,
}

impl Table {
    /// The table's name.
    pub fn name(&self) -> &str {
        self.key.get(..self.key.len().saturating_sub(1)).unwrap_or("")
    }

    /// The texts of table `name` (whose rules, if any, are in `rules`).
    pub fn new(name: &str, rules: &RuleTable) -> Table {
        let mut t = Table::default();
        t.set(name, rules);
        t
    }

    fn set(&mut self, name: &str, rules: &RuleTable) {
        self.key.clear();
        self.key.push_str(name);
        self.key.push('\0');
        self.doc.clear();
        self.doc.push_str("[\"doc\",");
        write_string(&mut self.doc, name);
        self.doc.push_str(",\"");
        self.list.clear();
        self.list.push_str("[\"list\",");
        write_string(&mut self.list, name);
        self.hash = hash_str(name);
        self.rules = rules.table(name);
        self.head = None;
    }
}

/// The tables named lately.
#[derive(Debug, Default)]
pub struct Tables {
    tables: Vec<Table>,
    /// The entry a new table takes once all are in use (first in, first out).
    next: usize,
}

impl Tables {
    /// The index of the table named `name`, interned now if it is not kept (`rules`: the engine's
    /// compiled rules). It names that table until the next call ([`Tables::at`]).
    pub fn get(&mut self, name: &str, rules: &RuleTable) -> usize {
        match self.find(name) {
            Some(at) => at,
            None => self.intern(name, rules),
        }
    }

    /// The table at `at`, an index [`Tables::get`] returned.
    pub fn at(&self, at: usize) -> &Table {
        &self.tables[at]
    }

    /// [`Tables::at`], to keep its list head's id.
    pub fn at_mut(&mut self, at: usize) -> &mut Table {
        &mut self.tables[at]
    }

    /// Forgets every table's list-head id (the scope changed what the head names).
    pub fn forget_heads(&mut self) {
        for t in &mut self.tables {
            t.head = None;
        }
    }

    fn find(&self, name: &str) -> Option<usize> {
        for (i, t) in self.tables.iter().enumerate() {
            let k = t.key.as_bytes();
            // A plain loop over a few names: the length decides most at once.
            if k.len() == name.len() + 1 && bytes_eq(k.get(..name.len()).unwrap_or_default(), name.as_bytes()) {
                return Some(i);
            }
        }
        None
    }

    /// Makes room for `name` (a new entry, or the oldest one's) and returns its index.
    #[cold]
    #[inline(never)]
    fn intern(&mut self, name: &str, rules: &RuleTable) -> usize {
        let at = if self.tables.len() < TABLES {
            self.tables.push(Table::default());
            self.tables.len() - 1
        } else {
            let at = self.next % TABLES;
            self.next = (at + 1) % TABLES;
            at
        };
        self.tables[at].set(name, rules);
        at
    }

    pub fn len(&self) -> usize {
        self.tables.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// Each table's texts are what the policy and the guard would write for its name (escapes
    /// included), its rules are found, and past `TABLES` names the oldest entry is reused: every
    /// name, however many came between, still gets its own texts.
    #[test]
    fn tables_hold_their_texts_and_rules_however_many_are_named() {
        let config = Config::from_text(r#"{"rules":[{"table":"items","invalidate":[["a"]]}]}"#).unwrap();
        let rules = &config.rules;
        let mut tables = Tables::default();
        let names: Vec<String> = (0..TABLES * 3).map(|i| ["t\"", &i.to_string()].concat()).collect();
        for round in 0..2 {
            for name in names.iter().map(String::as_str).chain(["items"]) {
                let at = tables.get(name, rules);
                let t = tables.at(at);
                assert_eq!(t.name(), name);
                let mut doc = String::from("[\"doc\",");
                write_string(&mut doc, name);
                doc.push(',');
                assert_eq!(t.doc, [doc.as_str(), "\""].concat());
                assert_eq!(t.list, doc.replace("[\"doc\"", "[\"list\"").trim_end_matches(','));
                assert_eq!(t.key, [name, "\0"].concat());
                assert_eq!(t.hash, hash_str(name));
                assert_eq!(t.rules, rules.table(name), "{name} in round {round}");
                assert!(tables.len() <= TABLES);
            }
        }
        let at = tables.get("items", rules);
        assert!(tables.at(at).rules.is_some());
    }
}
