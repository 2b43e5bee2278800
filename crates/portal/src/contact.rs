//! Settings > Manage Login Credentials > Email and phone: a new contact is confirmed by a code
//! sent to it, after the current password (SECURITY.md A5).

use carekey_shared::phone::{display_phone, home_calling_code};
use carekey_shared::{ContactChangeStarted, ContactInfo, ContactKind, normalize_code, server_fns};
use carekey_ui::errors::error_text;
use carekey_ui::fields::{Alert, PasswordField, TextField};
use carekey_ui::i18n::{Arg, t_with};
use carekey_ui::language::kept;
use carekey_ui::page::{PageHeading, RequireSession};
use carekey_ui::session::use_session;
use carekey_ui::t;
use leptos::prelude::*;
use leptos::task::spawn_local;

fn kind_label(k: ContactKind) -> String {
    t(match k {
        ContactKind::Email => "contact-kind-email",
        ContactKind::Mobile => "contact-kind-mobile",
        ContactKind::Landline => "contact-kind-landline",
    })
}

#[component]
pub fn ContactPage() -> impl IntoView {
    view! {
        <RequireSession sign_in_href="/" change_href="/change-password">
            <section class="card">
                <PageHeading text=t("contact-title") />
                <ContactForm />
                <p><a href="/settings">{t("back-settings")}</a></p>
            </section>
        </RequireSession>
    }
}

#[component]
fn ContactForm() -> impl IntoView {
    let session = use_session();
    let refresh = RwSignal::new(0u32);
    let on_file = LocalResource::new(move || {
        refresh.track();
        async move { server_fns::my_contacts().await }
    });
    // The step and what was typed survive a language switch (it re-renders the page).
    let kind = kept("contact.kind", || ContactKind::Email);
    let value = kept("contact.value", String::new);
    let current = kept("contact.current", String::new);
    let code = kept("contact.code", String::new);
    let started = kept("contact.started", || None::<ContactChangeStarted>);
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (k, v, c) = (
            kind.get_untracked(),
            value.get_untracked(),
            current.get_untracked(),
        );
        if v.trim().is_empty() || c.is_empty() {
            error.set(Some(t("contact-missing")));
            return;
        }
        busy.set(true);
        error.set(None);
        status.set(None);
        spawn_local(async move {
            let r = server_fns::start_contact_change(c, k, v).await;
            busy.set(false);
            match r {
                Ok(s) => {
                    session.touch();
                    current.set(String::new());
                    started.set(Some(s));
                }
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    let confirm = move |ev: leptos::ev::SubmitEvent| {
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
            let r = server_fns::confirm_contact_change(c).await;
            busy.set(false);
            match r {
                Ok(_) => {
                    session.touch();
                    started.set(None);
                    code.set(String::new());
                    value.set(String::new());
                    status.set(Some(t("contact-done")));
                    refresh.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    let choice = move |k: ContactKind, id: &'static str| {
        view! {
            <div class="choice">
                <input
                    type="radio"
                    name="contact-kind"
                    id=id
                    prop:checked=move || kind.get() == k
                    on:change=move |_| kind.set(k)
                />
                <label for=id>{kind_label(k)}</label>
            </div>
        }
    };
    // Stored as E.164; shown the way the patient writes it in the clinic's country.
    let home = move || {
        home_calling_code(
            &session
                .portal
                .get()
                .map(|p| p.clinic_phone)
                .unwrap_or_default(),
        )
    };
    let row = move |c: ContactInfo| {
        let value = match c.kind {
            ContactKind::Email => c.value,
            ContactKind::Mobile | ContactKind::Landline => display_phone(&c.value, home()),
        };
        view! { <li>{kind_label(c.kind)}": "{value}</li> }
    };
    view! {
        <h2 id="on-file">{t("contact-on-file")}</h2>
        <Suspense fallback=|| view! { <p role="status">{t("loading")}</p> }>
            {move || on_file.get().map(|r| match r {
                Ok(list) if list.is_empty() => view! { <p>{t("contact-none")}</p> }.into_any(),
                Ok(list) => view! {
                    <ul aria-labelledby="on-file">{list.into_iter().map(row).collect_view()}</ul>
                }.into_any(),
                Err(e) => view! { <p role="alert">{error_text(&e)}</p> }.into_any(),
            })}
        </Suspense>
        <div role="status" class="success" class:empty=move || status.get().is_none()>{move || status.get()}</div>
        <h2>{t("contact-change")}</h2>
        <Alert message=error id="contact-error" />
        <Show
            when=move || started.get().is_some()
            fallback=move || view! {
                <form class="stack" on:submit=send novalidate>
                    <fieldset class="choices">
                        <legend>{t("contact-which")}</legend>
                        {choice(ContactKind::Email, "kind-email")}
                        {choice(ContactKind::Mobile, "kind-mobile")}
                        {choice(ContactKind::Landline, "kind-landline")}
                    </fieldset>
                    {move || {
                        let email = kind.get() == ContactKind::Email;
                        view! {
                            <TextField
                                id="new-contact"
                                label=if email { t("contact-new-email") } else { t("contact-new-phone") }
                                value=value
                                autocomplete=if email { "email" } else { "tel" }
                                input_type=if email { "email" } else { "tel" }
                                inputmode=if email { "email" } else { "tel" }
                                hint=t("contact-code-hint")
                            />
                        }
                    }}
                    <PasswordField
                        id="current-password"
                        label=t("change-current-password")
                        value=current
                        autocomplete="current-password"
                    />
                    <button type="submit" class="primary" aria-disabled=move || if busy.get() { "true" } else { "false" }>
                        {move || if busy.get() { t("sending") } else { t("contact-send-code") }}
                    </button>
                </form>
            }
        >
            <p>
                {move || started.get().map(|s| t_with("contact-code-sent", &[
                    ("destination", Arg::Str(s.masked_destination)),
                    ("reference", Arg::Str(s.reference)),
                    ("minutes", Arg::Num(s.expires_in_secs.div_ceil(60) as i64)),
                ]))}
            </p>
            <form class="stack" on:submit=confirm novalidate>
                <TextField
                    id="contact-code"
                    label=t("recover-code")
                    value=code
                    autocomplete="one-time-code"
                    inputmode="numeric"
                    hint=t("recover-code-hint")
                />
                <button type="submit" class="primary" aria-disabled=move || if busy.get() { "true" } else { "false" }>
                    {move || if busy.get() { t("checking") } else { t("contact-confirm") }}
                </button>
            </form>
            <p><button type="button" class="link" on:click=move |_| started.set(None)>{t("contact-start-over")}</button></p>
        </Show>
    }
}
