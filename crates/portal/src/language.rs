//! Settings > Language for messages: the language on file, which the clinic's emails, texts,
//! calls and letters use (issue 13). Each choice is named in its own language and marked with
//! it (WCAG 3.1.2), so a patient who reads only one of them finds it.

use carekey_shared::{Lang, server_fns};
use carekey_ui::errors::error_text;
use carekey_ui::fields::Alert;
use carekey_ui::page::{PageHeading, RequireSession};
use carekey_ui::t;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn LanguagePage() -> impl IntoView {
    view! {
        <RequireSession sign_in_href="/" change_href="/change-password">
            <section class="card">
                <PageHeading text=t("language-title") />
                <LanguageForm />
                <p><a href="/settings">{t("back-settings")}</a></p>
            </section>
        </RequireSession>
    }
}

#[component]
fn LanguageForm() -> impl IntoView {
    let chosen = RwSignal::new(None::<Lang>);
    let on_file = RwSignal::new(None::<Lang>);
    let loaded = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    spawn_local(async move {
        match server_fns::my_language().await {
            Ok(l) => {
                on_file.set(l);
                chosen.set(l);
            }
            Err(e) => error.set(Some(error_text(&e))),
        }
        loaded.set(true);
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let Some(lang) = chosen.get_untracked() else {
            error.set(Some(t("language-missing")));
            return;
        };
        busy.set(true);
        error.set(None);
        status.set(None);
        spawn_local(async move {
            let r = server_fns::set_my_language(lang).await;
            busy.set(false);
            match r {
                Ok(l) => {
                    on_file.set(l);
                    status.set(Some(t("language-saved")));
                }
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    let choice = move |l: Lang| {
        let id = format!("language-{}", l.code());
        view! {
            <div class="choice">
                <input
                    type="radio"
                    name="language"
                    id=id.clone()
                    aria-describedby="language-hint"
                    prop:checked=move || chosen.get() == Some(l)
                    on:change=move |_| {
                        status.set(None);
                        chosen.set(Some(l));
                    }
                />
                <label for=id lang=l.code()>{l.own_name()}</label>
            </div>
        }
    };
    view! {
        <p>{t("language-intro")}</p>
        <Show when=move || loaded.get() fallback=|| view! { <p role="status">{t("loading")}</p> }>
            <form class="stack" on:submit=save novalidate>
                <Alert message=error id="language-error" />
                <fieldset class="choices">
                    <legend>{t("language-legend")}</legend>
                    <p class="hint" id="language-hint">
                        {move || if on_file.get().is_none() { t("language-none-yet") } else { t("language-hint") }}
                    </p>
                    {Lang::ALL.into_iter().map(choice).collect_view()}
                </fieldset>
                <button type="submit" class="primary" aria-disabled=move || if busy.get() { "true" } else { "false" }>
                    {move || if busy.get() { t("saving") } else { t("language-save") }}
                </button>
                <div role="status" class="notice" class:empty=move || status.get().is_none()>{move || status.get()}</div>
            </form>
        </Show>
    }
}
