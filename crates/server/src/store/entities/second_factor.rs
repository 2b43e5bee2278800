//! `second_factors` table: the authenticator apps and passkeys an account signs in
//! with after its password (issue 12, SECURITY.md M1).

use sea_orm::entity::prelude::*;

use crate::store::vocab::vocabulary;

vocabulary! {
    /// What a second factor is.
    pub enum Kind {
        /// An authenticator app: TOTP, RFC 6238.
        Totp = "totp",
        /// A passkey (WebAuthn, user verification required): signs in on its own, and serves
        /// as the second step after a password too (SECURITY.md M3).
        Passkey = "passkey",
        /// A code sent to a contact on file when asked for: a text to a mobile, a call to a
        /// landline, an email only where the clinic allows it (`mfa.allow_email`).
        SentCode = "sent_code",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "second_factors")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub kind: Kind,
    /// The person's own name for it ("My phone").
    pub name: String,
    /// A passkey's credential id, base64url: found by it when a passkey signs in without a
    /// username. None for an authenticator app.
    #[sea_orm(unique)]
    pub credential_id: Option<String>,
    /// A sent code's contact: where its codes go. The method goes with the contact.
    pub contact_id: Option<i64>,
    /// A passkey: its public key and counter (webauthn-rs `Passkey`, JSON), sealed like a key
    /// so a row copied to another account does not open. An authenticator app: the TOTP key,
    /// sealed (ChaCha20-Poly1305 under a key derived from the server key file,
    /// bound to this account): a database dump or backup alone cannot make codes.
    pub secret: String,
    /// The last 30-second step a code was accepted for: a step is never accepted twice
    /// (RFC 6238 §5.2), so a code seen over a shoulder cannot be replayed.
    pub last_step: Option<i64>,
    /// None until the person typed one code from it: until then it does not count.
    pub confirmed_at: Option<i64>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
