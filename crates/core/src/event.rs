//! The canonical event: what every source's payload becomes before routing (CONTRACT "Feeding events").

use crate::key::QueryKey;
use serde_json::{Map, Value};

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

/// One row change, whatever source it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct RowEvent {
    /// The table (Supabase), the event's `type`, or the envelope's `entity`.
    pub ty: String,
    /// `String(id)` of the row, as it appears in doc keys.
    pub id: String,
    pub action: Action,
    /// The row's values (Supabase `new`, or `old` for a DELETE; an event's fields and `data`), used by
    /// rule templates and the scope guard.
    pub row: Map<String, Value>,
    /// Changed fields with their new values, when the source names them. `None` = unknown.
    pub changed: Option<Map<String, Value>>,
    pub version: Option<f64>,
    /// A unique event id for cross-window dedupe (envelope `id`, Centrifugo `channel#offset`).
    pub event_id: Option<String>,
    /// The event's `factoryId`/`factory_id`, for the list key.
    pub factory_id: Option<Value>,
}

/// A direct invalidation (`'invalidate'` source, Centrifugo `{ event: 'invalidate' }`).
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidateEvent {
    pub key: QueryKey,
    pub exact: bool,
    pub refetch_type: RefetchType,
    pub event_id: Option<String>,
}

/// What an adapter produces.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Row(RowEvent),
    Invalidate(InvalidateEvent),
}

impl Event {
    pub fn event_id(&self) -> Option<&str> {
        match self {
            Event::Row(r) => r.event_id.as_deref(),
            Event::Invalidate(i) => i.event_id.as_deref(),
        }
    }
}
