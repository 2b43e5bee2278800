//! `challenges` table. One row per issued code or link.

use sea_orm::entity::prelude::*;

use crate::store::vocab::vocabulary;

vocabulary! {
    /// What a code, link or grant is for. The word is also bound into a code's HMAC, so a
    /// code issued for one purpose never verifies as another.
    pub enum Purpose {
        /// A recovery code or link the patient asked for.
        Reset = "reset",
        /// A desk code or an activation letter's code, issued by staff.
        StaffCode = "staff_code",
        /// A proved code or link, spent by the new-password step.
        Grant = "grant",
        /// Proves a new email address or phone number before it replaces the old one.
        VerifyContact = "verify_contact",
        /// A code texted, read out by a call or (where the clinic allows) emailed as the second
        /// step of a sign-in, or to confirm such a method when it is added (SECURITY.md M1).
        SecondStep = "second_step",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "challenges")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub purpose: Purpose,
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
    /// HMAC of the flow cookie of the browser that asked (a patient's own request) or proved
    /// the code (a grant); NULL for the clinic's codes and callers that keep no cookie.
    pub flow_tag: Option<String>,
    /// Guesses at a bound code made from any other browser (its own page's are `attempts`).
    pub stray_attempts: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
