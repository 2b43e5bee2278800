//! Change-password form with live hints from the shared policy: the same rules the server
//! enforces, shown while the person types, and quiet once they are met.

use carekey_shared::ApiError;
use carekey_shared::policy::{DEFAULT_MIN_CHARS, PasswordPolicy, PolicyIssue};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::errors::{error_text, policy_text};
use crate::fields::{Alert, PasswordField};
use crate::i18n::t;
use crate::session::use_session;

#[component]
pub fn ChangePasswordForm(
    /// The account was given a temporary password and must choose its own now.
    forced: bool,
    on_done: Callback<()>,
) -> impl IntoView {
    let session = use_session();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let policy = move || PasswordPolicy {
        min_chars: session
            .portal
            .get()
            .map(|p| p.password_min_length)
            .unwrap_or(DEFAULT_MIN_CHARS),
    };

    let issues = move || {
        let n = new.get();
        if n.is_empty() {
            vec![]
        } else {
            policy().check(&n)
        }
    };
    let mismatch = move || !repeat.get().is_empty() && repeat.get() != new.get();

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        if new.get_untracked() != repeat.get_untracked() {
            error.set(Some(t("error-passwords-differ")));
            return;
        }
        let found = policy().check(&new.get_untracked());
        if !found.is_empty() {
            error.set(Some(error_text(&ApiError::PasswordRejected(found))));
            return;
        }
        busy.set(true);
        error.set(None);
        let (c, n, r) = (
            current.get_untracked(),
            new.get_untracked(),
            repeat.get_untracked(),
        );
        spawn_local(async move {
            let result = carekey_shared::server_fns::change_password(c, n, r).await;
            busy.set(false);
            match result {
                Ok(info) => {
                    current.set(String::new());
                    new.set(String::new());
                    repeat.set(String::new());
                    session.signed_in(info);
                    on_done.run(());
                }
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };

    view! {
        <form class="stack" on:submit=submit novalidate>
            <Alert message=error id="change-error" />
            <PasswordField
                id="current-password"
                label=if forced { t("change-temporary-password") } else { t("change-current-password") }
                value=current
                autocomplete="current-password"
            />
            <PasswordField
                id="new-password"
                label=t("change-new-password")
                value=new
                autocomplete="new-password"
                describedby="password-hints"
            />
            <ul id="password-hints" class="hints" aria-live="polite">
                <Show
                    when=move || !new.get().is_empty()
                    fallback=|| view! { <li>{t("hint-start")}</li> }
                >
                    <For
                        each=issues
                        key=|i: &PolicyIssue| format!("{i:?}")
                        children=|i: PolicyIssue| view! { <li class="unmet">{policy_text(&i)}</li> }
                    />
                    <Show when=move || issues().is_empty()>
                        <li class="met">{t("hint-all-met")}</li>
                    </Show>
                </Show>
            </ul>
            <PasswordField
                id="repeat-password"
                label=t("change-repeat-password")
                value=repeat
                autocomplete="new-password"
            />
            <Show when=mismatch>
                <p class="field-note" role="status">{t("error-passwords-differ")}</p>
            </Show>
            <button type="submit" class="primary" disabled=move || busy.get()>
                {move || if busy.get() { t("saving") } else { t("change-save") }}
            </button>
        </form>
    }
}
