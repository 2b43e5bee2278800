//! Email through an SMTP relay, with lettre. Text and HTML bodies; STARTTLS, TLS or (for a
//! relay on the same host, or tests) none.

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{Outgoing, Rendered, SendError, Transport};
use crate::config::{SmtpConfig, SmtpTls};

pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Smtp {
    pub fn new(cfg: &SmtpConfig) -> Result<Self, String> {
        let builder = match cfg.tls {
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.host)
                .map_err(|e| e.to_string())?,
            SmtpTls::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.host).map_err(|e| e.to_string())?
            }
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host),
        };
        let mut builder = builder.port(cfg.port).timeout(Some(cfg.timeout));
        if !cfg.username.is_empty() {
            builder = builder.credentials(Credentials::new(
                cfg.username.clone(),
                cfg.password.0.clone(),
            ));
        }
        let from = cfg.from.parse::<Mailbox>().map_err(|e| e.to_string())?;
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }
}

impl Smtp {
    /// Connects, greets, upgrades to TLS and logs in as a send would, then quits without a
    /// message (`carekey check`).
    pub async fn check(&self) -> Result<(), String> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err("the relay did not answer a NOOP".into()),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// The same for every attempt at one outbox message, on every instance: a send retried after
/// its answer was lost (a timeout after the relay took it) reaches the inbox as the same
/// message, which mail systems recognise as a duplicate rather than a second email. The time
/// it was queued is part of it: after a restore or a fresh database the ids start over, and a
/// new message with an old one's Message-ID could be dropped as that old message's duplicate.
fn message_id(outbox_id: i64, queued_at: i64, from: &Mailbox) -> String {
    format!(
        "<carekey-outbox-{outbox_id}.{queued_at}@{}>",
        from.email.domain()
    )
}

#[async_trait]
impl Transport for Smtp {
    fn name(&self) -> &'static str {
        "smtp"
    }

    async fn send(&self, msg: &Outgoing) -> Result<(), SendError> {
        let Rendered::Email {
            subject,
            text,
            html,
        } = &msg.body
        else {
            return Err(SendError::Permanent("not an email".into()));
        };
        let to = msg
            .destination
            .parse::<Mailbox>()
            .map_err(|e| SendError::Permanent(format!("address on file is not valid: {e}")))?;
        let email = Message::builder()
            .message_id(Some(message_id(msg.id, msg.created_at, &self.from)))
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .multipart(MultiPart::alternative_plain_html(
                text.clone(),
                html.clone(),
            ))
            .map_err(|e| SendError::Permanent(format!("could not build the message: {e}")))?;
        let code = |e: &lettre::transport::smtp::Error| {
            e.status().map_or("no code".to_owned(), |c| c.to_string())
        };
        match self.transport.send(email).await {
            Ok(_) => Ok(()),
            // A reply's text often repeats the address; only its code is kept.
            // 5xx from the server: the address or message was refused for good.
            Err(e) if e.is_permanent() => {
                Err(SendError::Permanent(format!("SMTP refused: {}", code(&e))))
            }
            // 4xx: the relay may take it later.
            Err(e) if e.is_transient() => {
                Err(SendError::Temporary(format!("SMTP not now: {}", code(&e))))
            }
            // Connection refused, TLS or timeout: no address in these.
            Err(e) => Err(SendError::Temporary(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_id_names_the_outbox_row_under_the_senders_domain() {
        let from: Mailbox = "Hillside Clinic <portal@hillside.example>".parse().unwrap();
        assert_eq!(
            message_id(42, 1_800_000_000_000, &from),
            "<carekey-outbox-42.1800000000000@hillside.example>"
        );
        assert_eq!(message_id(42, 7, &from), message_id(42, 7, &from));
        assert_ne!(message_id(42, 7, &from), message_id(43, 7, &from));
        // The same id handed out again later (a restored database) is another message.
        assert_ne!(message_id(42, 7, &from), message_id(42, 8, &from));
    }
}
