//! A patient's chart: demographics, contacts staff can correct, and the Patient Portal / API
//! Access widget (create or reset credentials, activation letter, send a reset, desk code,
//! unlock, delivery status).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use carekey_shared::staff::{
    AccountStatus, CredentialsLetter, DeliveryRow, DeliveryStatus, DeskCode, IdentityChecks,
    PasswordChoice, PatientChart, PortalAccess,
};
use carekey_shared::{ContactKind, Lang, RecoveryChannel, SecondStepMethod, staff_fns};
use carekey_ui::errors::error_text;
use carekey_ui::fields::{Alert, PasswordField, TextField};
use carekey_ui::page::{PageHeading, RequireSession};
use carekey_ui::{t, t_args};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use wasm_bindgen::JsCast;

use crate::letter::LetterView;
use crate::{FORCED, SIGN_IN, when};

#[component]
pub fn ChartPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(-1)
    };
    let chart = RwSignal::new(None::<Result<PatientChart, String>>);
    let letter = RwSignal::new(None::<CredentialsLetter>);
    let reload = move || {
        let pid = id();
        spawn_local(async move {
            chart.set(Some(
                staff_fns::open_chart(pid).await.map_err(|e| error_text(&e)),
            ));
        });
    };
    Effect::new(move |_| reload());
    view! {
        <RequireSession sign_in_href=SIGN_IN change_href=FORCED>
            {move || match (letter.get(), chart.get()) {
                (Some(l), _) => view! {
                    <LetterView letter=l on_close=Callback::new(move |_| { letter.set(None); reload(); }) />
                }.into_any(),
                (None, None) => view! { <p role="status">{t("loading")}</p> }.into_any(),
                (None, Some(Err(e))) => view! {
                    <section class="card"><p role="alert">{e}</p>
                    <p><a href="/staff/patients">{t("st-back-patients")}</a></p></section>
                }.into_any(),
                (None, Some(Ok(c))) => view! {
                    <ChartView chart=c on_change=Callback::new(move |c| chart.set(Some(Ok(c))))
                        on_letter=Callback::new(move |l| letter.set(Some(l))) />
                }.into_any(),
            }}
        </RequireSession>
    }
}

#[component]
fn ChartView(
    chart: PatientChart,
    on_change: Callback<PatientChart>,
    on_letter: Callback<CredentialsLetter>,
) -> impl IntoView {
    let p = chart.patient.clone();
    let title = format!("{} {}", p.first_name, p.last_name);
    let feed = DeliveryFeed::new(p.id, chart.deliveries.clone());
    view! {
        <section class="card wide">
            <PageHeading text=title />
            <dl class="facts">
                <dt>{t("st-mrn")}</dt><dd>{p.mrn.clone()}</dd>
                <dt>{t("st-dob")}</dt><dd>{p.date_of_birth.clone()}</dd>
                <dt>{t("st-zip")}</dt><dd>{chart.zip.clone()}</dd>
            </dl>
            <ContactsForm chart=chart.clone() on_change=on_change />
            <LanguageForm chart=chart.clone() on_change=on_change />
            <PortalWidget chart=chart on_change=on_change on_letter=on_letter feed=feed />
            <p class="no-print"><a href="/staff/patients">{t("st-back-patients")}</a></p>
        </section>
    }
}

/// The language the clinic writes, texts and calls the patient in (issue 13). Each choice is
/// named in its own language, so staff can show the patient the screen.
#[component]
fn LanguageForm(chart: PatientChart, on_change: Callback<PatientChart>) -> impl IntoView {
    let pid = chart.patient.id;
    let chosen = RwSignal::new(chart.language.unwrap_or_default());
    let status = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let on_file = match chart.language {
        Some(l) => t_args(
            "st-language-on-file",
            &[("language", l.own_name().to_owned())],
        ),
        None => t("st-language-none"),
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        status.set(None);
        let lang = chosen.get_untracked();
        spawn_local(async move {
            match staff_fns::set_patient_language(pid, lang).await {
                Ok(c) => {
                    status.set(Some(t("st-language-saved")));
                    on_change.run(c);
                }
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    view! {
        <h2>{t("st-language")}</h2>
        <p>{on_file}</p>
        <form class="stack" on:submit=save novalidate>
            <Alert message=error id="language-error" />
            <div class="field">
                <label for="chart-language">{t("st-language-choose")}</label>
                <select
                    id="chart-language"
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Some(l) = Lang::ALL.into_iter().find(|l| l.code() == v) {
                            chosen.set(l);
                        }
                    }
                >
                    {Lang::ALL.into_iter().map(|l| view! {
                        <option value=l.code() lang=l.code() selected=move || chosen.get() == l>{l.own_name()}</option>
                    }).collect_view()}
                </select>
            </div>
            <button type="submit">{t("st-language-save")}</button>
            <div role="status" class="notice" class:empty=move || status.get().is_none()>{move || status.get()}</div>
        </form>
    }
}

#[component]
fn ContactsForm(chart: PatientChart, on_change: Callback<PatientChart>) -> impl IntoView {
    let pid = chart.patient.id;
    let email = RwSignal::new(
        chart
            .contacts
            .iter()
            .find(|c| c.kind == ContactKind::Email)
            .map(|c| c.value.clone())
            .unwrap_or_default(),
    );
    let phone_now = chart
        .contacts
        .iter()
        .find(|c| c.kind != ContactKind::Email)
        .cloned();
    let phone = RwSignal::new(
        phone_now
            .as_ref()
            .map(|c| c.value.clone())
            .unwrap_or_default(),
    );
    // Only a phone on file can take texts: a chart with no phone starts unticked.
    let mobile = RwSignal::new(phone_now.as_ref().is_some_and(|c| c.sms_capable));
    let status = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let capability = phone_now.map(|c| {
        if c.sms_capable {
            t("st-phone-texts-calls")
        } else {
            t("st-phone-calls-only")
        }
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        status.set(None);
        let (e, ph) = (email.get_untracked(), phone.get_untracked());
        let m = mobile.get_untracked() && !ph.trim().is_empty();
        spawn_local(async move {
            match staff_fns::update_patient_contacts(pid, e, ph, m).await {
                Ok(c) => {
                    status.set(Some(t("st-contacts-saved")));
                    on_change.run(c);
                }
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    view! {
        <h2>{t("st-contacts")}</h2>
        <p class="hint">{t("st-contacts-hint")}</p>
        {capability.map(|c| view! { <p>{c}</p> })}
        <form class="stack" on:submit=save novalidate>
            <Alert message=error id="contacts-error" />
            <TextField id="chart-email" label=t("st-email") value=email input_type="email" inputmode="email" />
            <TextField id="chart-phone" label=t("st-phone") value=phone input_type="tel" inputmode="tel" />
            <TextsCheckbox id="chart-phone-mobile" phone=phone mobile=mobile />
            <button type="submit">{t("st-contacts-save")}</button>
            <div role="status" class="notice" class:empty=move || status.get().is_none()>{move || status.get()}</div>
        </form>
    }
}

/// "This phone can receive text messages": unticked and unavailable while there is no phone
/// number, so a chart never claims texts can go to a phone it does not have. What was ticked
/// comes back when a number is typed.
#[component]
pub(crate) fn TextsCheckbox(
    id: &'static str,
    phone: RwSignal<String>,
    mobile: RwSignal<bool>,
) -> impl IntoView {
    let no_phone = move || phone.with(|p| p.trim().is_empty());
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field">
            <label class="check" for=id>
                <input
                    type="checkbox"
                    id=id
                    prop:checked=move || mobile.get() && !no_phone()
                    disabled=no_phone
                    aria-describedby={
                        let hint_id = hint_id.clone();
                        move || no_phone().then(|| hint_id.clone())
                    }
                    on:change=move |ev| mobile.set(event_target_checked(&ev))
                />
                {t("st-phone-mobile")}
            </label>
            <Show when=no_phone>
                <p class="hint" id=hint_id.clone()>{t("st-phone-mobile-needs-phone")}</p>
            </Show>
        </div>
    }
}

/// The kinds of second step a patient has, never a secret.
fn two_step_text(p: &PortalAccess) -> String {
    if p.two_step.is_empty() {
        return t("st-two-step-none");
    }
    p.two_step
        .iter()
        .map(|m| match m {
            SecondStepMethod::AuthenticatorApp => t("st-two-step-app"),
            SecondStepMethod::BackupCode => t("st-two-step-codes"),
            SecondStepMethod::Passkey => t("st-two-step-passkey"),
            SecondStepMethod::SentCode => t("st-two-step-sent"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn status_text(p: &PortalAccess) -> String {
    match p.status {
        AccountStatus::Active if p.must_change_password && !p.has_password => {
            t("st-portal-waiting-activation")
        }
        AccountStatus::Active if p.must_change_password => t("st-portal-must-change"),
        AccountStatus::Active => t("st-portal-active"),
        AccountStatus::Disabled => t("st-portal-disabled"),
        AccountStatus::Locked => match (p.lock_reason.as_deref(), p.locked_until_ms) {
            (_, Some(until)) => t_args("st-portal-paused", &[("until", when(until))]),
            (Some("reported"), None) => t("st-portal-locked-reported"),
            _ => t("st-portal-locked"),
        },
    }
}

#[component]
fn PortalWidget(
    chart: PatientChart,
    on_change: Callback<PatientChart>,
    on_letter: Callback<CredentialsLetter>,
    feed: DeliveryFeed,
) -> impl IntoView {
    let pid = chart.patient.id;
    let patient_name = format!("{} {}", chart.patient.first_name, chart.patient.last_name);
    let portal = chart.portal.clone();
    let has_account = portal.is_some();
    let has_email = chart.contacts.iter().any(|c| c.kind == ContactKind::Email);
    let has_mobile = chart.contacts.iter().any(|c| c.sms_capable);
    let has_phone = chart.contacts.iter().any(|c| c.kind != ContactKind::Email);
    let locked = portal
        .as_ref()
        .is_some_and(|p| p.status == AccountStatus::Locked);
    let has_two_step = portal.as_ref().is_some_and(|p| !p.two_step.is_empty());
    let reported = portal.as_ref().and_then(|p| p.reported_at_ms);
    let state = portal.clone().map(|p| {
        let last = p
            .last_sign_in_at_ms
            .map(when)
            .unwrap_or_else(|| t("st-never"));
        let failures = p.recent_failures.clone();
        view! {
            <dl class="facts">
                <dt>{t("st-username")}</dt><dd>{p.username.clone()}</dd>
                <dt>{t("st-portal-state")}</dt><dd>{status_text(&p)}</dd>
                <dt>{t("st-last-sign-in")}</dt><dd>{last}</dd>
                <dt>{t("st-failed-sign-ins")}</dt><dd>{p.failed_sign_ins.to_string()}</dd>
                <dt>{t("st-two-step")}</dt><dd>{two_step_text(&p)}</dd>
            </dl>
            {(!failures.is_empty()).then(|| view! {
                <details>
                    <summary>{t("st-recent-failures")}</summary>
                    <ul>{failures.into_iter().map(|f| view! {
                        <li>{t_args("st-failure-line", &[("when", when(f.at_ms)), ("ip", f.ip)])}</li>
                    }).collect_view()}</ul>
                </details>
            })}
        }
    });
    view! {
        <section class="widget" aria-labelledby="portal-widget-title">
            <h2 id="portal-widget-title" tabindex="-1">{t("st-portal-widget")}</h2>
            {reported.map(|at| view! { <Reported pid=pid at=at on_change=on_change /> })}
            {match state {
                Some(s) => s.into_any(),
                None => view! { <p>{t("st-portal-none")}</p> }.into_any(),
            }}
            {locked.then(|| view! { <UnlockButton pid=pid on_change=on_change /> })}
            <Credentials
                pid=pid
                patient_name=patient_name
                current_username=portal.as_ref().map(|p| p.username.clone())
                suggested=chart.suggested_username.clone()
                on_letter=on_letter
            />
            {has_account.then(|| {
                let feed = feed.clone();
                view! {
                    <SendReset pid=pid has_email=has_email has_mobile=has_mobile has_phone=has_phone
                        on_sent=Callback::new(move |_| feed.refresh()) />
                    <DeskCodeForm pid=pid />
                }
            })}
            {has_two_step.then(|| view! { <ResetTwoStep pid=pid on_change=on_change /> })}
            <Deliveries rows=feed.rows />
        </section>
    }
}

/// The identity facts staff say they checked before a desk code or a two-step reset; the
/// server refuses either with none ticked and writes the ticked ones to the audit row.
#[derive(Clone, Copy)]
struct Checklist {
    dob: RwSignal<bool>,
    zip: RwSignal<bool>,
    callback: RwSignal<bool>,
    photo: RwSignal<bool>,
}

impl Checklist {
    fn new() -> Self {
        Self {
            dob: RwSignal::new(false),
            zip: RwSignal::new(false),
            callback: RwSignal::new(false),
            photo: RwSignal::new(false),
        }
    }

    fn checks(self) -> IdentityChecks {
        IdentityChecks {
            date_of_birth: self.dob.get_untracked(),
            zip: self.zip.get_untracked(),
            callback_number: self.callback.get_untracked(),
            photo_id: self.photo.get_untracked(),
        }
    }

    fn fieldset(self) -> impl IntoView {
        let check = move |sig: RwSignal<bool>, label: String| {
            view! {
                <label class="check">
                    <input type="checkbox" bind:checked=sig />
                    {label}
                </label>
            }
        };
        view! {
            <fieldset>
                <legend>{t("st-desk-code-checked")}</legend>
                {check(self.dob, t("st-check-dob"))}
                {check(self.zip, t("st-check-zip"))}
                {check(self.callback, t("st-check-callback"))}
                {check(self.photo, t("st-check-photo"))}
            </fieldset>
        }
    }
}

/// Reset two-step verification, behind the same identity checklist as a desk code.
#[component]
fn ResetTwoStep(pid: i64, on_change: Callback<PatientChart>) -> impl IntoView {
    let checklist = Checklist::new();
    let error = RwSignal::new(None::<String>);
    let reset = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let checks = checklist.checks();
        error.set(None);
        if !checks.any() {
            error.set(Some(t("st-two-step-reset-check-first")));
            return;
        }
        spawn_local(async move {
            match staff_fns::portal_reset_two_step(pid, checks).await {
                Ok(c) => on_change.run(c),
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    view! {
        <h3>{t("st-two-step-reset")}</h3>
        <p class="hint">{t("st-two-step-reset-intro")}</p>
        <form class="stack" on:submit=reset novalidate aria-label=t("st-two-step-reset")>
            {checklist.fieldset()}
            <Alert message=error id="two-step-reset-error" />
            <button type="submit">{t("st-two-step-reset")}</button>
        </form>
    }
}

#[component]
fn UnlockButton(pid: i64, on_change: Callback<PatientChart>) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let unlock = move |_| {
        spawn_local(async move {
            match staff_fns::portal_unlock(pid).await {
                Ok(c) => on_change.run(c),
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    view! {
        <Alert message=error id="unlock-error" />
        <button type="button" class="primary" on:click=unlock>{t("st-unlock")}</button>
    }
}

/// The patient pressed "this wasn't me" in a notice (SECURITY.md M8): first in the widget,
/// so whoever opens the chart sees it before helping with anything else.
#[component]
fn Reported(pid: i64, at: i64, on_change: Callback<PatientChart>) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let handled = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let r = staff_fns::portal_report_handled(pid).await;
            busy.set(false);
            match r {
                Ok(c) => {
                    on_change.run(c);
                    // The block and its button are gone: focus goes to the widget's heading, not
                    // to the top of the page.
                    if let Some(h) = document().get_element_by_id("portal-widget-title") {
                        let h: web_sys::HtmlElement = h.unchecked_into();
                        let _ = h.focus();
                    }
                }
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    view! {
        <div class="notice reported" role="note">
            <p><strong>{t_args("st-reported", &[("when", when(at))])}</strong></p>
            <p>{t("st-reported-help")}</p>
            <Alert message=error id="reported-error" />
            <button type="button" on:click=handled aria-disabled=move || if busy.get() { "true" } else { "false" }>
                {t("st-reported-handled")}
            </button>
        </div>
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum How {
    Generated,
    Chosen,
    Activation,
}

/// Create credentials for a patient with no account (nothing to lose: the form is open), or,
/// under "Credentials", a Reset button that opens the form for one who has an account. A reset
/// replaces a password the patient may be using, so it is never one click away.
#[component]
fn Credentials(
    pid: i64,
    patient_name: String,
    /// The account's username now; `None` when the patient has no account yet.
    current_username: Option<String>,
    suggested: String,
    on_letter: Callback<CredentialsLetter>,
) -> impl IntoView {
    let Some(current) = current_username else {
        return view! {
            <h3>{t("st-create-credentials")}</h3>
            <CredentialsForm pid=pid suggested=suggested on_letter=on_letter />
        }
        .into_any();
    };
    let open = RwSignal::new(false);
    let reset_button = NodeRef::<leptos::html::Button>::new();
    let close = Callback::new(move |_: ()| {
        open.set(false);
        if let Some(b) = reset_button.get_untracked() {
            let _ = b.focus();
        }
    });
    let confirm = Confirm {
        patient_name,
        current_username: current,
        on_cancel: close,
    };
    view! {
        <h3>{t("st-credentials")}</h3>
        <p class="hint">{t("st-credentials-hint")}</p>
        <button
            type="button"
            node_ref=reset_button
            aria-expanded=move || if open.get() { "true" } else { "false" }
            aria-controls="credentials-reset"
            on:click=move |_| open.update(|o| *o = !*o)
        >
            {t("st-reset")}
        </button>
        <div id="credentials-reset" class="reveal" hidden=move || !open.get()>
            <CredentialsForm pid=pid suggested=suggested on_letter=on_letter confirm=confirm />
        </div>
    }
    .into_any()
}

/// What the reset's confirmation names, and how to close the form.
#[derive(Clone)]
struct Confirm {
    patient_name: String,
    current_username: String,
    on_cancel: Callback<()>,
}

#[component]
fn CredentialsForm(
    pid: i64,
    suggested: String,
    on_letter: Callback<CredentialsLetter>,
    /// Present for a reset: saving first asks, naming the patient.
    #[prop(optional)]
    confirm: Option<Confirm>,
) -> impl IntoView {
    let username = RwSignal::new(suggested);
    let how = RwSignal::new(How::Generated);
    let chosen = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let submit_button = NodeRef::<leptos::html::Button>::new();
    let cancel_button = NodeRef::<leptos::html::Button>::new();
    let needs_confirm = confirm.is_some();
    let save = move || {
        if busy.get_untracked() {
            return;
        }
        let choice = match how.get_untracked() {
            How::Generated => PasswordChoice::Generated,
            How::Chosen => PasswordChoice::Chosen(chosen.get_untracked()),
            How::Activation => PasswordChoice::ActivationCode,
        };
        busy.set(true);
        error.set(None);
        let u = username.get_untracked();
        spawn_local(async move {
            let r = staff_fns::portal_credentials(pid, u, choice).await;
            busy.set(false);
            match r {
                Ok(l) => on_letter.run(l),
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        match dialog.get_untracked() {
            Some(d) if needs_confirm => {
                let _ = d.show_modal();
                // The safe answer has focus, so a reflexive Enter changes nothing.
                if let Some(b) = cancel_button.get_untracked() {
                    let _ = b.focus();
                }
            }
            _ => save(),
        }
    };
    let radio = move |value: How, id: &'static str, label: String| {
        view! {
            <label class="check" for=id>
                <input type="radio" id=id name="password-how"
                    prop:checked=move || how.get() == value
                    on:change=move |_| how.set(value) />
                {label}
            </label>
        }
    };
    let confirm_view = confirm.clone().map(|c| {
        let name = c.patient_name.clone();
        let question = {
            let name = name.clone();
            move || {
                let id = if how.get() == How::Activation {
                    "st-confirm-activation-title"
                } else {
                    "st-confirm-reset-title"
                };
                t_args(id, &[("name", name.clone())])
            }
        };
        let consequence = {
            let current = c.current_username.clone();
            move || {
                let id = if how.get() == How::Activation {
                    "st-confirm-activation-body"
                } else {
                    "st-confirm-reset-body"
                };
                let mut text = t_args(id, &[("name", name.clone())]);
                let new_name = username.with(|u| u.trim().to_owned());
                if new_name != current {
                    text.push(' ');
                    text.push_str(&t_args(
                        "st-confirm-rename",
                        &[("from", current.clone()), ("to", new_name)],
                    ));
                }
                text
            }
        };
        let close_dialog = move || {
            if let Some(d) = dialog.get_untracked() {
                d.close();
            }
        };
        view! {
            <dialog
                node_ref=dialog
                class="dialog confirm"
                role="alertdialog"
                aria-labelledby="confirm-reset-title"
                aria-describedby="confirm-reset-body"
                // Closed by Escape, Cancel or Confirm: focus goes back where it was.
                on:close=move |_| {
                    if let Some(b) = submit_button.get_untracked() {
                        let _ = b.focus();
                    }
                }
            >
                <h2 id="confirm-reset-title">{question}</h2>
                <p id="confirm-reset-body">{consequence}</p>
                <div class="actions">
                    <button type="button" class="danger" on:click=move |_| {
                        close_dialog();
                        save();
                    }>{t("st-confirm")}</button>
                    <button type="button" node_ref=cancel_button on:click=move |_| close_dialog()>
                        {t("st-cancel")}
                    </button>
                </div>
            </dialog>
        }
    });
    let cancel_form = confirm.map(|c| {
        view! {
            <button type="button" on:click=move |_| c.on_cancel.run(())>{t("st-cancel")}</button>
        }
    });
    view! {
        <form class="stack" on:submit=submit novalidate>
            <Alert message=error id="credentials-error" />
            <TextField id="portal-username" label=t("st-username") value=username />
            <fieldset>
                <legend>{t("st-password-how")}</legend>
                {radio(How::Generated, "how-generated", t("st-password-generated"))}
                {radio(How::Chosen, "how-chosen", t("st-password-chosen"))}
                {radio(How::Activation, "how-activation", t("st-password-activation"))}
            </fieldset>
            <Show when=move || how.get() == How::Chosen>
                <PasswordField id="portal-password" label=t("st-password") value=chosen autocomplete="new-password" />
            </Show>
            <div class="button-row">
                <button type="submit" class="primary" node_ref=submit_button>
                    {move || if busy.get() { t("saving") } else { t("st-save-and-print") }}
                </button>
                {cancel_form}
            </div>
        </form>
        {confirm_view}
    }
}

#[component]
fn SendReset(
    pid: i64,
    has_email: bool,
    has_mobile: bool,
    has_phone: bool,
    /// A message was queued: "Recent messages" should show it.
    on_sent: Callback<()>,
) -> impl IntoView {
    let status = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let send = move |channel: RecoveryChannel| {
        status.set(None);
        error.set(None);
        spawn_local(async move {
            match staff_fns::portal_send_reset(pid, channel).await {
                Ok(s) => {
                    status.set(Some(t_args("st-sent-to", &[("to", s.to)])));
                    on_sent.run(());
                }
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    view! {
        <h3>{t("st-send-reset")}</h3>
        <p class="hint">{t("st-send-reset-hint")}</p>
        <Alert message=error id="send-error" />
        <div class="button-row">
            {has_email.then(|| view! {
                <button type="button" on:click=move |_| send(RecoveryChannel::EmailLink)>{t("st-send-link")}</button>
                <button type="button" on:click=move |_| send(RecoveryChannel::EmailCode)>{t("st-send-email-code")}</button>
            })}
            {has_mobile.then(|| view! {
                <button type="button" on:click=move |_| send(RecoveryChannel::Sms)>{t("st-send-text")}</button>
            })}
            {has_phone.then(|| view! {
                <button type="button" on:click=move |_| send(RecoveryChannel::Voice)>{t("st-send-call")}</button>
            })}
        </div>
        {(!has_email && !has_phone).then(|| view! { <p>{t("st-no-contacts")}</p> })}
        <div role="status" class="notice" class:empty=move || status.get().is_none()>{move || status.get()}</div>
    }
}

#[component]
fn DeskCodeForm(pid: i64) -> impl IntoView {
    let checklist = Checklist::new();
    let code = RwSignal::new(None::<DeskCode>);
    let error = RwSignal::new(None::<String>);
    let make = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let checks = checklist.checks();
        error.set(None);
        if !checks.any() {
            error.set(Some(t("st-desk-code-check-first")));
            return;
        }
        spawn_local(async move {
            match staff_fns::portal_desk_code(pid, checks).await {
                Ok(c) => code.set(Some(c)),
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    view! {
        <h3>{t("st-desk-code")}</h3>
        <form class="stack" on:submit=make novalidate>
            {checklist.fieldset()}
            <Alert message=error id="desk-code-error" />
            <button type="submit">{t("st-desk-code-make")}</button>
        </form>
        <div role="status">
            {move || code.get().map(|c| view! {
                <div class="code-box">
                    <p>{t_args("st-desk-code-is", &[("username", c.username.clone())])}</p>
                    <p class="code">{c.code.clone()}</p>
                    <p>{t_args("st-desk-code-until", &[("until", when(c.expires_at_ms))])}</p>
                    <p class="hint">{t("st-desk-code-how")}</p>
                </div>
            })}
        </div>
    }
}

fn delivery_word(s: DeliveryStatus) -> String {
    t(match s {
        DeliveryStatus::Queued => "st-delivery-queued",
        DeliveryStatus::Sending => "st-delivery-sending",
        DeliveryStatus::Sent => "st-delivery-sent",
        DeliveryStatus::Failed => "st-delivery-failed",
        DeliveryStatus::Expired => "st-delivery-expired",
        DeliveryStatus::Cancelled => "st-delivery-cancelled",
    })
}

/// How often "Recent messages" asks again while a message is on its way.
const POLL: Duration = Duration::from_secs(3);

fn in_flight(rows: &[DeliveryRow]) -> bool {
    rows.iter().any(|r| !r.status.is_final())
}

/// The chart's "Recent messages", kept current: asked again right after the widget sends, and
/// every few seconds while any message is still waiting or sending. It stops asking once every
/// message is done, and when the chart goes away.
#[derive(Clone)]
struct DeliveryFeed {
    pid: i64,
    rows: RwSignal<Vec<DeliveryRow>>,
    /// The chart is still on screen. Plain atomics, not reactive values: a reply that lands
    /// after the chart was taken down must find out without touching its disposed signals.
    alive: Arc<AtomicBool>,
    polling: Arc<AtomicBool>,
    /// Requests are numbered so an older reply (a poll sent before the widget's send) never
    /// replaces a newer list.
    asked: Arc<AtomicU64>,
    shown: Arc<AtomicU64>,
}

impl DeliveryFeed {
    fn new(pid: i64, rows: Vec<DeliveryRow>) -> Self {
        let feed = Self {
            pid,
            rows: RwSignal::new(rows),
            alive: Arc::new(AtomicBool::new(true)),
            polling: Arc::new(AtomicBool::new(false)),
            asked: Arc::new(AtomicU64::new(0)),
            shown: Arc::new(AtomicU64::new(0)),
        };
        let alive = feed.alive.clone();
        on_cleanup(move || alive.store(false, Ordering::Relaxed));
        let watcher = feed.clone();
        Effect::new(move |_| {
            if watcher.rows.with(|r| in_flight(r)) {
                watcher.watch();
            }
        });
        feed
    }

    fn alive(&self) -> bool {
        self.alive.load(Ordering::Relaxed)
    }

    /// Asks for the list once; false when the chart is gone or the answer was not used.
    async fn fetch(&self) -> bool {
        let n = self.asked.fetch_add(1, Ordering::Relaxed) + 1;
        // The delivery list alone, as a background refresh: it neither reopens the chart in
        // the audit trail nor keeps an idle session alive.
        let Ok(rows) = staff_fns::chart_deliveries(self.pid).await else {
            return false;
        };
        if !self.alive() || self.shown.fetch_max(n, Ordering::Relaxed) > n {
            return false;
        }
        self.rows.try_set(rows).is_none()
    }

    fn refresh(&self) {
        let feed = self.clone();
        spawn_local(async move {
            feed.fetch().await;
        });
    }

    /// One polling loop at a time, for as long as a message is in flight.
    fn watch(&self) {
        if self.polling.swap(true, Ordering::Relaxed) {
            return;
        }
        let feed = self.clone();
        spawn_local(async move {
            while feed.alive() {
                gloo_timers::future::sleep(POLL).await;
                if !feed.alive() {
                    break;
                }
                feed.fetch().await;
                match feed.rows.try_with_untracked(|r| in_flight(r)) {
                    Some(true) => {}
                    _ => break,
                }
            }
            feed.polling.store(false, Ordering::Relaxed);
        });
    }
}

#[component]
fn Deliveries(rows: RwSignal<Vec<DeliveryRow>>) -> impl IntoView {
    view! {
        <h3 id="deliveries-title">{t("st-deliveries")}</h3>
        {move || {
            let rows = rows.get();
            if rows.is_empty() {
                view! { <p>{t("st-deliveries-none")}</p> }.into_any()
            } else {
                // A phone scrolls the table sideways inside its box; keyboard users need to
                // reach that box to scroll it too.
                view! {
                    <div class="table-scroll" role="region" aria-labelledby="deliveries-title" tabindex="0">
                    <table>
                        <thead><tr>
                            <th scope="col">{t("st-col-when")}</th>
                            <th scope="col">{t("st-col-what")}</th>
                            <th scope="col">{t("st-col-to")}</th>
                            <th scope="col">{t("st-col-status")}</th>
                        </tr></thead>
                        <tbody>
                            {rows.into_iter().map(|r| view! {
                                <tr>
                                    <td>{when(r.created_at_ms)}</td>
                                    <td>{r.kind.replace('_', " ")}</td>
                                    <td>{format!("{} ({})", r.destination, r.channel)}</td>
                                    <td>{delivery_word(r.status)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                }.into_any()
            }
        }}
    }
}

pub fn email_status_text(s: DeliveryStatus, to: &str) -> String {
    let id = match s {
        DeliveryStatus::Sent => "st-letter-email-sent",
        DeliveryStatus::Failed | DeliveryStatus::Expired | DeliveryStatus::Cancelled => {
            "st-letter-email-failed"
        }
        DeliveryStatus::Queued | DeliveryStatus::Sending => "st-letter-email-queued",
    };
    t_args(id, &[("to", to.to_owned())])
}
