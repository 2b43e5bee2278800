//! Delivery: the outbox, the dispatcher that empties it, and the transports behind one trait
//! (ARCHITECTURE.md principle 2: requests never wait for delivery).
//!
//! A domain transaction writes the challenge and its outbox row together; the dispatcher,
//! woken at once and polling as a fallback, sends with retries and records what happened.
//!
//! The domain queues `outbound::Outbound` values, data only, with the recipient's language;
//! `render` puts them into words from the Fluent catalogue when they are sent
//! (ARCHITECTURE.md principle 9).

pub mod dev;
pub mod dispatcher;
pub mod letter;
pub mod outbound;
pub mod outbox;
pub mod render;
pub mod seal;
pub mod smtp;
pub mod twilio;

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Notify;

pub use outbound::{Channel, Outbound, Queued};
pub use render::{Letterhead, Rendered, Renderer};

/// One message on its way out, in words.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: i64,
    /// When the row was queued (ms): with the id, names this message for good, even where a
    /// restored or new database hands out the same ids again.
    pub created_at: i64,
    pub kind: crate::store::entities::outbox::Kind,
    pub destination: String,
    pub body: Rendered,
    /// Voice only: where Twilio fetches the call's script (signed, short-lived).
    pub voice_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later: connection refused, timeout, 429, 5xx.
    #[error("temporary failure: {0}")]
    Temporary(String),
    /// Trying again cannot help: the address or number was refused.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

#[async_trait]
pub trait Transport: Send + Sync {
    /// For logs and the outbox record.
    fn name(&self) -> &'static str;
    async fn send(&self, msg: &Outgoing) -> Result<(), SendError>;
}

/// Which transport carries which channel. `None` means the clinic has not configured one, and
/// the channel is not offered.
#[derive(Clone, Default)]
pub struct Transports {
    pub email: Option<Arc<dyn Transport>>,
    /// Texts and calls.
    pub phone: Option<Arc<dyn Transport>>,
}

impl Transports {
    pub fn for_channel(&self, channel: Channel) -> Option<&Arc<dyn Transport>> {
        match channel {
            Channel::Email => self.email.as_ref(),
            Channel::Sms | Channel::Voice => self.phone.as_ref(),
        }
    }
}

/// What the domain needs from delivery: the transports (to know which channels exist) and a
/// way to wake the dispatcher after a commit.
#[derive(Clone)]
pub struct Delivery {
    pub transports: Transports,
    pub wake: Arc<Notify>,
    /// The development outbox, when it is in use (dev mode without SMTP or Twilio).
    pub dev: Option<Arc<dev::DevOutbox>>,
    /// Seals payloads at rest in the outbox (SECURITY.md S9).
    pub sealer: seal::Sealer,
    /// Puts queued messages into words, with the clinic's letterhead, when they are sent.
    pub renderer: Arc<Renderer>,
}

impl Delivery {
    /// Call after committing a transaction that enqueued messages.
    pub fn kick(&self) {
        self.wake.notify_one();
    }
}
