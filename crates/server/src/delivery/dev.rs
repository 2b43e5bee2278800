//! The development outbox: used for a channel when dev mode is on and no real transport is
//! configured. Messages are kept in memory (the newest 200), listed at `/dev/outbox` and
//! printed to the log. Never used outside dev mode: codes would be readable by anyone.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use serde::Serialize;

use super::{Channel, Outgoing, Rendered, SendError, Transport};

const KEEP: usize = 200;

#[derive(Debug, Clone, Serialize)]
pub struct DevMessage {
    pub id: i64,
    pub kind: String,
    pub channel: Channel,
    pub to: String,
    /// Subject for email; empty otherwise.
    pub subject: String,
    /// The text body, SMS text, or the voice script as spoken.
    pub text: String,
}

#[derive(Default)]
pub struct DevOutbox {
    messages: Mutex<VecDeque<DevMessage>>,
}

impl DevOutbox {
    /// Newest first.
    pub fn list(&self) -> Vec<DevMessage> {
        self.messages
            .lock()
            .map(|m| m.iter().rev().cloned().collect())
            .unwrap_or_default()
    }
}

#[async_trait]
impl Transport for DevOutbox {
    fn name(&self) -> &'static str {
        "development outbox"
    }

    async fn send(&self, msg: &Outgoing) -> Result<(), SendError> {
        let (subject, text) = match &msg.body {
            Rendered::Email { subject, text, .. } => (subject.clone(), text.clone()),
            Rendered::Sms { text } => (String::new(), text.clone()),
            b @ Rendered::Voice(_) => (String::new(), b.voice_script().unwrap_or_default()),
        };
        let m = DevMessage {
            id: msg.id,
            kind: msg.kind.as_str().to_owned(),
            channel: msg.body.channel(),
            to: msg.destination.clone(),
            subject,
            text,
        };
        tracing::info!(
            id = m.id,
            channel = m.channel.as_str(),
            to = %m.to,
            "development outbox (dev mode only):\n{}{}",
            if m.subject.is_empty() { String::new() } else { format!("Subject: {}\n", m.subject) },
            m.text
        );
        let mut q = self
            .messages
            .lock()
            .map_err(|_| SendError::Temporary("development outbox lock poisoned".into()))?;
        q.push_back(m);
        while q.len() > KEEP {
            q.pop_front();
        }
        Ok(())
    }
}
