//! Settings > Two-step verification (issue 12): the methods added, adding an authenticator
//! app by QR code or typed key, saved recovery codes shown once (copy, download, print), and
//! the page a person the clinic requires a second step of is sent to before anything else.

use carekey_shared::{
    ApiError, AuthenticatorSetup, CodeRoute, SecondStepMethod, SecondStepOffer, SentCodeSent,
    SentCodeTarget, SessionInfo, TwoStepMethod, TwoStepStatus, server_fns,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::errors::error_text;
use crate::fields::{Alert, PasswordField, TextField};
use crate::i18n::{t, t_args, t_num};
use crate::nav::use_go;
use crate::page::{PageHeading, RequireSession};
use crate::passkey;
use crate::password::PageLinks;
use crate::session::use_session;

fn when(ms: i64) -> String {
    String::from(
        js_sys::Date::new(&(ms as f64).into()).to_locale_string("default", &js_sys::Object::new()),
    )
}

#[component]
pub fn TwoStepPage(links: PageLinks, back_href: &'static str, back_label: String) -> impl IntoView {
    view! {
        <RequireSession sign_in_href=links.sign_in change_href=links.forced_change allow_enrol=true>
            <TwoStepContent links=links back_href=back_href back_label=back_label.clone() />
        </RequireSession>
    }
}

#[component]
fn TwoStepContent(links: PageLinks, back_href: &'static str, back_label: String) -> impl IntoView {
    let session = use_session();
    let go = use_go();
    let must_add = move || session.info.get().is_some_and(|i| i.must_add_second_step);
    let refresh = RwSignal::new(0u32);
    let status = LocalResource::new(move || {
        refresh.track();
        async move {
            let r = server_fns::two_step_status().await;
            if r.is_ok() {
                session.touch();
            }
            r
        }
    });
    // Opened to add the second step the clinic requires: once it is added and the codes are
    // saved, the person goes on to their home page.
    let enrolling = session
        .info
        .get_untracked()
        .is_some_and(|i| i.must_add_second_step);
    // Codes just made, shown once until the person says they have saved them.
    let fresh_codes = RwSignal::new(Vec::<String>::new());
    let announce = RwSignal::new(None::<String>);
    let saved = Callback::new(move |_: ()| {
        fresh_codes.set(vec![]);
        if enrolling
            && session
                .info
                .get_untracked()
                .is_some_and(|i| !i.must_add_second_step)
        {
            go(links.home);
        }
    });
    view! {
        <section class="card">
            <PageHeading text=t("two-step-title") />
            <Show when=must_add>
                <p class="notice" role="status">{t("two-step-required-notice")}</p>
            </Show>
            <div role="status" class="notice" class:empty=move || announce.get().is_none()>{move || announce.get()}</div>
            <Show
                when=move || !fresh_codes.get().is_empty()
                fallback=move || view! {
                    <p>{t("two-step-intro")}</p>
                    <Suspense fallback=|| view! { <p role="status">{t("loading")}</p> }>
                        {move || status.get().map(|r| match r {
                            Ok(s) => view! {
                                <Methods status=s.clone() refresh=refresh announce=announce />
                                {(s.passkeys && passkey::supported()).then(|| view! {
                                    <AddPasskey refresh=refresh fresh_codes=fresh_codes announce=announce />
                                })}
                                <AddApp refresh=refresh fresh_codes=fresh_codes announce=announce />
                                {(!s.can_send_to.is_empty()).then(|| view! {
                                    <AddSentCode targets=s.can_send_to.clone() refresh=refresh fresh_codes=fresh_codes announce=announce />
                                })}
                                <BackupCodes status=s fresh_codes=fresh_codes />
                            }.into_any(),
                            Err(e) => view! { <p role="alert">{error_text(&e)}</p> }.into_any(),
                        })}
                    </Suspense>
                }
            >
                <ShowCodes codes=fresh_codes.get() />
                <button type="button" class="primary" on:click=move |_| saved.run(())>{t("two-step-codes-saved")}</button>
            </Show>
            <Show when=move || !must_add()>
                <p><a href=back_href>{back_label.clone()}</a></p>
            </Show>
        </section>
    }
}

#[component]
fn Methods(
    status: TwoStepStatus,
    refresh: RwSignal<u32>,
    announce: RwSignal<Option<String>>,
) -> impl IntoView {
    let required = status.required;
    let only_one = status.methods.len() == 1;
    view! {
        <h2 id="two-step-methods">{t("two-step-methods")}</h2>
        {if status.methods.is_empty() {
            view! { <p>{t("two-step-none")}</p> }.into_any()
        } else {
            view! {
                <ul class="devices" aria-labelledby="two-step-methods">
                    {status.methods.into_iter().map(|m| view! {
                        <MethodRow m=m refresh=refresh announce=announce locked=required && only_one />
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
    }
}

#[component]
fn MethodRow(
    m: TwoStepMethod,
    refresh: RwSignal<u32>,
    announce: RwSignal<Option<String>>,
    /// The clinic requires a second step and this is the only one: it cannot be removed.
    locked: bool,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let current = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let id = m.id;
    let name = m.name.clone();
    let remove = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let c = current.get_untracked();
        if c.is_empty() {
            error.set(Some(t("two-step-password-missing")));
            return;
        }
        busy.set(true);
        let name = name.clone();
        spawn_local(async move {
            let r = server_fns::remove_two_step_method(id, c).await;
            busy.set(false);
            match r {
                Ok(_) => {
                    announce.set(Some(t_args("two-step-removed", &[("name", name)])));
                    refresh.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    let used = m.last_used_at_ms.map_or_else(
        || t("two-step-never-used"),
        |at| t_args("two-step-last-used", &[("when", when(at))]),
    );
    let remove_label = t_args("two-step-remove", &[("name", m.name.clone())]);
    view! {
        <li>
            <strong>{m.name.clone()}</strong>
            " · " {match m.kind {
                SecondStepMethod::Passkey => t("two-step-kind-passkey"),
                SecondStepMethod::SentCode => t("two-step-kind-sent"),
                _ => t("two-step-kind-app"),
            }}
            <br />
            <span class="hint">{t_args("two-step-added", &[("when", when(m.added_at_ms))])} " " {used}</span>
            {if locked {
                view! { <p class="hint">{t("two-step-only-one")}</p> }.into_any()
            } else {
                view! {
                    <Show when=move || confirming.get() fallback=move || view! {
                        <button type="button" on:click=move |_| confirming.set(true)>{remove_label.clone()}</button>
                    }>
                        <form class="stack" on:submit=remove.clone() novalidate>
                            <Alert message=error id="two-step-remove-error" />
                            <PasswordField id="two-step-remove-password" label=t("change-current-password") value=current autocomplete="current-password" />
                            <button type="submit" aria-disabled=move || if busy.get() { "true" } else { "false" }>{t("two-step-remove-confirm")}</button>
                        </form>
                    </Show>
                }.into_any()
            }}
        </li>
    }
}

/// Adding a passkey: named, authorised with the current password before the browser makes
/// it, then made by the browser (fingerprint, face, screen lock or security key).
#[component]
fn AddPasskey(
    refresh: RwSignal<u32>,
    fresh_codes: RwSignal<Vec<String>>,
    announce: RwSignal<Option<String>>,
) -> impl IntoView {
    let session = use_session();
    let name = RwSignal::new(String::new());
    let current = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let ask_password = RwSignal::new(
        !session
            .info
            .get_untracked()
            .is_some_and(|i| i.must_add_second_step),
    );
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let p = current.get_untracked();
        if ask_password.get_untracked() && p.is_empty() {
            error.set(Some(t("two-step-password-missing")));
            return;
        }
        busy.set(true);
        error.set(None);
        let n = name.get_untracked();
        spawn_local(async move {
            let r = match server_fns::start_passkey(n, p).await {
                Ok(c) => match passkey::create(&c.options).await {
                    Ok(credential) => server_fns::confirm_passkey(c.id, credential).await,
                    Err(passkey::PasskeyError::Cancelled) => {
                        busy.set(false);
                        error.set(Some(t("two-step-passkey-cancelled")));
                        return;
                    }
                    Err(_) => Err(ApiError::PasskeyNotAccepted),
                },
                Err(e) => Err(e),
            };
            busy.set(false);
            match r {
                Ok(done) => {
                    session.signed_in(done.session);
                    current.set(String::new());
                    name.set(String::new());
                    announce.set(Some(t("two-step-added-passkey")));
                    fresh_codes.set(done.backup_codes);
                    refresh.update(|n| *n += 1);
                }
                Err(ApiError::CurrentPasswordIncorrect) if !ask_password.get_untracked() => {
                    ask_password.set(true);
                    error.set(Some(t("two-step-password-again")));
                }
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    view! {
        <h2>{t("two-step-add-passkey")}</h2>
        <p>{t("two-step-passkey-explain")}</p>
        <form class="stack" on:submit=add novalidate>
            <Alert message=error id="two-step-passkey-error" />
            <TextField id="two-step-passkey-name" label=t("two-step-passkey-name") value=name hint=t("two-step-passkey-name-hint") />
            <Show when=move || ask_password.get()>
                <PasswordField id="two-step-passkey-password" label=t("change-current-password") value=current autocomplete="current-password" />
            </Show>
            <button type="submit" aria-disabled=move || if busy.get() { "true" } else { "false" }>{t("two-step-passkey-start")}</button>
        </form>
    }
}

#[component]
fn AddApp(
    refresh: RwSignal<u32>,
    fresh_codes: RwSignal<Vec<String>>,
    announce: RwSignal<Option<String>>,
) -> impl IntoView {
    let session = use_session();
    let name = RwSignal::new(String::new());
    let setup = RwSignal::new(None::<AuthenticatorSetup>);
    let code = RwSignal::new(String::new());
    let current = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // Right after a sign-in the clinic made add a second step, the password is not asked
    // again (the server checks it was proved minutes ago); if it was not, it is asked.
    let ask_password = RwSignal::new(
        !session
            .info
            .get_untracked()
            .is_some_and(|i| i.must_add_second_step),
    );
    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let n = name.get_untracked();
        spawn_local(async move {
            let r = server_fns::start_authenticator(n).await;
            busy.set(false);
            match r {
                Ok(s) => setup.set(Some(s)),
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let Some(s) = setup.get_untracked() else {
            return;
        };
        let (c, p) = (code.get_untracked(), current.get_untracked());
        if c.trim().is_empty() || (ask_password.get_untracked() && p.is_empty()) {
            error.set(Some(t("two-step-confirm-missing")));
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let r = server_fns::confirm_authenticator(s.id, c, p).await;
            busy.set(false);
            match r {
                Ok(done) => {
                    session.signed_in(done.session);
                    setup.set(None);
                    code.set(String::new());
                    current.set(String::new());
                    name.set(String::new());
                    announce.set(Some(t("two-step-added-app")));
                    fresh_codes.set(done.backup_codes);
                    refresh.update(|n| *n += 1);
                }
                Err(ApiError::CodeRejected(_)) => {
                    code.set(String::new());
                    error.set(Some(t("two-step-setup-code-wrong")));
                }
                Err(ApiError::CurrentPasswordIncorrect) if !ask_password.get_untracked() => {
                    ask_password.set(true);
                    error.set(Some(t("two-step-password-again")));
                }
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    view! {
        <h2>{t("two-step-add-app")}</h2>
        <Show
            when=move || setup.get().is_some()
            fallback=move || view! {
                <p>{t("two-step-app-explain")}</p>
                <form class="stack" on:submit=start novalidate>
                    <Alert message=error id="two-step-start-error" />
                    <TextField id="two-step-name" label=t("two-step-name") value=name hint=t("two-step-name-hint") />
                    <button type="submit" aria-disabled=move || if busy.get() { "true" } else { "false" }>{t("two-step-start")}</button>
                </form>
            }
        >
            {move || setup.get().map(|s| view! {
                <ol class="steps">
                    <li>
                        <p>{t("two-step-scan")}</p>
                        <div class="qr" role="img" aria-label=t("two-step-qr-label") inner_html=s.qr_svg.clone()></div>
                    </li>
                    <li>
                        <p id="two-step-key-intro">{t("two-step-key-intro")}</p>
                        <p><code id="two-step-key" aria-describedby="two-step-key-intro">{s.key.clone()}</code></p>
                    </li>
                    <li>
                        <form class="stack" on:submit=confirm novalidate>
                            <Alert message=error id="two-step-confirm-error" />
                            <TextField id="two-step-code" label=t("two-step-code") value=code inputmode="numeric" autocomplete="one-time-code" />
                            <Show when=move || ask_password.get()>
                                <PasswordField id="two-step-password" label=t("change-current-password") value=current autocomplete="current-password" />
                            </Show>
                            <button type="submit" class="primary" aria-disabled=move || if busy.get() { "true" } else { "false" }>{t("two-step-confirm")}</button>
                        </form>
                    </li>
                </ol>
            })}
        </Show>
    }
}

/// "a text to •••-•••-0123": where a sent code goes, in words.
fn target_text(t_: &SentCodeTarget) -> String {
    let id = match t_.route {
        CodeRoute::Text => "two-step-route-text",
        CodeRoute::Call => "two-step-route-call",
        CodeRoute::Email => "two-step-route-email",
    };
    t_args(id, &[("masked", t_.masked.clone())])
}

/// Adding codes sent to a contact on file: choose where, confirm with the password, then type
/// back the first code, which proves it arrives.
#[component]
fn AddSentCode(
    targets: Vec<SentCodeTarget>,
    refresh: RwSignal<u32>,
    fresh_codes: RwSignal<Vec<String>>,
    announce: RwSignal<Option<String>>,
) -> impl IntoView {
    let session = use_session();
    let chosen = RwSignal::new(targets.first().map_or(0, |t| t.id));
    let sent = RwSignal::new(None::<SentCodeSent>);
    let said = RwSignal::new(None::<String>);
    let code = RwSignal::new(String::new());
    let current = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let ask_password = RwSignal::new(
        !session
            .info
            .get_untracked()
            .is_some_and(|i| i.must_add_second_step),
    );
    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let p = current.get_untracked();
        if ask_password.get_untracked() && p.is_empty() {
            error.set(Some(t("two-step-password-missing")));
            return;
        }
        busy.set(true);
        error.set(None);
        let to = chosen.get_untracked();
        spawn_local(async move {
            let r = server_fns::start_sent_code(to, p).await;
            busy.set(false);
            match r {
                Ok(s) => {
                    current.set(String::new());
                    said.set(Some(t_args(
                        "two-step-sent-sent",
                        &[
                            ("where", target_text(&s.target)),
                            ("reference", s.reference.clone()),
                        ],
                    )));
                    sent.set(Some(s));
                    // The form with the focused button is gone: focus goes to the code field
                    // once it is drawn.
                    request_animation_frame(|| {
                        if let Some(el) = document().get_element_by_id("two-step-sent-code") {
                            let el: web_sys::HtmlElement = el.unchecked_into();
                            let _ = el.focus();
                        }
                    });
                }
                Err(ApiError::CurrentPasswordIncorrect) if !ask_password.get_untracked() => {
                    ask_password.set(true);
                    error.set(Some(t("two-step-password-again")));
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
        let Some(s) = sent.get_untracked() else {
            return;
        };
        let c = code.get_untracked();
        if c.trim().is_empty() {
            error.set(Some(t("two-step-confirm-missing")));
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let r = server_fns::confirm_sent_code(s.id, c).await;
            busy.set(false);
            match r {
                Ok(done) => {
                    session.signed_in(done.session);
                    sent.set(None);
                    said.set(None);
                    code.set(String::new());
                    announce.set(Some(t("two-step-added-sent")));
                    fresh_codes.set(done.backup_codes);
                    refresh.update(|n| *n += 1);
                }
                Err(ApiError::CodeRejected(_)) => {
                    code.set(String::new());
                    error.set(Some(t("two-step-sent-code-wrong")));
                }
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    let choices = targets.clone();
    view! {
        <h2>{t("two-step-add-sent")}</h2>
        // In the page from the start, so its words are announced when they come.
        <p role="status" class="notice" class:empty=move || said.get().is_none()>{move || said.get()}</p>
        <Show
            when=move || sent.get().is_some()
            fallback=move || {
                let choices = choices.clone();
                view! {
                    <p>{t("two-step-sent-explain")}</p>
                    <form class="stack" on:submit=start novalidate>
                        <Alert message=error id="two-step-sent-error" />
                        <fieldset>
                            <legend>{t("two-step-sent-where")}</legend>
                            {choices.into_iter().map(|tg| {
                                let id = tg.id;
                                let input_id = format!("two-step-sent-{id}");
                                let label_for = input_id.clone();
                                view! {
                                    <label class="check" for=label_for>
                                        <input type="radio" id=input_id name="two-step-sent-to"
                                            prop:checked=move || chosen.get() == id
                                            on:change=move |_| chosen.set(id) />
                                        {target_text(&tg)}
                                    </label>
                                }
                            }).collect_view()}
                        </fieldset>
                        <Show when=move || ask_password.get()>
                            <PasswordField id="two-step-sent-password" label=t("change-current-password") value=current autocomplete="current-password" />
                        </Show>
                        <button type="submit" aria-disabled=move || if busy.get() { "true" } else { "false" }>{t("two-step-sent-start")}</button>
                    </form>
                }
            }
        >
            <form class="stack" on:submit=confirm novalidate>
                <Alert message=error id="two-step-sent-confirm-error" />
                <TextField id="two-step-sent-code" label=t("two-step-sent-code") value=code inputmode="numeric" autocomplete="one-time-code" />
                <button type="submit" class="primary" aria-disabled=move || if busy.get() { "true" } else { "false" }>{t("two-step-confirm")}</button>
                // Nothing came, or the wrong number: back to the choice, to send again.
                <button type="button" class="link" on:click=move |_| {
                    sent.set(None);
                    said.set(None);
                    code.set(String::new());
                    error.set(None);
                }>{t("second-step-send-again")}</button>
            </form>
        </Show>
    }
}

#[component]
fn BackupCodes(status: TwoStepStatus, fresh_codes: RwSignal<Vec<String>>) -> impl IntoView {
    let current = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let has_method = !status.methods.is_empty();
    let regenerate = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let c = current.get_untracked();
        if c.is_empty() {
            error.set(Some(t("two-step-password-missing")));
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let r = server_fns::regenerate_backup_codes(c).await;
            busy.set(false);
            match r {
                Ok(codes) => {
                    current.set(String::new());
                    fresh_codes.set(codes);
                }
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    has_method.then(|| {
        view! {
            <h2>{t("two-step-codes-title")}</h2>
            <p>{t_num("two-step-codes-left", "count", i64::from(status.backup_codes_left))}</p>
            <form class="stack" on:submit=regenerate novalidate>
                <p class="hint">{t("two-step-codes-regenerate-hint")}</p>
                <Alert message=error id="two-step-codes-error" />
                <PasswordField id="two-step-codes-password" label=t("change-current-password") value=current autocomplete="current-password" />
                <button type="submit" aria-disabled=move || if busy.get() { "true" } else { "false" }>{t("two-step-codes-regenerate")}</button>
            </form>
        }
    })
}

/// Ten codes, shown once: to copy, download as a file or print.
#[component]
fn ShowCodes(codes: Vec<String>) -> impl IntoView {
    let text = codes.join("\n");
    let file = format!(
        "data:text/plain;charset=utf-8,{}",
        String::from(js_sys::encode_uri_component(&format!("{text}\n")))
    );
    let copied = RwSignal::new(None::<String>);
    let copy_text = text.clone();
    let copy = move |_| {
        let clipboard = window().navigator().clipboard();
        let promise = clipboard.write_text(&copy_text);
        spawn_local(async move {
            let ok = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
            copied.set(Some(if ok {
                t("two-step-codes-copied")
            } else {
                t("two-step-codes-copy-failed")
            }));
        });
    };
    view! {
        <h2 id="two-step-codes-heading">{t("two-step-codes-save-title")}</h2>
        <p>{t("two-step-codes-save-intro")}</p>
        <ol id="backup-codes" class="codes" aria-labelledby="two-step-codes-heading">
            {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
        </ol>
        <div class="actions">
            <button type="button" on:click=copy>{t("two-step-codes-copy")}</button>
            <a class="button" href=file download="recovery-codes.txt">{t("two-step-codes-download")}</a>
            <button type="button" on:click=move |_| { let _ = window().print(); }>{t("two-step-codes-print")}</button>
        </div>
        <div role="status" class="notice" class:empty=move || copied.get().is_none()>{move || copied.get()}</div>
    }
}

/// The second step of a sign-in, on a page of its own: `sign_in_href` is where a sign-in that
/// ended (timed out, or paused meanwhile) starts again.
#[component]
pub fn SecondStepPage(
    on_success: Callback<SessionInfo>,
    sign_in_href: &'static str,
) -> impl IntoView {
    let session = use_session();
    let go = use_go();
    let offer = LocalResource::new(server_fns::second_step_offer);
    let on_success = Callback::new(move |info: SessionInfo| {
        session.signed_in(info.clone());
        on_success.run(info);
    });
    let restart = Callback::new(move |why: Option<String>| {
        session.notice.set(why);
        go(sign_in_href);
    });
    view! {
        <section class="card">
            <PageHeading text=t("second-step-title") />
            <Suspense fallback=|| view! { <p role="status">{t("loading")}</p> }>
                {move || offer.get().map(|r| match r {
                    Ok(o) => view! {
                        <SecondStepForm offer=o on_success=on_success on_restart=restart />
                    }.into_any(),
                    Err(ApiError::NotSignedIn) => {
                        restart.run(Some(t("second-step-expired")));
                        ().into_any()
                    }
                    Err(e) => view! { <p role="alert">{error_text(&e)}</p> }.into_any(),
                })}
            </Suspense>
        </section>
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
    // A browser without passkeys is not offered one (the account's other methods remain).
    let others: Vec<SecondStepMethod> = offer
        .methods
        .iter()
        .copied()
        .filter(|m| *m != SecondStepMethod::Passkey || passkey::supported())
        .collect();
    let preferred = if others.contains(&offer.preferred) {
        offer.preferred
    } else {
        others.first().copied().unwrap_or(offer.preferred)
    };
    let method = RwSignal::new(preferred);
    let targets = offer.targets.clone();
    let target = RwSignal::new(targets.first().map_or(0, |t| t.id));
    // The code on its way, said once it was sent: where, and its reference.
    let sent = RwSignal::new(None::<String>);
    let code = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let choosing = RwSignal::new(false);
    let remember = RwSignal::new(false);
    let session = use_session();
    let remember_days = move || session.portal.get().map_or(0, |p| p.remember_days);
    let input = NodeRef::<leptos::html::Input>::new();
    let submit_button = NodeRef::<leptos::html::Button>::new();
    // Focus moves to the code field when the step appears and when the method changes (to
    // the button for a passkey, which has no field), so a keyboard or screen-reader user is
    // where the next thing to do is.
    let send_button = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        choosing.track();
        let m = method.get();
        if m == SecondStepMethod::Passkey {
            if let Some(el) = submit_button.get() {
                let _ = el.focus();
            }
        } else if m == SecondStepMethod::SentCode && sent.get_untracked().is_none() {
            // Nothing to type yet: the next thing to do is to ask for a code.
            if let Some(el) = send_button.get() {
                let _ = el.focus();
            }
        } else if let Some(el) = input.get() {
            let _ = el.focus();
        }
    });
    let answered = move |r: Result<SessionInfo, ApiError>| match r {
        Ok(info) => on_success.run(info),
        Err(ApiError::NotSignedIn) => on_restart.run(Some(t("second-step-expired"))),
        Err(ApiError::SecondStepFailed) => {
            code.set(String::new());
            error.set(Some(
                if method.get_untracked() == SecondStepMethod::Passkey {
                    t("second-step-passkey-failed")
                } else {
                    t("error-second-step-failed")
                },
            ));
        }
        Err(e) => error.set(Some(error_text(&e))),
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        if method.get_untracked() == SecondStepMethod::Passkey {
            busy.set(true);
            error.set(None);
            let keep = remember.get_untracked();
            spawn_local(async move {
                let r = match server_fns::second_step_passkey_options().await {
                    Ok(c) => match passkey::get(&c.options, false, None).await {
                        Ok(credential) => {
                            server_fns::verify_second_step_passkey(c.id, credential, keep).await
                        }
                        Err(passkey::PasskeyError::Cancelled) => {
                            busy.set(false);
                            error.set(Some(t("second-step-passkey-cancelled")));
                            return;
                        }
                        Err(_) => Err(ApiError::SecondStepFailed),
                    },
                    Err(e) => Err(e),
                };
                busy.set(false);
                answered(r);
            });
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
            let r = server_fns::verify_second_step(m, typed, keep).await;
            busy.set(false);
            answered(r);
        });
    };
    let send = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let to = target.get_untracked();
        spawn_local(async move {
            let r = server_fns::send_second_step_code(to).await;
            busy.set(false);
            match r {
                Ok(s) => {
                    sent.set(Some(t_args(
                        "second-step-sent",
                        &[
                            ("where", target_text(&s.target)),
                            ("reference", s.reference.clone()),
                        ],
                    )));
                    if let Some(el) = input.get_untracked() {
                        let _ = el.focus();
                    }
                }
                Err(ApiError::NotSignedIn) => on_restart.run(Some(t("second-step-expired"))),
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    let intro = move || match method.get() {
        SecondStepMethod::AuthenticatorApp => t("second-step-app-intro"),
        SecondStepMethod::BackupCode => t("second-step-backup-intro"),
        SecondStepMethod::Passkey => t("second-step-passkey-intro"),
        SecondStepMethod::SentCode => t("second-step-sent-intro"),
    };
    let label = move || match method.get() {
        SecondStepMethod::AuthenticatorApp => t("second-step-app-label"),
        SecondStepMethod::SentCode => t("second-step-sent-label"),
        SecondStepMethod::BackupCode | SecondStepMethod::Passkey => t("second-step-backup-label"),
    };
    let choice = move |m: SecondStepMethod| {
        let text = match m {
            SecondStepMethod::AuthenticatorApp => t("second-step-use-app"),
            SecondStepMethod::BackupCode => t("second-step-use-backup"),
            SecondStepMethod::Passkey => t("second-step-use-passkey"),
            SecondStepMethod::SentCode => t("second-step-use-sent"),
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
        <form class="stack" on:submit=submit novalidate aria-label=t("second-step-title")>
            <div id="second-step-error" class="alert" role="alert" class:empty=move || error.get().is_none()>
                {move || error.get().map(|e| view! { <p>{e}</p> })}
            </div>
            <p id="second-step-intro">{intro}</p>
            <Show when=move || method.get() == SecondStepMethod::SentCode>
                {
                    let targets = targets.clone();
                    let none = targets.is_empty();
                    view! {
                        {none.then(|| view! { <p>{t("second-step-sent-none")}</p> })}
                        <fieldset>
                            <legend>{t("second-step-sent-where")}</legend>
                            {targets.into_iter().map(|tg| {
                                let id = tg.id;
                                let input_id = format!("second-step-to-{id}");
                                let label_for = input_id.clone();
                                view! {
                                    <label class="check" for=label_for>
                                        <input type="radio" id=input_id name="second-step-to"
                                            prop:checked=move || target.get() == id
                                            on:change=move |_| target.set(id) />
                                        {target_text(&tg)}
                                    </label>
                                }
                            }).collect_view()}
                        </fieldset>
                        <button type="button" node_ref=send_button hidden=none on:click=send aria-disabled=move || if busy.get() { "true" } else { "false" }>
                            {move || if sent.get().is_some() { t("second-step-send-again") } else { t("second-step-send") }}
                        </button>
                        <p role="status" class="notice" class:empty=move || sent.get().is_none()>{move || sent.get()}</p>
                    }
                }
            </Show>
            <div class="field" hidden=move || method.get() == SecondStepMethod::Passkey>
                <label for="second-step-code">{label}</label>
                <input
                    id="second-step-code"
                    name="second-step-code"
                    type="text"
                    node_ref=input
                    inputmode=move || match method.get() {
                        SecondStepMethod::AuthenticatorApp | SecondStepMethod::SentCode => "numeric",
                        SecondStepMethod::BackupCode | SecondStepMethod::Passkey => "text",
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
                        {move || t_num("second-step-remember", "days", i64::from(remember_days()))}
                    </label>
                    <p class="hint" id="second-step-remember-hint">{t("second-step-remember-hint")}</p>
                </div>
            </Show>
            <button type="submit" class="primary" node_ref=submit_button aria-describedby="second-step-intro"
                aria-disabled=move || if busy.get() { "true" } else { "false" }>
                {move || match (busy.get(), method.get()) {
                    (true, _) => t("second-step-busy"),
                    (false, SecondStepMethod::Passkey) => t("second-step-passkey-submit"),
                    (false, _) => t("second-step-submit"),
                }}
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
