//! `challenges` table. One row per issued code or link.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "challenges")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    /// reset | username | verify_contact | staff_code | activation
    pub purpose: String,
    /// email_link | email_code | sms | voice | desk
    pub channel: String,
    pub contact_id: Option<i64>,
    /// HMAC-SHA256 of the secret under the server key, hex; the secret itself is never stored.
    #[sea_orm(unique)]
    pub secret_hmac: String,
    /// Short reference shown in the UI and in the message, so the patient knows which is current.
    pub reference: String,
    pub expires_at: i64,
    pub attempts: i32,
    pub consumed_at: Option<i64>,
    pub superseded_at: Option<i64>,
    /// Staff member who issued it (desk codes, staff-sent links).
    pub issued_by: Option<i64>,
    /// JSON of the identity checks staff ticked before issuing a desk code.
    pub checklist: Option<String>,
    pub created_at: i64,
    /// Contact changes: the new email or number (JSON), applied when the code comes back.
    pub pending_value: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
