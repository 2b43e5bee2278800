//! `rate_limits` table. Send and request counters, shared by all server instances.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rate_limits")]
pub struct Model {
    /// e.g. `send:account:42:hour`; window boundaries are fixed, so several instances agree.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub window_start: i64,
    pub count: i32,
    /// The count of the window just before `window_start` (m0012): a limit reads the last
    /// full window's length, not the calendar hour or day (`domain::limits`).
    pub prev_count: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
