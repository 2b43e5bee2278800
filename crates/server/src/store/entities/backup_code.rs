//! `backup_codes` table: the ten saved recovery codes of an account (issue 12, SECURITY.md M1).
//! Only their HMAC under the server key is kept; a regenerated set replaces the old one.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "backup_codes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    /// HMAC-SHA256 of the normalised code under the server key, bound to the account, hex.
    #[sea_orm(unique)]
    pub code_hmac: String,
    pub created_at: i64,
    pub used_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
