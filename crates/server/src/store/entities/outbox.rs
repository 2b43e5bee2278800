//! `outbox` table. Messages waiting for, or done with, delivery.

use sea_orm::entity::prelude::*;

use crate::store::vocab::vocabulary;

vocabulary! {
    /// How a message travels. `delivery` uses this type for its messages too, so the channel
    /// a payload names and the one in the column are the same value.
    pub enum Channel {
        Email = "email",
        Sms = "sms",
        Voice = "voice",
    }
}

vocabulary! {
    /// What a message is: what staff see under "Recent messages", and part of what its
    /// payload is sealed to. One per `delivery::Outbound` variant.
    pub enum Kind {
        ResetCode = "reset_code",
        ResetLink = "reset_link",
        Username = "username",
        CredentialsLetter = "credentials_letter",
        ContactCode = "contact_code",
        ContactNotice = "contact_notice",
        UsernameNotice = "username_notice",
        PasswordNotice = "password_notice",
        TwoStepNotice = "two_step_notice",
        SignInCode = "sign_in_code",
    }
}

vocabulary! {
    /// Where a message is in its delivery.
    pub enum Status {
        /// Waiting for a dispatcher (also after a temporary failure, for the next attempt).
        Queued = "queued",
        /// Claimed by a dispatcher, under its lease.
        Sending = "sending",
        Sent = "sent",
        /// Refused, unreadable, or out of attempts.
        Failed = "failed",
        /// Its code expired before it could be sent.
        Expired = "expired",
        /// Withdrawn: the contact it was for changed first.
        Cancelled = "cancelled",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: Kind,
    pub channel: Channel,
    pub destination: String,
    pub account_id: Option<i64>,
    pub challenge_id: Option<i64>,
    /// Rendered message (JSON). Codes live here only until sent or expired.
    pub payload: String,
    pub status: Status,
    pub attempts: i32,
    pub next_attempt_at: i64,
    /// Never deliver after this (a code must not arrive after it expired).
    pub expires_at: Option<i64>,
    /// Dispatcher lease: another instance skips the row until this passes.
    pub lease_until: Option<i64>,
    pub sent_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
