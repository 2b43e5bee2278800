//! The sign-in form, used by the patient portal and the staff console.

use carekey_shared::{ApiError, Portal, SessionInfo, server_fns};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::errors::error_text;
use crate::fields::{PasswordField, TextField};
use crate::i18n::{t, t_args, t_num};
use crate::language::kept;
use crate::passkey;
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
    /// Where "Forgot your password or username?" leads.
    forgot_href: &'static str,
    /// The page that asks for the second step, once the password was right.
    second_step_href: &'static str,
) -> impl IntoView {
    let session = use_session();
    let go = crate::nav::use_go();
    // What was typed survives a language switch (it re-renders the page).
    let identifier = kept("sign-in.identifier", String::new);
    let password = kept("sign-in.password", String::new);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let failures = kept("sign-in.failures", || 0u32);
    // After any failed sign-in: how the pause works, the way out, and who to call. Everyone
    // sees the same help whatever they typed: a paused account, an unknown name and a wrong
    // password must read alike (SECURITY.md E1, E3), so the help has to fit all three.
    let failed = kept("sign-in.failed", || false);
    // Someone who could not sign in may need the recovery pages next: their files are fetched
    // ahead, so those pages open at once (first_page::fetch_recovery_ahead).
    Effect::new(move |_| {
        if failed.get() {
            crate::first_page::fetch_recovery_ahead();
        }
    });
    let pause_rule = move || {
        let p = session.portal.get()?;
        (p.lockout_threshold > 0).then(|| {
            let duration = t_num(
                "sign-in-pause-duration",
                "minutes",
                p.lockout_minutes as i64,
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

    // Where a sign-in goes once it is whole, or on to its second step.
    let go_on = {
        let go = go.clone();
        Callback::new(move |info: SessionInfo| {
            password.set(String::new());
            failures.set(0);
            failed.set(false);
            if info.second_step.is_some() {
                // The second step's page is its own download (issue 12), so the first page
                // every visitor loads does not carry it.
                go(second_step_href);
            } else {
                session.signed_in(info.clone());
                on_success.run(info);
            }
        })
    };
    let passkeys = Passkeys::new(portal, error, failed, go_on);

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
        passkeys.stop_autofill();
        spawn_local(async move {
            let result = carekey_shared::server_fns::sign_in(portal, id, pw).await;
            busy.set(false);
            match result {
                Ok(info) => go_on.run(info),
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
                    passkeys.resume_autofill();
                }
                Err(e) => {
                    failed.set(false);
                    error.set(Some(error_text(&e)));
                    passkeys.resume_autofill();
                }
            }
        });
    };

    let password_form = move || {
        view! {
            // "post": were it ever sent as a plain form (before the app runs), the password
            // must not end up in the address.
            <form class="stack" method="post" on:submit=submit novalidate>
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
                // "webauthn": the browser may offer this site's passkeys among the usernames it
                // suggests here (conditional mediation), without the page asking for a name.
                <TextField
                    id="identifier"
                    label=t("sign-in-identifier")
                    value=identifier
                    autocomplete="username webauthn"
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
                <Show when=move || passkeys.offered.get()>
                    <button type="button" on:click=move |_| passkeys.with_button()
                        aria-disabled=move || if passkeys.busy.get() { "true" } else { "false" }>
                        {move || if passkeys.busy.get() { t("sign-in-busy") } else { t("sign-in-passkey") }}
                    </button>
                </Show>
                <p class="links">
                    <a href=forgot_href
                        on:pointerenter=|_| crate::first_page::fetch_recovery_ahead()
                        on:focus=|_| crate::first_page::fetch_recovery_ahead()
                        on:touchstart=|_| crate::first_page::fetch_recovery_ahead()>
                        {t("sign-in-forgot-password")}
                    </a>
                </p>
            </form>
        }
    };
    password_form()
}

/// Signing in with a passkey alone (SECURITY.md M3): offered in the username field's autofill
/// as the page opens, and on a button for everyone whose browser shows no such suggestions
/// (and for keyboard and screen-reader users, who may never open them).
#[derive(Clone, Copy)]
struct Passkeys {
    portal: Portal,
    error: RwSignal<Option<String>>,
    /// The password form's "failed sign-in" help: never shown with a passkey's message.
    failed: RwSignal<bool>,
    go_on: Callback<SessionInfo>,
    /// The clinic's address allows passkeys and this browser has them.
    offered: RwSignal<bool>,
    busy: RwSignal<bool>,
    /// The autofill's request, stored before anything is awaited so that a submit, the
    /// button or leaving the page always finds it to cancel.
    autofill: StoredValue<Option<passkey::Abort>, LocalStorage>,
}

impl Passkeys {
    fn new(
        portal: Portal,
        error: RwSignal<Option<String>>,
        failed: RwSignal<bool>,
        go_on: Callback<SessionInfo>,
    ) -> Self {
        let session = use_session();
        // Known at once when the clinic was written into the page: the button is then in the
        // first frame, where the server's drawing has it too.
        let offered_now = session
            .portal
            .get_untracked()
            .is_some_and(|c| match portal {
                Portal::Patient => c.passkeys,
                Portal::Staff => c.staff_passkeys,
            })
            && passkey::supported();
        let p = Passkeys {
            portal,
            error,
            failed,
            go_on,
            offered: RwSignal::new(offered_now),
            busy: RwSignal::new(false),
            autofill: StoredValue::new_local(None),
        };
        Effect::new(move |started: Option<bool>| {
            if started == Some(true) {
                return true;
            }
            let on = session.portal.get().is_some_and(|c| match p.portal {
                Portal::Patient => c.passkeys,
                Portal::Staff => c.staff_passkeys,
            }) && passkey::supported();
            p.offered.set(on);
            if on {
                p.start_autofill();
            }
            on
        });
        on_cleanup(move || p.stop_autofill());
        p
    }

    /// Starts (or starts again) the autofill's request with a fresh ceremony. Also after a
    /// failed or cancelled attempt, so the suggestions keep working while the page is open.
    fn start_autofill(self) {
        self.stop_autofill();
        let Some(abort) = passkey::Abort::new() else {
            return;
        };
        let signal = abort.signal();
        // The page was left meanwhile: nothing to start.
        if let Some(Some(unused)) = self.autofill.try_set_value(Some(abort)) {
            unused.abort();
            return;
        }
        spawn_local(async move {
            if !passkey::autofill_available().await || passkey::aborted(signal.as_ref()) {
                return;
            }
            let Ok(c) = server_fns::passkey_sign_in_options().await else {
                return;
            };
            if passkey::aborted(signal.as_ref()) {
                return;
            }
            // Cancelled: the person typed a password instead, pressed the button, or left.
            if let Ok(credential) = passkey::get(&c.options, true, signal).await {
                self.finish(c.id, credential).await;
            }
        });
    }

    fn stop_autofill(self) {
        if let Some(Some(a)) = self.autofill.try_update_value(Option::take) {
            a.abort();
        }
    }

    /// After a password sign-in that failed: the suggestions are offered again.
    fn resume_autofill(self) {
        if self.offered.try_get_untracked().unwrap_or(false) {
            self.start_autofill();
        }
    }

    fn with_button(self) {
        if self.busy.get_untracked() {
            return;
        }
        self.stop_autofill();
        self.busy.set(true);
        self.failed.set(false);
        self.error.set(None);
        spawn_local(async move {
            let c = match server_fns::passkey_sign_in_options().await {
                Ok(c) => c,
                Err(e) => {
                    self.busy.set(false);
                    self.error.set(Some(error_text(&e)));
                    return;
                }
            };
            match passkey::get(&c.options, false, None).await {
                Ok(credential) => self.finish(c.id, credential).await,
                Err(passkey::PasskeyError::Cancelled) => {
                    self.error.set(Some(t("sign-in-passkey-cancelled")));
                    self.resume_autofill();
                }
                Err(_) => {
                    self.error.set(Some(t("sign-in-passkey-failed")));
                    self.resume_autofill();
                }
            }
            self.busy.set(false);
        });
    }

    async fn finish(self, ceremony: String, credential: String) {
        self.busy.set(true);
        let r = server_fns::passkey_sign_in(self.portal, ceremony, credential).await;
        self.busy.set(false);
        // The page may have been left meanwhile: then there is nothing to go on to.
        match r {
            Ok(info) => {
                self.go_on.try_run(info);
            }
            // Not counted toward the page's failures: a passkey is not a guess.
            Err(e) => {
                self.failed.set(false);
                self.error.set(Some(match e {
                    ApiError::SignInFailed => t("sign-in-passkey-failed"),
                    e => error_text(&e),
                }));
                self.resume_autofill();
            }
        }
    }
}
