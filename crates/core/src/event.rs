//! The canonical event: what every source's payload becomes before routing (CONTRACT "Feeding events").

use crate::scan::{Kind, Tape};
use std::borrow::Cow;

/// A row event's action, folded from INSERT/insert/create, UPDATE/update/approve/reject, DELETE/delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Create,
    Update,
    Delete,
}

impl Action {
    /// The rule filter name (`Rule.events`).
    pub fn event_name(self) -> &'static str {
        match self {
            Action::Create => "INSERT",
            Action::Update => "UPDATE",
            Action::Delete => "DELETE",
        }
    }
}

/// TanStack's `refetchType`, ordered by what it refetches so two can be joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefetchType {
    None,
    Active,
    Inactive,
    All,
}

impl RefetchType {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "none" => RefetchType::None,
            "active" => RefetchType::Active,
            "inactive" => RefetchType::Inactive,
            "all" => RefetchType::All,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            RefetchType::None => "none",
            RefetchType::Active => "active",
            RefetchType::Inactive => "inactive",
            RefetchType::All => "all",
        }
    }
    fn bits(self) -> u8 {
        match self {
            RefetchType::None => 0,
            RefetchType::Active => 1,
            RefetchType::Inactive => 2,
            RefetchType::All => 3,
        }
    }
    fn from_bits(b: u8) -> Self {
        match b & 3 {
            0 => RefetchType::None,
            1 => RefetchType::Active,
            2 => RefetchType::Inactive,
            _ => RefetchType::All,
        }
    }
    /// The refetch that does what both do (active + inactive = all).
    pub fn join(self, other: Self) -> Self {
        Self::from_bits(self.bits() | other.bits())
    }
    /// Whether `self` refetches at least every query that `other` does.
    pub fn covers(self, other: Self) -> bool {
        self.bits() & other.bits() == other.bits()
    }
}

/// A row's values: up to two objects on the tape, looked up in order (an app event's `data`, then
/// its own fields). A column that the first object holds as `null` is absent; it does not fall
/// through to the second.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    pub tape: &'a Tape,
    pub text: &'a str,
    pub objs: [Option<u32>; 2],
}

impl<'a> Row<'a> {
    pub fn new(tape: &'a Tape, text: &'a str, first: Option<u32>, second: Option<u32>) -> Row<'a> {
        Row { tape, text, objs: [first, second] }
    }

    /// Column `col`'s value node, `None` when missing or null.
    pub fn get(&self, col: &str) -> Option<u32> {
        for o in self.objs.iter().flatten() {
            if let Some(v) = self.tape.get(self.text, *o, col) {
                return (self.tape.kind(v) != Kind::Null).then_some(v);
            }
        }
        None
    }

    /// A scope field under its own name or its snake_case form (`factoryId` ~ `factory_id`).
    pub fn field(&self, name: &str, snake: &str) -> Option<u32> {
        self.get(name).or_else(|| if snake != name { self.get(snake) } else { None })
    }

    /// Every non-null value of a scope field, under either spelling, in every object of the row:
    /// the scope guard drops an event when any one differs from the scope (issue 11), so nothing
    /// here stops at the first match as [`Row::get`] does.
    pub fn spellings<'s>(&'s self, name: &'s str, snake: &'s str) -> impl Iterator<Item = u32> + 's {
        let n = if snake == name { 1 } else { 2 };
        self.objs
            .into_iter()
            .flatten()
            .flat_map(move |o| [name, snake].into_iter().take(n).filter_map(move |k| self.tape.get(self.text, o, k)))
            .filter(move |&v| self.tape.kind(v) != Kind::Null)
    }
}

/// Which fields changed, as (name, value) node pairs on the tape, when the source names them.
/// The values stay raw JSON spans until a plan is built.
pub type Changed<'a> = Option<&'a [(u32, u32)]>;

/// One row change, whatever source it came from. Strings borrow the payload's text where they can.
#[derive(Debug, Clone)]
pub struct RowEvent<'a> {
    /// The table (Supabase), the event's `type`, or the envelope's `entity`.
    pub ty: Cow<'a, str>,
    /// `String(id)` of the row, as it appears in doc keys.
    pub id: Cow<'a, str>,
    pub action: Action,
    /// The row's values (Supabase `new`, or `old` for a DELETE; an event's `data` and fields), read
    /// by rule templates and the scope guard.
    pub row: Row<'a>,
    /// Changed fields with their new values, when the source names them. `None` = unknown.
    pub changed: Changed<'a>,
    pub version: Option<f64>,
    /// A unique event id for cross-window dedupe (envelope `id`, Centrifugo `channel#offset`).
    pub event_id: Option<String>,
    /// The event's `factoryId`/`factory_id` node, for the list key.
    pub factory_id: Option<u32>,
    /// The event object beside its row when the row does not include it (an envelope's own fields):
    /// its scope spellings are judged too.
    pub outer: Option<u32>,
}

/// A direct invalidation (`'invalidate'` source, Centrifugo `{ event: 'invalidate' }`).
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidateEvent {
    /// The key's canonical hash (TanStack `hashKey`).
    pub hash: String,
    pub exact: bool,
    pub refetch_type: RefetchType,
    pub event_id: Option<String>,
}

/// What an adapter produces.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    Row(RowEvent<'a>),
    Invalidate(InvalidateEvent),
}

impl Event<'_> {
    pub fn event_id(&self) -> Option<&str> {
        match self {
            Event::Row(r) => r.event_id.as_deref(),
            Event::Invalidate(i) => i.event_id.as_deref(),
        }
    }
    pub fn set_event_id(&mut self, id: String) {
        match self {
            Event::Row(r) => r.event_id = Some(id),
            Event::Invalidate(i) => i.event_id = Some(id),
        }
    }
}
