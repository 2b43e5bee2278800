//! `report_links` table: the "this wasn't me" link in every security notice (issue 12,
//! SECURITY.md M8). Only the token's HMAC is kept, as for every link (R3). A used link is the
//! patient's report and stays as the chart's flag until the clinic marks it handled.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "report_links")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    /// HMAC-SHA256 of the link's token under the server key, hex.
    #[sea_orm(unique)]
    pub token_hmac: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// When the person pressed Continue: their report.
    pub used_at: Option<i64>,
    /// When staff marked the report handled (the chart's flag goes away).
    pub handled_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
