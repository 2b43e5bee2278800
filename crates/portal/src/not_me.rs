//! "This wasn't me" (SECURITY.md M8): the page a security notice's link opens. Opening it
//! changes nothing, since mail scanners open links (R7); only Continue reports. Works without
//! signing in: the person may no longer be able to.

use carekey_shared::{ApiError, CodeProblem, server_fns};
use carekey_ui::errors::error_text;
use carekey_ui::fields::Alert;
use carekey_ui::language::kept;
use carekey_ui::nav::take_fragment;
use carekey_ui::page::PageHeading;
use carekey_ui::session::use_session;
use carekey_ui::{t, t_args};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[derive(Clone, Copy, PartialEq)]
enum Step {
    Ask,
    Done,
    /// The link is unknown or too old: kept as the reason, so a language switch re-words it.
    Refused(CodeProblem),
}

#[component]
pub fn NotMePage() -> impl IntoView {
    let session = use_session();
    // The token leaves the address bar when first read, so it and the step are kept across a
    // language switch.
    let token = kept("not-me.token", || take_fragment("/not-me"));
    let step = kept("not-me.step", || Step::Ask);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let call = move || {
        let (name, phone) = (session.clinic_name(), session.clinic_phone());
        if phone.is_empty() {
            t_args("not-me-call", &[("clinic", name)])
        } else {
            t_args("not-me-call-phone", &[("clinic", name), ("phone", phone)])
        }
    };
    let report = move |_| {
        if busy.get_untracked() {
            return;
        }
        let Some(tok) = token.get_untracked() else {
            step.set(Step::Refused(CodeProblem::NotAccepted));
            return;
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let r = server_fns::report_not_me(tok).await;
            busy.set(false);
            match r {
                Ok(()) => step.set(Step::Done),
                Err(ApiError::CodeRejected(p)) => step.set(Step::Refused(p)),
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    view! {
        <section class="card">
            {move || match step.get() {
                Step::Ask => view! {
                    <PageHeading text=t("not-me-title") />
                    <p>{t("not-me-body")}</p>
                    <ul>
                        <li>{t("not-me-will-sign-out")}</li>
                        <li>{t("not-me-will-pause")}</li>
                        <li>{t("not-me-will-lock")}</li>
                        <li>{t("not-me-will-tell")}</li>
                    </ul>
                    <Alert message=error id="not-me-error" />
                    <button
                        type="button"
                        class="primary"
                        on:click=report
                        aria-disabled=move || if busy.get() { "true" } else { "false" }
                    >
                        {move || if busy.get() { t("not-me-busy") } else { t("not-me-continue") }}
                    </button>
                    <p><a href="/">{t("not-me-was-me")}</a></p>
                }.into_any(),
                Step::Done => view! {
                    <PageHeading text=t("not-me-done-title") />
                    <p>{t("not-me-done-body")}</p>
                    <p><strong>{call}</strong></p>
                }.into_any(),
                Step::Refused(p) => view! {
                    <PageHeading text=t("not-me-refused-title") />
                    <p>{match p {
                        CodeProblem::Expired => t("not-me-expired"),
                        _ => t("not-me-not-accepted"),
                    }}</p>
                    <p><strong>{call}</strong></p>
                }.into_any(),
            }}
        </section>
    }
}
