//! `contacts` table. Email addresses and phone numbers on file.

use sea_orm::entity::prelude::*;

use crate::store::vocab::vocabulary;

vocabulary! {
    /// What a contact is; whether a phone takes texts and calls is in `sms_capable` and
    /// `voice_capable`.
    pub enum Kind {
        Email = "email",
        Phone = "phone",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contacts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Set for a patient's contacts (they belong to the chart, portal account or not).
    pub patient_id: Option<i64>,
    /// Set for a staff member's contacts.
    pub account_id: Option<i64>,
    pub kind: Kind,
    /// Email as entered, or phone in E.164.
    pub value: String,
    /// Lower-cased email / E.164 phone, for look-ups.
    pub value_norm: String,
    pub sms_capable: bool,
    pub voice_capable: bool,
    pub verified_at: Option<i64>,
    pub preferred: bool,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
