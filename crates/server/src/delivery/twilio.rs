//! Texts and voice calls through Twilio, with the twilio-async crate.
//!
//! Not exercised against the live Twilio API from here (no network to it): the crate's base
//! URL is fixed, so the tests drive everything around this transport instead (see README).
//! The outcome mapping below is what keeps retries honest (SECURITY.md F3): 429 and 5xx are
//! retried; other refusals are final; a call or text is never switched to another channel.

use std::time::Duration;

use async_trait::async_trait;
use twilio_async::{Twilio, TwilioErr, TwilioJson, TwilioRequest};

use super::outbound::Lang;
use super::render::Rendered;
use super::{Outgoing, SendError, Transport};
use crate::config::TwilioConfig;

pub struct TwilioTransport {
    client: Twilio,
    from: String,
    timeout: Duration,
}

impl TwilioTransport {
    pub fn new(cfg: &TwilioConfig) -> Result<Self, String> {
        let client = Twilio::new(cfg.account_sid.clone(), cfg.auth_token.0.as_str())
            .map_err(|e| format!("{e:?}"))?;
        Ok(Self {
            client,
            from: cfg.from.clone(),
            timeout: cfg.timeout,
        })
    }
}

/// Twilio's JSON error answer: status is the HTTP status it reported. Twilio's message text
/// often repeats the phone number, so only the numbers are kept for the log and the outbox.
pub fn classify_refusal(status: usize, code: usize) -> SendError {
    let what = format!("Twilio refused: HTTP {status}, error {code}");
    if status == 429 || status >= 500 {
        SendError::Temporary(what)
    } else {
        SendError::Permanent(what)
    }
}

/// Only a connection that was never made is retried. Anything after the request may have
/// reached Twilio (a broken connection, an answer twilio-async cannot parse — it does not see
/// the HTTP status — or a timeout) is final: a patient must never get the same code twice,
/// and can always ask for a new one (SECURITY.md F3).
fn classify_error(e: &TwilioErr) -> SendError {
    match e {
        TwilioErr::NetworkErr(h) if h.is_connect() => {
            SendError::Temporary("could not connect to Twilio".into())
        }
        TwilioErr::NetworkErr(_) | TwilioErr::Io(_) => {
            SendError::Permanent("connection to Twilio broke; outcome unknown, not retried".into())
        }
        TwilioErr::SerdeErr(_) => SendError::Permanent(
            "Twilio's answer could not be read; outcome unknown, not retried".into(),
        ),
        _ => SendError::Permanent("the request to Twilio could not be made".into()),
    }
}

const NO_ANSWER: &str = "Twilio did not answer in time; outcome unknown, not retried";

#[async_trait]
impl Transport for TwilioTransport {
    fn name(&self) -> &'static str {
        "twilio"
    }

    async fn send(&self, msg: &Outgoing) -> Result<(), SendError> {
        let to = msg.destination.as_str();
        match &msg.body {
            Rendered::Sms { text } => {
                self.outcome(self.client.send_msg(&self.from, to, text).run())
                    .await
            }
            Rendered::Voice(_) => {
                let url = msg
                    .voice_url
                    .as_deref()
                    .ok_or_else(|| SendError::Permanent("no script URL for the call".into()))?;
                // Ring for 30 s: long enough for a landline to be reached across a room.
                self.outcome(self.client.call(&self.from, to, url).timeout("30").run())
                    .await
            }
            Rendered::Email { .. } => Err(SendError::Permanent("not a text or call".into())),
        }
    }
}

impl TwilioTransport {
    /// One request to Twilio, bounded by the configured timeout, mapped to retry or not.
    async fn outcome<T>(
        &self,
        request: impl std::future::Future<Output = Result<TwilioJson<T>, TwilioErr>>,
    ) -> Result<(), SendError> {
        match tokio::time::timeout(self.timeout, request).await {
            Err(_) => Err(SendError::Permanent(NO_ANSWER.into())),
            Ok(Err(e)) => Err(classify_error(&e)),
            Ok(Ok(TwilioJson::Success(_))) => Ok(()),
            Ok(Ok(TwilioJson::Fail { code, status, .. })) => Err(classify_refusal(status, code)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_and_server_errors_are_retried_other_refusals_are_final() {
        assert!(matches!(
            classify_refusal(429, 20429),
            SendError::Temporary(_)
        ));
        assert!(matches!(classify_refusal(503, 0), SendError::Temporary(_)));
        assert!(matches!(
            classify_refusal(400, 21211),
            SendError::Permanent(_)
        ));
        assert!(matches!(
            classify_refusal(401, 20003),
            SendError::Permanent(_)
        ));
        // Never the number itself.
        assert!(!format!("{:?}", classify_refusal(400, 21211)).contains('+'));
    }
}

/// Twilio's request signature (X-Twilio-Signature): HMAC-SHA1 under the auth token of the full
/// URL Twilio requested followed by each POST parameter's name and value, sorted by name;
/// base64. The URL is rebuilt from the configured origin, never from Host (SECURITY.md R8).
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut data = url.to_owned();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(auth_token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Constant-time check of a request's signature.
pub fn signature_valid(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    given: &str,
) -> bool {
    let expected = signature(auth_token, url, params);
    expected.len() == given.len()
        && expected
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// The call's script (SECURITY.md A4): the code read slowly, twice, then "press 1 to repeat".
/// `repeat_url` is where Twilio posts the key pressed.
pub fn call_twiml(rendered: &Rendered, repeat_url: &str) -> Option<String> {
    let Rendered::Voice(s) = rendered else {
        return None;
    };
    Some(format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            "<Response>",
            r#"<Gather numDigits="1" action="{url}" method="POST" timeout="8">"#,
            r#"<Say language="{lang}">{intro}</Say>"#,
            r#"<Pause length="1"/>"#,
            r#"<Say language="{lang}">{code}</Say>"#,
            r#"<Pause length="1"/>"#,
            r#"<Say language="{lang}">{again}</Say>"#,
            r#"<Say language="{lang}">{outro} {repeat}</Say>"#,
            "</Gather>",
            r#"<Say language="{lang}">{goodbye}</Say>"#,
            "</Response>"
        ),
        url = xml_escape(repeat_url),
        lang = s.lang.tag(),
        intro = xml_escape(&s.intro),
        code = xml_escape(&s.code),
        again = xml_escape(&s.again),
        outro = xml_escape(&s.outro),
        repeat = xml_escape(&s.repeat),
        goodbye = xml_escape(&s.goodbye),
    ))
}

/// What Twilio hears when the script may no longer be played: `goodbye`, then the line drops.
pub fn hangup_twiml(goodbye: &str, lang: Lang) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say language="{}">{}</Say><Hangup/></Response>"#,
        lang.tag(),
        xml_escape(goodbye)
    )
}

#[cfg(test)]
mod signature_tests {
    use super::super::render::Script;
    use super::*;

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    /// The vector from Twilio's own helper library tests (twilio-python,
    /// tests/unit/test_request_validator.py).
    #[test]
    fn matches_twilios_published_example() {
        let params = vec![
            p("CallSid", "CA1234567890ABCDE"),
            p("Caller", "+14158675309"),
            p("Digits", "1234"),
            p("From", "+14158675309"),
            p("To", "+18005551212"),
        ];
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(
            signature("12345", url, &params),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        assert!(signature_valid(
            "12345",
            url,
            &params,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(!signature_valid(
            "12346",
            url,
            &params,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(!signature_valid(
            "12345",
            "https://evil.test/myapp.php?foo=1&bar=2",
            &params,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
    }

    #[test]
    fn twiml_reads_the_code_twice_and_offers_a_repeat() {
        let body = Rendered::Voice(Script {
            lang: Lang::Es,
            intro: "Hello. This is Smith & Sons.".into(),
            code: "Your code is: 0, 1, 2, 3, 4, 5, 6, 7.".into(),
            again: "Again, your code is: 0, 1, 2, 3, 4, 5, 6, 7.".into(),
            outro: "It expires in 10 minutes.".into(),
            repeat: "To hear the code again, press 1.".into(),
            goodbye: "Goodbye.".into(),
        });
        let xml = call_twiml(&body, "https://p.example/twilio/voice/9?t=ab&r=1").unwrap();
        assert_eq!(
            xml,
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#,
                r#"<Gather numDigits="1" action="https://p.example/twilio/voice/9?t=ab&amp;r=1" method="POST" timeout="8">"#,
                r#"<Say language="es-US">Hello. This is Smith &amp; Sons.</Say><Pause length="1"/>"#,
                r#"<Say language="es-US">Your code is: 0, 1, 2, 3, 4, 5, 6, 7.</Say><Pause length="1"/>"#,
                r#"<Say language="es-US">Again, your code is: 0, 1, 2, 3, 4, 5, 6, 7.</Say>"#,
                r#"<Say language="es-US">It expires in 10 minutes. To hear the code again, press 1.</Say>"#,
                r#"</Gather><Say language="es-US">Goodbye.</Say></Response>"#
            )
        );
        assert!(call_twiml(&Rendered::Sms { text: "x".into() }, "u").is_none());
        assert_eq!(
            hangup_twiml("Goodbye & <bye>", Lang::En),
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say language="en-US">Goodbye &amp; &lt;bye&gt;</Say><Hangup/></Response>"#
        );
    }
}
