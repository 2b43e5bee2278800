//! The sign-in form, used by the patient portal and the staff console.

use carekey_shared::{ApiError, Portal, SecondStepMethod, SecondStepOffer, SessionInfo};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::errors::error_text;
use crate::fields::{PasswordField, TextField};
use crate::i18n::{t, t_args, t_num};
use crate::language::kept;
use crate::session::use_session;

/// After this many failures in a row on this page, the message says plainly that the account
/// may be paused and how to get in now. The server's answer is the same every time (it must
/// not reveal whether the account exists or is locked); only this page's own count changes
/// the wording.
const ESCALATE_AFTER: u32 = 5;

#[component]
pub fn SignInForm(
    portal: Portal,
    on_success: Callback<SessionInfo>,
    /// Where "Forgot your password?" leads.
    forgot_href: &'static str,
) -> impl IntoView {
    let session = use_session();
    // What was typed survives a language switch (it re-renders the page).
    let identifier = kept("sign-in.identifier", String::new);
    let password = kept("sign-in.password", String::new);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let failures = kept("sign-in.failures", || 0u32);
    // Set once the password was right and a second step is still to come (issue 12).
    let second = RwSignal::new(None::<SecondStepOffer>);
    // After any failed sign-in: how the pause works, the way out, and who to call. Everyone
    // sees the same help whatever they typed: a paused account, an unknown name and a wrong
    // password must read alike (SECURITY.md E1, E3), so the help has to fit all three.
    let failed = kept("sign-in.failed", || false);
    let pause_rule = move || {
        let p = session.portal.get()?;
        (p.lockout_threshold > 0).then(|| {
            let duration = t_num(
                "sign-in-pause-duration",
                "minutes",
                p.lockout_minutes as f64,
            );
            t_args(
                "sign-in-pause-rule",
                &[
                    ("threshold", p.lockout_threshold.to_string()),
                    ("duration", duration),
                ],
            )
        })
    };
    let who_to_call = move || match portal {
        Portal::Staff => t("sign-in-ask-admin"),
        Portal::Patient => {
            let (name, phone) = (session.clinic_name(), session.clinic_phone());
            if phone.is_empty() {
                t_args("sign-in-call-clinic", &[("clinic", name)])
            } else {
                t_args(
                    "sign-in-call-clinic-phone",
                    &[("clinic", name), ("phone", phone)],
                )
            }
        }
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let id = identifier.get_untracked();
        let pw = password.get_untracked();
        if id.trim().is_empty() || pw.is_empty() {
            failed.set(false);
            error.set(Some(t("sign-in-missing-fields")));
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let result = carekey_shared::server_fns::sign_in(portal, id, pw).await;
            busy.set(false);
            match result {
                Ok(info) => {
                    password.set(String::new());
                    failures.set(0);
                    failed.set(false);
                    if let Some(offer) = info.second_step.clone() {
                        second.set(Some(offer));
                    } else {
                        session.signed_in(info.clone());
                        on_success.run(info);
                    }
                }
                Err(ApiError::SignInFailed) => {
                    password.set(String::new());
                    let n = failures.get_untracked() + 1;
                    failures.set(n);
                    failed.set(true);
                    error.set(Some(if n >= ESCALATE_AFTER {
                        t("error-sign-in-locked-maybe")
                    } else {
                        t("error-sign-in-failed")
                    }));
                }
                Err(e) => {
                    failed.set(false);
                    error.set(Some(error_text(&e)));
                }
            }
        });
    };

    let finished = Callback::new(move |info: SessionInfo| {
        second.set(None);
        session.signed_in(info.clone());
        on_success.run(info);
    });
    // The half-done sign-in ended (timed out, or paused): back to the password, saying why.
    let restart = Callback::new(move |why: Option<String>| {
        second.set(None);
        error.set(why);
    });
    let password_form = move || {
        view! {
            <form class="stack" on:submit=submit novalidate>
                // One region, so the help is read out with the message it belongs to.
                <div id="sign-in-error" class="alert" role="alert" class:empty=move || error.get().is_none()>
                    {move || error.get().map(|e| view! { <p>{e}</p> })}
                    <Show when=move || failed.get() && error.get().is_some()>
                        {move || pause_rule().map(|r| view! { <p>{r}</p> })}
                        <p>
                            <a href=forgot_href>{t("sign-in-reset-link")}</a>
                            " "
                            {t("sign-in-reset-ends-pause")}
                        </p>
                        <p>{who_to_call}</p>
                    </Show>
                </div>
                <TextField
                    id="identifier"
                    label=t("sign-in-identifier")
                    value=identifier
                    autocomplete="username"
                />
                <PasswordField
                    id="password"
                    label=t("sign-in-password")
                    value=password
                    autocomplete="current-password"
                />
                <button type="submit" class="primary" aria-disabled=move || if busy.get() { "true" } else { "false" }>
                    {move || if busy.get() { t("sign-in-busy") } else { t("sign-in-submit") }}
                </button>
                <p class="links">
                    <a href=forgot_href>{t("sign-in-forgot-password")}</a>
                </p>
            </form>
        }
    };
    view! {
        <Show when=move || second.get().is_none() fallback=move || second.get().map(|offer| view! {
            <SecondStepForm offer=offer on_success=finished on_restart=restart />
        })>
            {password_form}
        </Show>
    }
}

/// The second step of a sign-in whose password was right: a code from the authenticator app
/// or a saved recovery code, with "try another way" for the methods the account has.
#[component]
fn SecondStepForm(
    offer: SecondStepOffer,
    on_success: Callback<SessionInfo>,
    on_restart: Callback<Option<String>>,
) -> impl IntoView {
    let method = RwSignal::new(offer.preferred);
    let others = offer.methods.clone();
    let code = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let choosing = RwSignal::new(false);
    let remember = RwSignal::new(false);
    let session = use_session();
    let remember_days = move || session.portal.get().map_or(0, |p| p.remember_days);
    let input = NodeRef::<leptos::html::Input>::new();
    // Focus moves to the code field when the step appears and when the method changes, so a
    // keyboard or screen-reader user is where the next thing to type is.
    Effect::new(move |_| {
        method.track();
        choosing.track();
        if let Some(el) = input.get() {
            let _ = el.focus();
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let typed = code.get_untracked();
        if typed.trim().is_empty() {
            error.set(Some(t("second-step-missing")));
            return;
        }
        busy.set(true);
        error.set(None);
        let m = method.get_untracked();
        let keep = remember.get_untracked();
        spawn_local(async move {
            let r = carekey_shared::server_fns::verify_second_step(m, typed, keep).await;
            busy.set(false);
            match r {
                Ok(info) => on_success.run(info),
                Err(ApiError::NotSignedIn) => on_restart.run(Some(t("second-step-expired"))),
                Err(ApiError::SecondStepFailed) => {
                    code.set(String::new());
                    error.set(Some(t("error-second-step-failed")));
                }
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    let intro = move || match method.get() {
        SecondStepMethod::AuthenticatorApp => t("second-step-app-intro"),
        SecondStepMethod::BackupCode => t("second-step-backup-intro"),
    };
    let label = move || match method.get() {
        SecondStepMethod::AuthenticatorApp => t("second-step-app-label"),
        SecondStepMethod::BackupCode => t("second-step-backup-label"),
    };
    let choice = move |m: SecondStepMethod| {
        let text = match m {
            SecondStepMethod::AuthenticatorApp => t("second-step-use-app"),
            SecondStepMethod::BackupCode => t("second-step-use-backup"),
        };
        view! {
            <li>
                <button type="button" class="link" on:click=move |_| {
                    method.set(m);
                    code.set(String::new());
                    error.set(None);
                    choosing.set(false);
                }>{text}</button>
            </li>
        }
    };
    let has_others = others.len() > 1;
    view! {
        <form class="stack" on:submit=submit novalidate aria-labelledby="second-step-title">
            <h2 id="second-step-title">{t("second-step-title")}</h2>
            <div id="second-step-error" class="alert" role="alert" class:empty=move || error.get().is_none()>
                {move || error.get().map(|e| view! { <p>{e}</p> })}
            </div>
            <p id="second-step-intro">{intro}</p>
            <div class="field">
                <label for="second-step-code">{label}</label>
                <input
                    id="second-step-code"
                    name="second-step-code"
                    type="text"
                    node_ref=input
                    inputmode=move || match method.get() {
                        SecondStepMethod::AuthenticatorApp => "numeric",
                        SecondStepMethod::BackupCode => "text",
                    }
                    autocomplete="one-time-code"
                    autocapitalize="none"
                    spellcheck="false"
                    aria-describedby="second-step-intro"
                    bind:value=code
                />
            </div>
            <Show when=move || { remember_days() > 0 }>
                <div class="field">
                    <label class="check" for="second-step-remember">
                        <input type="checkbox" id="second-step-remember" aria-describedby="second-step-remember-hint" bind:checked=remember />
                        {move || t_num("second-step-remember", "days", f64::from(remember_days()))}
                    </label>
                    <p class="hint" id="second-step-remember-hint">{t("second-step-remember-hint")}</p>
                </div>
            </Show>
            <button type="submit" class="primary" aria-disabled=move || if busy.get() { "true" } else { "false" }>
                {move || if busy.get() { t("second-step-busy") } else { t("second-step-submit") }}
            </button>
            <Show when=move || has_others>
                <button type="button" class="link" aria-expanded=move || if choosing.get() { "true" } else { "false" }
                    aria-controls="second-step-ways"
                    on:click=move |_| choosing.update(|c| *c = !*c)>
                    {t("second-step-other-way")}
                </button>
            </Show>
            <Show when=move || choosing.get()>
                <ul id="second-step-ways" class="menu">
                    {others.iter().copied().filter(|m| *m != method.get()).map(choice).collect_view()}
                </ul>
            </Show>
            <p class="links">
                <button type="button" class="link" on:click=move |_| on_restart.run(None)>
                    {t("second-step-start-over")}
                </button>
            </p>
        </form>
    }
}
