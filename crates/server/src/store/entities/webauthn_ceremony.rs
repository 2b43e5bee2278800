//! `webauthn_ceremonies` table: a passkey ceremony's server half between its two requests
//! (issue 12). Kept in the database, not in memory, so a ceremony started through one
//! instance finishes through another; single use and short-lived, so a signed answer cannot be
//! replayed.

use sea_orm::entity::prelude::*;

use crate::store::vocab::vocabulary;

vocabulary! {
    /// What a ceremony is for: its answer is accepted for that and nothing else.
    pub enum Purpose {
        /// Settings: adding a passkey to the signed-in account.
        Register = "register",
        /// The sign-in page: any account's passkey, found by the credential it signs with.
        SignIn = "sign_in",
        /// The second step of a sign-in whose password was right: that account's passkeys.
        SecondStep = "second_step",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webauthn_ceremonies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// SHA-256 of the handle the browser holds, hex: the database alone cannot finish one.
    #[sea_orm(unique)]
    pub handle_hash: String,
    pub purpose: Purpose,
    /// The account it was started for (None on the sign-in page, where nobody is known yet).
    pub account_id: Option<i64>,
    /// The webauthn-rs state (the challenge and what it allows), JSON.
    pub state: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
