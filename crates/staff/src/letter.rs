//! The credentials (or activation) letter: a print view that opens the browser's print dialog,
//! and says whether the email with the news went out, from the outbox's real status, updated
//! until delivery completes or fails. What is printed for the patient is in the patient's
//! language, in words the server rendered (`CredentialsLetter::text`); the screen around it is
//! the console's English.

use std::time::Duration;

use carekey_shared::Lang;
use carekey_shared::staff::{CredentialsLetter, DeliveryStatus};
use carekey_shared::staff_fns;
use carekey_ui::page::PageHeading;
use carekey_ui::t;
use carekey_ui::tagline::Taglines;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::chart::email_status_text;

/// How often the letter asks how its email is doing.
const POLL: Duration = Duration::from_secs(2);

#[component]
pub fn LetterView(letter: CredentialsLetter, on_close: Callback<()>) -> impl IntoView {
    let email_status = RwSignal::new(letter.email.as_ref().map(|e| e.status));
    if let Some(e) = letter.email.clone() {
        let id = e.message_id;
        let alive = StoredValue::new(true);
        on_cleanup(move || alive.set_value(false));
        spawn_local(async move {
            while alive.get_value() && !email_status.get_untracked().is_some_and(|s| s.is_final()) {
                gloo_timers::future::sleep(POLL).await;
                if let Ok(s) = staff_fns::message_status(id).await
                    && alive.get_value()
                {
                    email_status.set(Some(s));
                }
            }
        });
    }
    // The print dialog opens once the letter is on screen.
    Effect::new(move |_| {
        let _ = window().print();
    });
    let to = letter
        .email
        .as_ref()
        .map(|e| e.to.clone())
        .unwrap_or_default();
    // The staff screen's own line: English, like the rest of the console.
    let email_line = move || match email_status.get() {
        Some(s) => email_status_text(s, &to),
        None => t("st-letter-email-none"),
    };
    let text = letter.text.clone();
    // The printed line, in the patient's language: the one true when the letter is printed.
    let lines = text.email.clone();
    let printed_email_line = move || match email_status.get() {
        Some(DeliveryStatus::Sent) => lines.sent.clone(),
        Some(DeliveryStatus::Queued | DeliveryStatus::Sending) => lines.queued.clone(),
        Some(DeliveryStatus::Failed | DeliveryStatus::Expired | DeliveryStatus::Cancelled) => {
            lines.failed.clone()
        }
        None => lines.none.clone(),
    };
    let lang = text.lang;
    let address: Vec<String> = letter
        .clinic_address
        .split([',', '\n'])
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    view! {
        <section class="card letter">
            <div class="no-print">
                <PageHeading text=t("st-letter-title") />
                <p role="status" class="notice">{email_line}</p>
                <div class="button-row">
                    <button type="button" class="primary" on:click=move |_| { let _ = window().print(); }>{t("st-print")}</button>
                    <button type="button" on:click=move |_| on_close.run(())>{t("st-letter-done")}</button>
                </div>
            </div>
            <article class="printable" lang=lang.code() aria-label=t("st-letter-title")>
                <header>
                    <p class="letter-clinic">{letter.clinic_name.clone()}</p>
                    {address.into_iter().map(|l| view! { <p class="letter-address">{l}</p> }).collect_view()}
                    {(!letter.clinic_phone.is_empty()).then(|| view! { <p class="letter-address">{letter.clinic_phone.clone()}</p> })}
                </header>
                <p>{text.dear}</p>
                <p>{text.intro}</p>
                <dl class="letter-credentials">
                    <dt>{text.portal_label}</dt><dd>{letter.portal_url.clone()}</dd>
                    <dt>{text.username_label}</dt><dd class="mono">{letter.username.clone()}</dd>
                    {letter.temporary_password.clone().or(letter.activation_code.clone()).map(|p| view! {
                        <dt>{text.secret_label.clone()}</dt><dd class="mono secret" class:long=is_long(&p)>{grouped(&p)}</dd>
                    })}
                    {letter.activation_expires_at_ms.map(|ms| view! {
                        <dt>{text.good_until_label.clone()}</dt><dd>{when_in(ms, lang)}</dd>
                    })}
                </dl>
                <h2>{text.steps_title}</h2>
                <ol>{text.steps.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}</ol>
                <p>{printed_email_line}</p>
                <p>{text.keep_safe}</p>
                <Taglines lines=text.language_help />
            </article>
        </section>
    }
}

/// A time as the patient reads it in their language (`es-US`: "2/12/2026, 9:30:00 a.m."), in
/// this browser's time zone, which is the clinic's.
fn when_in(ms: i64, lang: Lang) -> String {
    js_sys::Date::new(&(ms as f64).into())
        .to_locale_string(lang.tag(), &js_sys::Object::new())
        .into()
}

/// A secret staff typed can be far longer than a line; only that may wrap (at any point: a
/// generated password or a code never gets here).
fn is_long(secret: &str) -> bool {
    secret.chars().count() > 28
}

/// A password or code as the patient must type it, in groups they can keep their place in:
/// the hyphens and spaces it has are its own (shown, a little apart), and a code of digits
/// only is split in fours by spacing alone. No character is added, so what is copied is
/// exactly the secret; the stylesheet keeps it on one line, because a break after a hyphen
/// leaves the patient guessing whether the hyphen belongs to the password.
fn grouped(secret: &str) -> impl IntoView + use<> {
    let mut parts: Vec<AnyView> = vec![];
    if secret.chars().all(|c| c.is_ascii_digit()) {
        let digits: Vec<char> = secret.chars().collect();
        for chunk in digits.chunks(4) {
            let text: String = chunk.iter().collect();
            parts.push(view! { <span class="group">{text}</span> }.into_any());
        }
    } else {
        let mut group = String::new();
        for c in secret.chars() {
            if c == '-' || c.is_whitespace() {
                if !group.is_empty() {
                    parts.push(view! { <span>{std::mem::take(&mut group)}</span> }.into_any());
                }
                parts.push(view! { <span class="sep">{c.to_string()}</span> }.into_any());
            } else {
                group.push(c);
            }
        }
        if !group.is_empty() {
            parts.push(view! { <span>{group}</span> }.into_any());
        }
    }
    view! { <span class="grouped" translate="no">{parts}</span> }
}
