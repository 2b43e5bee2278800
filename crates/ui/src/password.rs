//! Change-password form with live hints from the shared policy: the same rules the server
//! enforces, shown while the person types, and quiet once they are met.

use carekey_shared::ApiError;
use carekey_shared::policy::{DEFAULT_MIN_CHARS, PasswordPolicy, PolicyContext, PolicyIssue};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::common_list::{ListState, ensure_loaded};
use crate::errors::{error_text, policy_text};
use crate::fields::{Alert, PasswordField};
use crate::i18n::{t, t_num};
use crate::page::{PageHeading, RequireSession};
use crate::session::use_session;

#[component]
pub fn ChangePasswordForm(
    /// The account was given a temporary password and must choose its own now.
    forced: bool,
    on_done: Callback<()>,
) -> impl IntoView {
    let session = use_session();
    // What was typed survives a language switch (it re-renders the page).
    let current = crate::language::kept("change.current", String::new);
    let new = crate::language::kept("change.new", String::new);
    let repeat = crate::language::kept("change.repeat", String::new);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let policy = move || policy_of(&session);
    // The forced change right after sign-in: the server still holds the proof of the temporary
    // password, so this page asks only for the new one twice. Past the proof's end (a page
    // left open), it asks for the temporary password again.
    let proof_secs = session
        .info
        .get_untracked()
        .map_or(0, |i| i.temporary_password_proof_secs);
    let proof_until = js_sys::Date::now() + proof_secs as f64 * 1000.0;
    let ask_current = RwSignal::new(!forced || proof_secs == 0);

    // What this page knows about the person; the server adds the rest (username, emails).
    let context = move || PolicyContext {
        words: [
            session.info.get().map(|i| i.display_name),
            session.portal.get().map(|p| p.clinic_name),
        ]
        .into_iter()
        .flatten()
        .collect(),
        current: Some(current.get()).filter(|c| !c.is_empty()),
        common: session.common_list.get().list(),
    };
    let issues = move || live_issues(&policy(), &new.get(), &context());

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        if !ask_current.get_untracked() && js_sys::Date::now() >= proof_until {
            ask_current.set(true);
            error.set(Some(t("forced-proof-expired")));
            return;
        }
        if ask_current.get_untracked() && current.get_untracked().is_empty() {
            error.set(Some(t(if forced {
                "change-missing-temporary"
            } else {
                "change-missing-current"
            })));
            return;
        }
        if let Some(why) = refusal_before_submit(
            &policy(),
            &new.get_untracked(),
            &repeat.get_untracked(),
            &context(),
        ) {
            error.set(Some(why));
            return;
        }
        busy.set(true);
        error.set(None);
        let (c, n, r) = (
            current.get_untracked(),
            new.get_untracked(),
            repeat.get_untracked(),
        );
        let leaned_on_sign_in = c.is_empty();
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
                // The server's proof ran out before this page's clock said so.
                Err(ApiError::CurrentPasswordIncorrect) if leaned_on_sign_in => {
                    ask_current.set(true);
                    error.set(Some(t("forced-proof-expired")));
                }
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };

    view! {
        <form class="stack" on:submit=submit novalidate>
            <Alert message=error id="change-error" />
            <Show when=move || ask_current.get()>
                <PasswordField
                    id="current-password"
                    label=if forced { t("change-temporary-password") } else { t("change-current-password") }
                    value=current
                    autocomplete="current-password"
                />
            </Show>
            <PasswordField
                id="new-password"
                label=t("change-new-password")
                value=new
                autocomplete="new-password"
                describedby="password-hints"
                on_focus=Callback::new(|_| ensure_loaded())
            />
            <PasswordHints new=new issues=Signal::derive(issues) />
            <PasswordField
                id="repeat-password"
                label=t("change-repeat-password")
                value=repeat
                autocomplete="new-password"
            />
            <RepeatMismatch new repeat error />
            <button type="submit" class="primary" aria-disabled=move || if busy.get() { "true" } else { "false" }>
                {move || if busy.get() { t("saving") } else { t("change-save") }}
            </button>
        </form>
    }
}

/// The `id` of the hints list; a new-password field names it in `aria-describedby`.
const HINTS_ID: &str = "password-hints";

/// What the hints say about the new password so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HintState {
    /// Nothing typed yet: how to choose a good password.
    Start,
    /// A too-short password still being typed. Most good passwords pass through a few common
    /// ones on the way ("sun", "sunflower"), so refusals now would scold a person who has not
    /// finished: only the length to reach, in neutral words.
    KeepGoing {
        min: usize,
    },
    /// The rules it breaks, once it is long enough or the person has left the field or sent
    /// the form.
    Unmet(Vec<PolicyIssue>),
    AllMet,
}

/// `settled`: the person left the field or sent the form, so every refusal is shown.
pub fn hint_state(new: &str, issues: &[PolicyIssue], settled: bool) -> HintState {
    if new.is_empty() {
        return HintState::Start;
    }
    let too_short = issues.iter().find_map(|i| match i {
        PolicyIssue::TooShort { min } => Some(*min),
        _ => None,
    });
    match too_short {
        Some(min) if !settled => HintState::KeepGoing { min },
        _ if issues.is_empty() => HintState::AllMet,
        _ => HintState::Unmet(issues.to_vec()),
    }
}

/// The live list of unmet rules under a new-password field (`id="password-hints"`, which the
/// field names in `aria-describedby`). Polite, so a screen reader hears the change after a
/// pause in typing, not at every key: the text changes only when the verdict does.
#[component]
pub fn PasswordHints(new: RwSignal<String>, issues: Signal<Vec<PolicyIssue>>) -> impl IntoView {
    let session = use_session();
    let list_failed = move || session.common_list.get() == ListState::Failed;
    let settled = RwSignal::new(false);
    watch_settled(new, settled);
    let state = Memo::new(move |_| hint_state(&new.get(), &issues.get(), settled.get()));
    let unmet = Memo::new(move |_| match state.get() {
        HintState::Unmet(found) => found,
        _ => vec![],
    });
    // A rough guide only, once every rule is met: length is what makes a passphrase strong.
    let strength = move || match state.get() {
        HintState::Start => None,
        HintState::KeepGoing { .. } => Some((0, t("strength-keep-going"))),
        HintState::Unmet(_) => Some((1, t("strength-too-weak"))),
        HintState::AllMet if new.get().chars().count() < 20 => Some((2, t("strength-good"))),
        HintState::AllMet => Some((3, t("strength-strong"))),
    };
    view! {
        <Show when=move || strength().is_some()>
            <p class="strength" id="password-strength">
                <span class="meter" aria-hidden="true">
                    <span class=move || format!("bar level-{}", strength().map_or(0, |s| s.0))></span>
                </span>
                {move || strength().map(|s| crate::i18n::t_args("strength-label", &[("level", s.1)]))}
            </p>
        </Show>
        <ul id=HINTS_ID class="hints" aria-live="polite">
            <Show when=list_failed>
                <li>{t("hint-common-list-unavailable")}</li>
            </Show>
            {move || match state.get() {
                HintState::Start => Some(view! { <li>{t("hint-start")}</li> }.into_any()),
                HintState::KeepGoing { min } => Some(
                    view! { <li class="pending">{t_num("hint-keep-going", "min", min as i64)}</li> }
                        .into_any(),
                ),
                HintState::AllMet => Some(view! { <li class="met">{t("hint-all-met")}</li> }.into_any()),
                HintState::Unmet(_) => None,
            }}
            <For
                each=move || unmet.get()
                key=|i: &PolicyIssue| format!("{i:?}")
                children=|i: PolicyIssue| view! { <li class="unmet">{policy_text(&i)}</li> }
            />
        </ul>
    }
}

/// Sets `settled` when the field these hints describe loses focus or its form is sent, and
/// clears it when the person comes back to the field or empties it. Listening at the window
/// keeps every form that shows the hints (patient, forced change, staff) free of wiring: the
/// field already names the hints in `aria-describedby`.
fn watch_settled(new: RwSignal<String>, settled: RwSignal<bool>) {
    fn describes_hints(target: &web_sys::Element) -> bool {
        target
            .get_attribute("aria-describedby")
            .is_some_and(|ids| ids.split_whitespace().any(|id| id == HINTS_ID))
    }
    let left = window_event_listener(leptos::ev::focusout, move |ev| {
        let target = event_target::<web_sys::Element>(&ev);
        if describes_hints(&target) && !new.get_untracked().is_empty() {
            settled.set(true);
        }
    });
    let back = window_event_listener(leptos::ev::focusin, move |ev| {
        if describes_hints(&event_target::<web_sys::Element>(&ev)) {
            settled.set(false);
        }
    });
    let sent = window_event_listener(leptos::ev::submit, move |ev| {
        let form = event_target::<web_sys::Element>(&ev);
        let selector = format!("#{HINTS_ID}");
        if form.query_selector(&selector).ok().flatten().is_some() {
            settled.set(true);
        }
    });
    on_cleanup(move || {
        left.remove();
        back.remove();
        sent.remove();
    });
    Effect::new(move |_| {
        if new.get().is_empty() {
            settled.set(false);
        }
    });
}

/// Under the repeat field: says the two passwords differ once the repeat can no longer become
/// the new one by typing on (not at its first letter), and takes a "not the same" refusal out
/// of the form's alert as soon as the two match, so nobody is left reading an error they have
/// already fixed.
#[component]
pub fn RepeatMismatch(
    new: RwSignal<String>,
    repeat: RwSignal<String>,
    /// The form's alert.
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let differs = move || {
        let (n, r) = (new.get(), repeat.get());
        !r.is_empty() && !n.starts_with(&r)
    };
    Effect::new(move |_| {
        let same = new.get() == repeat.get();
        let refused = t("error-passwords-differ");
        if same && error.get_untracked().is_some_and(|e| e == refused) {
            error.set(None);
        }
    });
    // Kept in the page while empty: a status region inserted with its text is often not read.
    view! {
        <p class="field-note" role="status">
            {move || differs().then(|| t("error-passwords-differ"))}
        </p>
    }
}

/// The rules a new password breaks, for the hints (none while the field is empty). The hints
/// decide when to show them (`hint_state`).
pub fn live_issues(policy: &PasswordPolicy, new: &str, ctx: &PolicyContext) -> Vec<PolicyIssue> {
    if new.is_empty() {
        vec![]
    } else {
        policy.check_with(new, ctx)
    }
}

/// Why a new-password form must not be sent yet, in words for its alert; None when it may go.
/// The server checks again; this only spares a round trip.
pub fn refusal_before_submit(
    policy: &PasswordPolicy,
    new: &str,
    repeat: &str,
    ctx: &PolicyContext,
) -> Option<String> {
    if new != repeat {
        return Some(t("error-passwords-differ"));
    }
    let found = policy.check_with(new, ctx);
    (!found.is_empty()).then(|| error_text(&ApiError::PasswordRejected(found)))
}

/// The clinic's policy as the browser knows it (the defaults until the clinic's facts load).
pub fn policy_of(session: &crate::session::SessionCtx) -> PasswordPolicy {
    session
        .portal
        .get()
        .map(|p| PasswordPolicy {
            min_chars: p.password_min_length,
            require_mix: p.password_require_mix,
        })
        .unwrap_or(PasswordPolicy {
            min_chars: DEFAULT_MIN_CHARS,
            require_mix: false,
        })
}

/// Where an app's signed-in pages are; the apps live under different paths.
#[derive(Clone, Copy)]
pub struct PageLinks {
    pub sign_in: &'static str,
    pub forced_change: &'static str,
    pub home: &'static str,
    /// Settings > Two-step verification.
    pub two_step: &'static str,
}

/// The patient's signed-in pages, in whichever bundle renders them.
pub const PATIENT_LINKS: PageLinks = PageLinks {
    sign_in: "/",
    forced_change: "/change-password",
    home: "/home",
    two_step: "/settings/two-step",
};

impl PageLinks {
    /// Where a person goes once signed in: the forced password change first, then adding the
    /// second step the clinic requires, then home (the server refuses the rest until then).
    pub fn after_sign_in(&self, info: &carekey_shared::SessionInfo) -> &'static str {
        if info.must_change_password {
            self.forced_change
        } else if info.must_add_second_step {
            self.two_step
        } else {
            self.home
        }
    }
}

/// The "Change password" page (patient Settings, staff user menu).
#[component]
pub fn ChangePasswordPage(
    links: PageLinks,
    back_href: &'static str,
    back_label: String,
) -> impl IntoView {
    let done = RwSignal::new(false);
    view! {
        <RequireSession sign_in_href=links.sign_in change_href=links.forced_change>
            <section class="card">
                <PageHeading text=t("change-title") />
                <Show
                    when=move || done.get()
                    fallback=move || view! {
                        <ChangePasswordForm forced=false on_done=Callback::new(move |_| done.set(true)) />
                    }
                >
                    <p role="status" class="success">{t("change-done")}</p>
                </Show>
                <p><a href=back_href>{back_label.clone()}</a></p>
            </section>
        </RequireSession>
    }
}

/// The only page an account with a temporary password can open until it has chosen its own.
#[component]
pub fn ForcedChangePage(links: PageLinks) -> impl IntoView {
    let navigate = crate::nav::use_go();
    view! {
        <RequireSession sign_in_href=links.sign_in change_href=links.forced_change allow_forced=true>
            <section class="card">
                <PageHeading text=t("forced-title") />
                <p>{t("forced-intro")}</p>
                <ChangePasswordForm
                    forced=true
                    on_done={
                        let navigate = navigate.clone();
                        Callback::new(move |_| navigate(links.home))
                    }
                />
            </section>
        </RequireSession>
    }
}

/// Settings: a new username, authorised by the current password.
#[component]
pub fn ChangeUsernamePage(
    links: PageLinks,
    back_href: &'static str,
    back_label: String,
) -> impl IntoView {
    let session = use_session();
    let current = crate::language::kept("username-change.current", String::new);
    let username = crate::language::kept("username-change.username", String::new);
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (c, u) = (
            current.get_untracked(),
            username.get_untracked().trim().to_owned(),
        );
        if c.is_empty() || u.is_empty() {
            error.set(Some(t("username-missing")));
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let r = carekey_shared::server_fns::change_username(c, u.clone()).await;
            busy.set(false);
            match r {
                Ok(info) => {
                    session.signed_in(info);
                    current.set(String::new());
                    done.set(Some(u));
                }
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    view! {
        <RequireSession sign_in_href=links.sign_in change_href=links.forced_change>
            <section class="card">
                <PageHeading text=t("username-change-title") />
                <Show
                    when=move || done.get().is_some()
                    fallback=move || view! {
                        <form class="stack" on:submit=submit novalidate>
                            <Alert message=error id="username-error" />
                            <crate::fields::TextField
                                id="new-username"
                                label=t("username-change-new")
                                value=username
                                autocomplete="username"
                                hint=t("username-change-hint")
                            />
                            <PasswordField
                                id="current-password"
                                label=t("change-current-password")
                                value=current
                                autocomplete="current-password"
                            />
                            <button type="submit" class="primary" aria-disabled=move || if busy.get() { "true" } else { "false" }>
                                {move || if busy.get() { t("saving") } else { t("username-change-save") }}
                            </button>
                        </form>
                    }
                >
                    <p role="status" class="success">
                        {move || crate::i18n::t_args("username-change-done", &[("username", done.get().unwrap_or_default())])}
                    </p>
                </Show>
                <p><a href=back_href>{back_label.clone()}</a></p>
            </section>
        </RequireSession>
    }
}
