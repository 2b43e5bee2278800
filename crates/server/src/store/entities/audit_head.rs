//! `audit_head` table. Single row holding the chain head. Writers update it first, which serialises
//! appends across instances (a row lock on PostgreSQL, the write lock on SQLite).

use sea_orm::entity::prelude::*;

/// The head the chain starts from, written by the migration that creates this table: the first
/// audit row is then verifiable like any other. It lives with the table, not in the domain, so
/// the migration does not reach up a layer for it.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_head")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub seq: i64,
    pub hash: String,
    /// The rows from before the audit key were re-chained under it (m0011).
    pub keyed: bool,
    /// Which key the chain is under (`AuditKey::id`), empty before it was keyed.
    pub key_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
