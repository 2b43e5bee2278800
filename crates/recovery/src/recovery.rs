//! Forgot password (email link, email code, text, call), the link landing page, and forgot
//! username.
//!
//! Until a code or link is proved, every page says the same thing whoever typed what: "if an
//! account matches and has … on file, we sent it there" (SECURITY.md E1). Masked contacts
//! appear only after the proof.

use carekey_shared::policy::PolicyContext;
use carekey_shared::server_fns;
use carekey_shared::{
    ApiError, CodeProblem, IdentifierMode, LinkPreview, RecoveryAccepted, RecoveryChannel,
    RecoveryIdentity, ResetGrant, UsernameLookup, normalize_code,
};
use carekey_ui::errors::error_text;
use carekey_ui::fields::{Alert, PasswordField, TextField};
use carekey_ui::i18n::{Arg, t_num, t_with};
use carekey_ui::language::kept;
use carekey_ui::page::PageHeading;
use carekey_ui::password::{PasswordHints, RepeatMismatch, live_issues, refusal_before_submit};
use carekey_ui::session::use_session;
use carekey_ui::{t, t_args};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[derive(Clone, PartialEq)]
enum Step {
    Identify,
    /// The patient has a code from the clinic (a desk code or an activation letter).
    ClinicCode,
    Sent(RecoveryAccepted),
    NewPassword(ResetGrant),
    Done,
}

fn channel_label(c: RecoveryChannel) -> String {
    t(match c {
        RecoveryChannel::EmailLink => "recover-channel-email-link",
        RecoveryChannel::EmailCode => "recover-channel-email-code",
        RecoveryChannel::Sms => "recover-channel-sms",
        RecoveryChannel::Voice => "recover-channel-voice",
    })
}

fn aria_busy(busy: RwSignal<bool>) -> impl Fn() -> &'static str + Copy {
    move || if busy.get() { "true" } else { "false" }
}

/// Tips from the clinic's own help text, for when nothing arrives, for the way it was sent
/// (None when the page does not know: a username reminder, a link that did not work). They
/// describe how each way works, the same for everyone, and never what one account has on file
/// (SECURITY.md E1).
#[component]
fn NothingArrived(#[prop(optional)] channel: Option<RecoveryChannel>) -> impl IntoView {
    let session = use_session();
    let phone = move || session.clinic_phone();
    let name = move || session.clinic_name();
    let call_offered = move || {
        session
            .portal
            .get()
            .is_some_and(|p| p.recovery.channels.contains(&RecoveryChannel::Voice))
    };
    // Each id is written out in a `t("…")` call so the catalogue test sees it.
    let tips = move || -> Vec<String> {
        match channel {
            Some(RecoveryChannel::Sms) => {
                let mut tips = vec![t("tip-sms-app"), t("tip-sms-number")];
                if call_offered() {
                    tips.push(t("tip-sms-landline"));
                }
                tips.extend([t("tip-expiry"), t("tip-official-page")]);
                tips
            }
            Some(RecoveryChannel::Voice) => vec![
                t("tip-voice-answer"),
                t("tip-voice-number"),
                t("tip-voice-missed"),
                t("tip-official-page"),
            ],
            Some(RecoveryChannel::EmailLink | RecoveryChannel::EmailCode) | None => vec![
                t("tip-spam"),
                t("tip-original-email"),
                t("tip-expiry"),
                t("tip-official-page"),
            ],
        }
    };
    view! {
        <h2 id="nothing-arrived">{t("recover-nothing-arrived")}</h2>
        <ul aria-labelledby="nothing-arrived">
            {move || tips().into_iter().map(|tip| view! { <li>{tip}</li> }).collect_view()}
            <li>
                {move || if phone().is_empty() {
                    t_args("tip-call-clinic", &[("clinic", name())])
                } else {
                    t_args("tip-call-clinic-phone", &[("clinic", name()), ("phone", phone())])
                }}
            </li>
        </ul>
    }
}

/// How the patient proved control before choosing a new password, for the thank-you line.
#[derive(Clone, Copy, PartialEq)]
enum Proof {
    /// A code we sent (or one typed on the clinic-code page).
    Code,
    Link,
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    // The step and what was typed survive a language switch: a half-done recovery is not
    // lost by asking for the page in Spanish.
    let step = kept("forgot.step", || Step::Identify);
    let identifier = kept("forgot.identifier", String::new);
    let email = kept("forgot.email", String::new);
    let channel = kept("forgot.channel", || None::<RecoveryChannel>);
    let who = move || RecoveryIdentity {
        identifier: identifier.get_untracked(),
        email: email.get_untracked(),
    };
    view! {
        <section class="card">
            {move || match step.get() {
                Step::Identify => view! {
                    <IdentifyStep identifier email channel
                        on_sent=Callback::new(move |a| step.set(Step::Sent(a)))
                        on_clinic_code=Callback::new(move |_| step.set(Step::ClinicCode)) />
                }.into_any(),
                Step::ClinicCode => view! {
                    <ClinicCodeStep
                        identifier
                        email
                        on_grant=Callback::new(move |g| step.set(Step::NewPassword(g)))
                        on_back=Callback::new(move |_| step.set(Step::Identify))
                    />
                }.into_any(),
                Step::Sent(accepted) => view! {
                    <SentStep
                        accepted
                        who=Signal::derive(who)
                        on_grant=Callback::new(move |g| step.set(Step::NewPassword(g)))
                        on_restart=Callback::new(move |_| step.set(Step::Identify))
                    />
                }.into_any(),
                Step::NewPassword(grant) => view! {
                    <NewPasswordStep
                        grant
                        proof=Proof::Code
                        known_words=Signal::derive(move || vec![identifier.get(), email.get()])
                        on_done=Callback::new(move |_| step.set(Step::Done))
                    />
                }.into_any(),
                Step::Done => view! { <DoneStep /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn IdentifyStep(
    identifier: RwSignal<String>,
    email: RwSignal<String>,
    channel: RwSignal<Option<RecoveryChannel>>,
    on_sent: Callback<RecoveryAccepted>,
    on_clinic_code: Callback<()>,
) -> impl IntoView {
    let session = use_session();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let options = move || session.portal.get().map(|p| p.recovery);
    let mode = move || options().map_or(IdentifierMode::Either, |o| o.identifier);
    let channels = move || options().map(|o| o.channels).unwrap_or_default();
    // The first channel on offer is chosen unless the patient picks another.
    let chosen = move || channel.get().or_else(|| channels().first().copied());

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        if let Some(why) =
            missing_identity(mode(), &identifier.get_untracked(), &email.get_untracked())
        {
            error.set(Some(why));
            return;
        }
        let Some(c) = chosen() else { return };
        busy.set(true);
        error.set(None);
        let who = RecoveryIdentity {
            identifier: identifier.get_untracked().trim().to_owned(),
            email: email.get_untracked().trim().to_owned(),
        };
        spawn_local(async move {
            let r = server_fns::request_reset(who, c, Some(carekey_ui::i18n::lang())).await;
            busy.set(false);
            match r {
                Ok(a) => on_sent.run(a),
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };

    let first = move || identifier_field(mode());
    view! {
        <PageHeading text=t("forgot-title") />
        <p>{t("recover-intro")}</p>
        <Show
            when=move || options().is_some()
            fallback=|| view! { <p role="status">{t("loading")}</p> }
        >
            <Show
                when=move || !channels().is_empty()
                fallback=|| view! { <p>{t("forgot-call-clinic")}</p> }
            >
                <form class="stack" on:submit=submit novalidate>
                    <Alert message=error id="recover-error" />
                    <TextField
                        id="recover-identifier"
                        label=first().0
                        value=identifier
                        autocomplete=first().2
                        input_type=first().1
                        inputmode=if first().1 == "email" { "email" } else { "text" }
                    />
                    <Show when=move || mode() == IdentifierMode::Both>
                        <TextField
                            id="recover-email"
                            label=t("recover-email")
                            value=email
                            autocomplete="email"
                            input_type="email"
                            inputmode="email"
                        />
                    </Show>
                    <fieldset class="choices">
                        <legend>{t("recover-how")}</legend>
                        <p class="hint" id="recover-how-hint">{t("recover-how-hint")}</p>
                        <For
                            each=channels
                            key=|c| *c
                            children=move |c: RecoveryChannel| {
                                let id = format!("channel-{}", c.as_str());
                                view! {
                                    <div class="choice">
                                        <input
                                            type="radio"
                                            name="channel"
                                            id=id.clone()
                                            aria-describedby="recover-how-hint"
                                            prop:checked=move || chosen() == Some(c)
                                            on:change=move |_| channel.set(Some(c))
                                        />
                                        <label for=id>{channel_label(c)}</label>
                                    </div>
                                }
                            }
                        />
                    </fieldset>
                    <button type="submit" class="primary" aria-disabled=aria_busy(busy)>
                        {move || if busy.get() { t("sending") } else { t("recover-send") }}
                    </button>
                </form>
            </Show>
        </Show>
        <p><button type="button" class="link" on:click=move |_| on_clinic_code.run(())>{t("recover-have-clinic-code")}</button></p>
        <p><a href="/forgot-username">{t("recover-forgot-username-link")}</a></p>
        <CallInstead />
        <p><a href="/">{t("back-sign-in")}</a></p>
    }
}

/// What the patient still has to fill in to name their account, in words; None when enough.
fn missing_identity(mode: IdentifierMode, identifier: &str, email: &str) -> Option<String> {
    let missing =
        identifier.trim().is_empty() || (mode == IdentifierMode::Both && email.trim().is_empty());
    missing.then(|| {
        t(match mode {
            IdentifierMode::Username => "recover-missing-username",
            IdentifierMode::Email => "recover-missing-email",
            IdentifierMode::Either => "recover-missing-identifier",
            IdentifierMode::Both => "recover-missing-both",
        })
    })
}

/// The label, input type and autocomplete of the field that names the account, as the clinic's
/// `recovery.identifier` setting asks for it.
fn identifier_field(mode: IdentifierMode) -> (String, &'static str, &'static str) {
    match mode {
        IdentifierMode::Username | IdentifierMode::Both => {
            (t("recover-username"), "text", "username")
        }
        IdentifierMode::Email => (t("recover-email"), "email", "email"),
        IdentifierMode::Either => (t("sign-in-identifier"), "text", "username"),
    }
}

/// A code the clinic gave the patient at the desk, on the phone or in an activation letter:
/// their username and the code, then a new password. The same guesses and limits apply as to
/// a code that came by message (R6).
#[component]
fn ClinicCodeStep(
    identifier: RwSignal<String>,
    email: RwSignal<String>,
    on_grant: Callback<ResetGrant>,
    on_back: Callback<()>,
) -> impl IntoView {
    let session = use_session();
    let mode = move || {
        session
            .portal
            .get()
            .map_or(IdentifierMode::Either, |p| p.recovery.identifier)
    };
    let first = move || identifier_field(mode());
    let code = kept("clinic-code.code", String::new);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        if let Some(why) =
            missing_identity(mode(), &identifier.get_untracked(), &email.get_untracked())
        {
            error.set(Some(why));
            return;
        }
        let Some(c) = normalize_code(&code.get_untracked()) else {
            error.set(Some(t("recover-code-format")));
            return;
        };
        busy.set(true);
        error.set(None);
        let who = RecoveryIdentity {
            identifier: identifier.get_untracked(),
            email: email.get_untracked(),
        };
        spawn_local(async move {
            let r = server_fns::verify_reset_code(who, c).await;
            busy.set(false);
            match r {
                Ok(g) => on_grant.run(g),
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    view! {
        <PageHeading text=t("recover-clinic-code-title") />
        <p>{t("recover-clinic-code-intro")}</p>
        <form class="stack" on:submit=submit novalidate>
            <Alert message=error id="clinic-code-error" />
            <TextField
                id="clinic-identifier"
                label=first().0
                value=identifier
                autocomplete=first().2
                input_type=first().1
                inputmode=if first().1 == "email" { "email" } else { "text" }
            />
            <Show when=move || mode() == IdentifierMode::Both>
                <TextField id="clinic-email" label=t("recover-email") value=email autocomplete="email" input_type="email" inputmode="email" />
            </Show>
            <TextField
                id="clinic-code"
                label=t("recover-code")
                value=code
                autocomplete="one-time-code"
                inputmode="numeric"
                hint=t("recover-code-hint")
            />
            <button type="submit" class="primary" aria-disabled=aria_busy(busy)>
                {move || if busy.get() { t("checking") } else { t("recover-continue") }}
            </button>
        </form>
        <p><button type="button" class="link" on:click=move |_| on_back.run(())>{t("recover-another-way")}</button></p>
        <CallInstead />
    }
}

/// For patients whose email or phone has changed, or who cannot use either.
#[component]
fn CallInstead() -> impl IntoView {
    let session = use_session();
    let text = move || {
        let name = session.clinic_name();
        let phone = session.clinic_phone();
        if phone.is_empty() {
            t_args("recover-call-instead", &[("clinic", name)])
        } else {
            t_args(
                "recover-call-instead-phone",
                &[("clinic", name), ("phone", phone)],
            )
        }
    };
    view! { <p>{text}</p> }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

#[component]
fn SentStep(
    accepted: RecoveryAccepted,
    who: Signal<RecoveryIdentity>,
    on_grant: Callback<ResetGrant>,
    on_restart: Callback<()>,
) -> impl IntoView {
    let current = kept("sent.current", || accepted);
    let code = kept("sent.code", String::new);
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // Set when the code expired or was used: it cannot come back, so the page leads with the
    // one way on (a new code) and drops everything that points back at the spent one.
    let spent = kept("sent.spent", || false);
    let resend_at = kept("sent.resend-at", || {
        now_ms() + current.get_untracked().resend_after_secs as f64 * 1000.0
    });
    let tick = RwSignal::new(now_ms());
    if let Ok(handle) = set_interval_with_handle(
        move || tick.set(now_ms()),
        std::time::Duration::from_secs(1),
    ) {
        on_cleanup(move || handle.clear());
    }
    let wait_secs = move || ((resend_at.get() - tick.get()) / 1000.0).ceil().max(0.0) as u64;
    let channel = move || current.get().channel;
    let minutes = move || current.get().expires_in_secs.div_ceil(60) as i64;
    let reference = move || current.get().reference;

    // A new code goes the same way as the first, so the channel of the page never changes.
    let sent_by = current.get_untracked().channel;
    let heading = match sent_by {
        RecoveryChannel::EmailLink | RecoveryChannel::EmailCode => t("recover-check-email"),
        RecoveryChannel::Sms => t("recover-check-texts"),
        RecoveryChannel::Voice => t("recover-check-calls"),
    };
    let sent_text = move || {
        let args = [("minutes", Arg::Num(minutes()))];
        match channel() {
            RecoveryChannel::EmailLink => t_with("recover-sent-email-link", &args),
            RecoveryChannel::EmailCode => t_with("recover-sent-email-code", &args),
            RecoveryChannel::Sms => t_with("recover-sent-sms", &args),
            RecoveryChannel::Voice => t_with("recover-sent-voice", &args),
        }
    };
    // "Reference" means nothing to most people: say where the letters show in this channel.
    let reference_text = move || {
        let args = [("reference", reference())];
        match channel() {
            RecoveryChannel::EmailLink | RecoveryChannel::EmailCode => {
                t_args("recover-reference-email", &args)
            }
            RecoveryChannel::Sms => t_args("recover-reference-sms", &args),
            RecoveryChannel::Voice => t_args("recover-reference-voice", &args),
        }
    };
    let use_newest = move || {
        let args = [("reference", reference())];
        match channel() {
            RecoveryChannel::EmailLink | RecoveryChannel::EmailCode => {
                t_args("recover-newest-email", &args)
            }
            RecoveryChannel::Sms => t_args("recover-newest-sms", &args),
            RecoveryChannel::Voice => t_args("recover-newest-voice", &args),
        }
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let Some(c) = normalize_code(&code.get_untracked()) else {
            error.set(Some(t("recover-code-format")));
            return;
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let r = server_fns::verify_reset_code(who.get_untracked(), c).await;
            busy.set(false);
            match r {
                Ok(g) => on_grant.run(g),
                Err(ApiError::CodeRejected(
                    p @ (CodeProblem::Expired | CodeProblem::AlreadyUsed),
                )) => {
                    code.set(String::new());
                    status.set(None);
                    spent.set(true);
                    error.set(Some(if p == CodeProblem::Expired {
                        t("recover-code-expired")
                    } else {
                        t("recover-code-used")
                    }));
                    // The field and button that had focus are gone; the way on gets it.
                    focus_by_id("send-new-code");
                }
                // A wrong or replaced code: the newest message still holds one that works.
                Err(e @ ApiError::CodeRejected(_)) => {
                    error.set(Some(format!("{} {}", error_text(&e), use_newest())));
                }
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    let resend = move |_| {
        // A spent code is no reason to wait: the countdown only spaces out live codes.
        if busy.get_untracked() || (wait_secs() > 0 && !spent.get_untracked()) {
            return;
        }
        busy.set(true);
        error.set(None);
        let c = channel();
        let was_spent = spent.get_untracked();
        spawn_local(async move {
            let r =
                server_fns::request_reset(who.get_untracked(), c, Some(carekey_ui::i18n::lang()))
                    .await;
            busy.set(false);
            match r {
                Ok(a) => {
                    resend_at.set(now_ms() + a.resend_after_secs as f64 * 1000.0);
                    status.set(Some(t_args(
                        "recover-resent",
                        &[("reference", a.reference.clone())],
                    )));
                    code.set(String::new());
                    current.set(a);
                    spent.set(false);
                    if was_spent {
                        focus_by_id("recover-code");
                    }
                }
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };

    // The code field comes first, so on a phone it is on the first screen with the keyboard
    // up; what was sent, and how to tell the newest message, follow under it.
    view! {
        <PageHeading text=heading />
        <div role="status" class="notice" class:empty=move || status.get().is_none()>{move || status.get()}</div>
        <Alert message=error id="code-error" />
        <Show when=move || spent.get()>
            <p>
                <button type="button" class="primary" id="send-new-code" on:click=resend aria-disabled=aria_busy(busy)>
                    {move || if busy.get() { t("sending") } else { t("recover-resend-code") }}
                </button>
            </p>
        </Show>
        <Show when=move || !spent.get()>
            <Show when=move || channel().sends_code()>
                <form class="stack" on:submit=submit novalidate>
                    <TextField
                        id="recover-code"
                        label=t("recover-code")
                        value=code
                        autocomplete="one-time-code"
                        inputmode="numeric"
                        hint=t("recover-code-hint")
                    />
                    <button type="submit" class="primary" aria-disabled=aria_busy(busy)>
                        {move || if busy.get() { t("checking") } else { t("recover-continue") }}
                    </button>
                </form>
            </Show>
            <p>{sent_text}</p>
            <p>{reference_text}</p>
            <div class="resend">
                <button
                    type="button"
                    on:click=resend
                    aria-disabled={move || if wait_secs() > 0 || busy.get() { "true" } else { "false" }}
                    aria-describedby="resend-wait"
                >
                    {move || if channel().sends_code() { t("recover-resend-code") } else { t("recover-resend-link") }}
                </button>
                <p class="hint" id="resend-wait">
                    {move || (wait_secs() > 0).then(|| t_num("recover-resend-wait", "seconds", wait_secs() as i64))}
                </p>
            </div>
        </Show>
        <p><button type="button" class="link" on:click=move |_| on_restart.run(())>{t("recover-another-way")}</button></p>
        <NothingArrived channel=sent_by />
    }
}

/// Moves focus to an element by id, once it is in the page.
fn focus_by_id(id: &'static str) {
    use wasm_bindgen::JsCast;
    // The element appears on the next render, after the signal that shows it has settled.
    request_animation_frame(move || {
        if let Some(el) = document()
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
}

#[component]
fn NewPasswordStep(
    grant: ResetGrant,
    proof: Proof,
    known_words: Signal<Vec<String>>,
    on_done: Callback<()>,
) -> impl IntoView {
    let session = use_session();
    let new = kept("new-password.new", String::new);
    let repeat = kept("new-password.repeat", String::new);
    let answer = kept("new-password.answer", String::new);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let policy = move || carekey_ui::password::policy_of(&session);
    let context = move || PolicyContext {
        words: known_words
            .get()
            .into_iter()
            .chain(session.portal.get().map(|p| p.clinic_name))
            .filter(|w| !w.is_empty())
            .collect(),
        current: None,
        common: session.common_list.get().list(),
    };
    let issues = move || live_issues(&policy(), &new.get(), &context());
    // Name what worked: "it" alone left people wondering what had been sent where. A code from
    // the clinic was sent nowhere, so no contact is named.
    let confirmed = match (proof, grant.masked_contact.as_str()) {
        (_, "") => t("recover-confirmed-clinic"),
        (Proof::Code, contact) => t_args("recover-confirmed-code", &[("contact", contact.into())]),
        (Proof::Link, contact) => t_args("recover-confirmed-link", &[("contact", contact.into())]),
    };
    let question = grant.security_question.clone();
    let has_question = question.is_some();
    let token = grant.grant.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
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
        let token = token.clone();
        let a = has_question.then(|| answer.get_untracked());
        spawn_local(async move {
            let r = server_fns::complete_reset(
                token,
                a,
                new.get_untracked(),
                repeat.get_untracked(),
                Some(carekey_ui::i18n::lang()),
            )
            .await;
            busy.set(false);
            match r {
                Ok(()) => on_done.run(()),
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    view! {
        <PageHeading text=t("recover-new-title") />
        <p>{confirmed}</p>
        <form class="stack" on:submit=submit novalidate>
            <Alert message=error id="reset-error" />
            {question.map(|q| view! {
                <TextField id="security-answer" label=q value=answer autocomplete="off" />
            })}
            <PasswordField
                id="new-password"
                label=t("change-new-password")
                value=new
                autocomplete="new-password"
                describedby="password-hints"
                on_focus=Callback::new(|_| carekey_ui::common_list::ensure_loaded())
            />
            <PasswordHints new=new issues=Signal::derive(issues) />
            <PasswordField
                id="repeat-password"
                label=t("change-repeat-password")
                value=repeat
                autocomplete="new-password"
            />
            <RepeatMismatch new repeat error />
            <button type="submit" class="primary" aria-disabled=aria_busy(busy)>
                {move || if busy.get() { t("saving") } else { t("recover-save") }}
            </button>
        </form>
    }
}

#[component]
fn DoneStep() -> impl IntoView {
    view! {
        <PageHeading text=t("recover-done-title") />
        <p role="status" class="success">{t("recover-done-body")}</p>
        <p><a href="/" class="button primary">{t("recover-done-sign-in")}</a></p>
    }
}

#[derive(Clone, PartialEq)]
enum LinkStep {
    Checking,
    Preview(LinkPreview),
    /// Kept as the reason, not its words, so a language switch re-words it.
    Problem(LinkProblem),
    NewPassword(ResetGrant),
    Done,
}

#[derive(Clone, PartialEq)]
enum LinkProblem {
    NoToken,
    Refused(ApiError),
}

impl LinkProblem {
    fn text(&self) -> String {
        match self {
            LinkProblem::NoToken => t("code-not-accepted"),
            LinkProblem::Refused(e) => error_text(e),
        }
    }
}

/// The token from `#t=…`, then removed from the address bar so it is not left in history or
/// shown over the patient's shoulder.
fn take_link_token() -> Option<String> {
    let w = window();
    let hash = w.location().hash().ok()?;
    let token = hash.strip_prefix("#t=").map(str::to_owned)?;
    if let Ok(history) = w.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/reset"));
    }
    Some(token).filter(|t| !t.is_empty())
}

/// `/reset#t=…`: shows where the link was sent and a Continue button. Opening the page uses
/// nothing (mail scanners open links); only Continue does (SECURITY.md R7).
#[component]
pub fn ResetLinkPage() -> impl IntoView {
    // The token leaves the address bar when first read, so it and the step are kept: after a
    // language switch the page goes on from where it was, and checks nothing twice.
    let started = kept("link.started", || false);
    let step = kept("link.step", || LinkStep::Checking);
    let token = kept("link.token", take_link_token);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    if !started.get_untracked() {
        started.set(true);
        match token.get_untracked() {
            None => step.set(LinkStep::Problem(LinkProblem::NoToken)),
            Some(tok) => spawn_local(async move {
                match server_fns::preview_reset_link(tok).await {
                    Ok(p) => step.set(LinkStep::Preview(p)),
                    Err(e) => step.set(LinkStep::Problem(LinkProblem::Refused(e))),
                }
            }),
        }
    }
    let go = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let r = server_fns::redeem_reset_link(token.get_untracked().unwrap_or_default()).await;
            busy.set(false);
            match r {
                Ok(g) => step.set(LinkStep::NewPassword(g)),
                Err(e @ ApiError::CodeRejected(_)) => {
                    step.set(LinkStep::Problem(LinkProblem::Refused(e)))
                }
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    view! {
        <section class="card">
            {move || match step.get() {
                LinkStep::Checking => view! { <p role="status">{t("loading")}</p> }.into_any(),
                LinkStep::Preview(p) => view! {
                    <PageHeading text=t("recover-link-title") />
                    <p>{t_args("recover-link-body", &[("contact", p.masked_contact.clone())])}</p>
                    <Alert message=error id="link-error" />
                    <button type="button" class="primary" on:click=go aria-disabled=aria_busy(busy)>
                        {t("recover-continue")}
                    </button>
                }.into_any(),
                LinkStep::Problem(msg) => view! {
                    <PageHeading text=t("recover-link-problem-title") />
                    <p>{msg.text()}</p>
                    <p><a href="/forgot-password" class="button primary">{t("recover-get-new")}</a></p>
                    <NothingArrived channel=RecoveryChannel::EmailLink />
                }.into_any(),
                LinkStep::NewPassword(g) => view! {
                    <NewPasswordStep
                        grant=g
                        proof=Proof::Link
                        known_words=Signal::derive(Vec::new)
                        on_done=Callback::new(move |_| step.set(LinkStep::Done))
                    />
                }.into_any(),
                LinkStep::Done => view! { <DoneStep /> }.into_any(),
            }}
        </section>
    }
}

#[derive(Clone, Copy, PartialEq)]
enum UsernameBy {
    Contact,
    Demographics,
}

/// Forgot username. The username is sent to the contact on file, never shown (SECURITY.md R11).
#[component]
pub fn ForgotUsernamePage() -> impl IntoView {
    let by = kept("username.by", || UsernameBy::Contact);
    let contact = kept("username.contact", String::new);
    let first = kept("username.first", String::new);
    let last = kept("username.last", String::new);
    let dob = kept("username.dob", String::new);
    let zip = kept("username.zip", String::new);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let sent = kept("username.sent", || false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let lookup = match by.get_untracked() {
            UsernameBy::Contact => UsernameLookup::Contact {
                email_or_phone: contact.get_untracked().trim().to_owned(),
            },
            UsernameBy::Demographics => UsernameLookup::Demographics {
                first_name: first.get_untracked().trim().to_owned(),
                last_name: last.get_untracked().trim().to_owned(),
                date_of_birth: dob.get_untracked().trim().to_owned(),
                zip: zip.get_untracked().trim().to_owned(),
            },
        };
        let missing = match &lookup {
            UsernameLookup::Contact { email_or_phone } => email_or_phone.is_empty(),
            UsernameLookup::Demographics {
                first_name,
                last_name,
                date_of_birth,
                zip,
            } => {
                first_name.is_empty()
                    || last_name.is_empty()
                    || date_of_birth.is_empty()
                    || zip.is_empty()
            }
        };
        if missing {
            error.set(Some(t("username-missing")));
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let r = server_fns::request_username(lookup, Some(carekey_ui::i18n::lang())).await;
            busy.set(false);
            match r {
                Ok(()) => sent.set(true),
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    let choice = move |value: UsernameBy, id: &'static str, label: String| {
        view! {
            <div class="choice">
                <input
                    type="radio"
                    name="username-by"
                    id=id
                    prop:checked=move || by.get() == value
                    on:change=move |_| by.set(value)
                />
                <label for=id>{label}</label>
            </div>
        }
    };
    view! {
        <section class="card">
            <Show
                when=move || sent.get()
                fallback=move || view! {
                    <PageHeading text=t("username-title") />
                    <p>{t("username-intro")}</p>
                    <form class="stack" on:submit=submit novalidate>
                        <Alert message=error id="username-error" />
                        <fieldset class="choices">
                            <legend>{t("username-how")}</legend>
                            {choice(UsernameBy::Contact, "by-contact", t("username-by-contact"))}
                            {choice(UsernameBy::Demographics, "by-demographics", t("username-by-demographics"))}
                        </fieldset>
                        <Show
                            when=move || by.get() == UsernameBy::Contact
                            fallback=move || view! {
                                <TextField id="first-name" label=t("username-first-name") value=first autocomplete="given-name" />
                                <TextField id="last-name" label=t("username-last-name") value=last autocomplete="family-name" />
                                <TextField id="date-of-birth" label=t("username-dob") value=dob autocomplete="bday" input_type="date" />
                                <TextField id="zip" label=t("username-zip") value=zip autocomplete="postal-code" inputmode="numeric" />
                            }
                        >
                            <TextField
                                id="contact"
                                label=t("username-contact")
                                value=contact
                                autocomplete="email"
                                hint=t("username-contact-hint")
                            />
                        </Show>
                        <button type="submit" class="primary" aria-disabled=aria_busy(busy)>
                            {move || if busy.get() { t("sending") } else { t("username-send") }}
                        </button>
                    </form>
                    <p><a href="/forgot-password">{t("username-forgot-password-link")}</a></p>
                    <p><a href="/">{t("back-sign-in")}</a></p>
                }
            >
                <PageHeading text=t("username-sent-title") />
                <p role="status">{t("username-sent-body")}</p>
                <NothingArrived />
                <p><a href="/" class="button primary">{t("back-sign-in")}</a></p>
            </Show>
        </section>
    }
}
