//! Automatic logoff after inactivity, with a warning first (HIPAA 164.312(a)(2)(iii),
//! SECURITY.md S2). The server ends the session on its own clock; this dialog only tells the
//! person beforehand and lets them stay.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_bindgen::JsCast;
use std::time::Duration;

use crate::i18n::{t, t_num};
use crate::session::use_session;

#[component]
pub fn IdleWatcher(
    /// Called after the idle limit passed (the server has ended the session by then).
    on_timeout: Callback<()>,
    on_sign_out: Callback<()>,
) -> impl IntoView {
    let session = use_session();
    let now = RwSignal::new(js_sys::Date::now());
    let stay_button = NodeRef::<leptos::html::Button>::new();

    if let Ok(handle) =
        set_interval_with_handle(move || now.set(js_sys::Date::now()), Duration::from_secs(1))
    {
        on_cleanup(move || handle.clear());
    }

    let limits = move || {
        session
            .portal
            .get()
            .map(|p| (p.idle_timeout_secs as f64, p.idle_warning_secs as f64))
            .unwrap_or((900.0, 120.0))
    };
    let idle_secs = move || (now.get() - session.last_activity_ms.get()) / 1000.0;
    // Whichever comes first: the idle logoff or the end of the 12-hour lifetime (S2).
    let absolute_left = move || (session.absolute_deadline_ms.get() - now.get()) / 1000.0;
    let left = move || (limits().0 - idle_secs()).min(absolute_left()).max(0.0);
    let warning = move || session.info.get().is_some() && left() <= limits().1;

    Effect::new(move |_| {
        if session.info.get().is_some() && left() <= 0.0 {
            session.info.set(None);
            // The server ends the session on its own clock anyway; saying so now also covers a
            // browser whose clock runs ahead of the server's. The answer is awaited before
            // leaving: `on_timeout` loads another page, and a page that unloads cancels a
            // request still in flight, leaving the session open on the server.
            spawn_local(async move {
                let _ = carekey_shared::server_fns::sign_out().await;
                on_timeout.run(());
            });
        }
    });
    // Where focus was before the dialog took it, to give it back when the dialog closes.
    let return_focus = StoredValue::new_local(None::<web_sys::HtmlElement>);
    Effect::new(move |was_open: Option<bool>| {
        let open = warning();
        if open && was_open != Some(true) {
            return_focus.set_value(
                document()
                    .active_element()
                    .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()),
            );
            if let Some(b) = stay_button.get() {
                let _ = b.focus();
            }
        } else if !open
            && was_open == Some(true)
            && let Some(el) = return_focus.get_value()
        {
            let _ = el.focus();
        }
        open
    });

    let stay = move || {
        spawn_local(async move {
            match carekey_shared::server_fns::whoami().await {
                Ok(info) => session.signed_in(info),
                Err(_) => {
                    session.info.set(None);
                    on_timeout.run(());
                }
            }
        });
    };

    view! {
        <Show when=warning>
            <div class="overlay">
                <div
                    class="dialog"
                    role="alertdialog"
                    aria-modal="true"
                    aria-labelledby="idle-title"
                    aria-describedby="idle-body"
                    on:keydown=move |ev| {
                        // Escape dismisses the warning, which means staying signed in.
                        if ev.key() == "Escape" {
                            ev.prevent_default();
                            stay();
                        }
                    }
                >
                    <h2 id="idle-title">{t("idle-title")}</h2>
                    <p id="idle-body">
                        {move || t_num("idle-body", "minutes", (left() / 60.0).ceil() as i64)}
                    </p>
                    <div class="actions">
                        <button class="primary" node_ref=stay_button on:click=move |_| stay()>
                            {t("idle-stay")}
                        </button>
                        <button on:click=move |_| on_sign_out.run(())>{t("sign-out")}</button>
                    </div>
                </div>
            </div>
        </Show>
    }
}
