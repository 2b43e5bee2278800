//! The credentials (or activation) letter: a print view that opens the browser's print dialog,
//! and says whether the email with the news went out, from the outbox's real status, updated
//! until delivery completes or fails.

use std::time::Duration;

use carekey_shared::staff::{CredentialsLetter, DeliveryStatus};
use carekey_shared::staff_fns;
use carekey_ui::page::PageHeading;
use carekey_ui::{t, t_args};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::chart::email_status_text;
use crate::when;

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
    let email_line = move || match email_status.get() {
        Some(s) => email_status_text(s, &to),
        None => t("st-letter-email-none"),
    };
    let steps: Vec<String> = if letter.activation_code.is_some() {
        vec![
            t_args("st-letter-step-open", &[("url", letter.portal_url.clone())]),
            t("st-letter-step-forgot"),
            t("st-letter-step-code"),
            t("st-letter-step-choose"),
        ]
    } else {
        vec![
            t_args("st-letter-step-open", &[("url", letter.portal_url.clone())]),
            t("st-letter-step-sign-in"),
            t("st-letter-step-choose"),
        ]
    };
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
            <article class="printable" aria-label=t("st-letter-title")>
                <header>
                    <p class="letter-clinic">{letter.clinic_name.clone()}</p>
                    {address.into_iter().map(|l| view! { <p class="letter-address">{l}</p> }).collect_view()}
                    {(!letter.clinic_phone.is_empty()).then(|| view! { <p class="letter-address">{letter.clinic_phone.clone()}</p> })}
                </header>
                <p>{t_args("st-letter-dear", &[("name", letter.patient_name.clone())])}</p>
                <p>{if letter.activation_code.is_some() { t("st-letter-intro-activation") } else { t("st-letter-intro-password") }}</p>
                <dl class="letter-credentials">
                    <dt>{t("st-letter-portal")}</dt><dd>{letter.portal_url.clone()}</dd>
                    <dt>{t("st-username")}</dt><dd class="mono">{letter.username.clone()}</dd>
                    {letter.temporary_password.clone().map(|p| view! {
                        <dt>{t("st-letter-temporary-password")}</dt><dd class="mono secret" class:long=is_long(&p)>{grouped(&p)}</dd>
                    })}
                    {letter.activation_code.clone().map(|c| view! {
                        <dt>{t("st-letter-activation-code")}</dt><dd class="mono secret" class:long=is_long(&c)>{grouped(&c)}</dd>
                    })}
                    {letter.activation_expires_at_ms.map(|ms| view! {
                        <dt>{t("st-letter-good-until")}</dt><dd>{when(ms)}</dd>
                    })}
                </dl>
                <h2>{t("st-letter-steps")}</h2>
                <ol>{steps.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}</ol>
                <p>{email_line_static(&letter)}</p>
                <p>{t("st-letter-keep-safe")}</p>
            </article>
        </section>
    }
}

/// The printed sentence about the email: printed once, so it says what was known at print time.
fn email_line_static(letter: &CredentialsLetter) -> String {
    match &letter.email {
        Some(e) if e.status == DeliveryStatus::Failed => {
            t_args("st-letter-email-failed", &[("to", e.to.clone())])
        }
        Some(e) => t_args("st-letter-print-email", &[("to", e.to.clone())]),
        None => t("st-letter-email-none"),
    }
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
