//! `remembered_devices` table: browsers that skip the second step for a while after passing it
//! ("remember this device", SECURITY.md M7). Only the token's HMAC is kept.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "remembered_devices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    /// HMAC-SHA256 of the cookie's token under the server key, bound to the account, hex.
    #[sea_orm(unique)]
    pub token_hmac: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// Set by a password reset, any change of methods, "sign out everywhere else".
    pub revoked_at: Option<i64>,
    /// "Chrome on Android": for the person's own list.
    pub device: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
