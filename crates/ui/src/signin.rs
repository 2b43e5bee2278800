//! The sign-in form, used by the patient portal and the staff console.

use carekey_shared::{ApiError, Portal, SessionInfo};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::errors::error_text;
use crate::fields::{Alert, PasswordField, TextField};
use crate::i18n::t;
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
    let identifier = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let failures = RwSignal::new(0u32);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let id = identifier.get_untracked();
        let pw = password.get_untracked();
        if id.trim().is_empty() || pw.is_empty() {
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
                    session.signed_in(info.clone());
                    on_success.run(info);
                }
                Err(ApiError::SignInFailed) => {
                    password.set(String::new());
                    let n = failures.get_untracked() + 1;
                    failures.set(n);
                    error.set(Some(if n >= ESCALATE_AFTER {
                        t("error-sign-in-locked-maybe")
                    } else {
                        t("error-sign-in-failed")
                    }));
                }
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };

    view! {
        <form class="stack" on:submit=submit novalidate>
            <Alert message=error id="sign-in-error" />
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
}
