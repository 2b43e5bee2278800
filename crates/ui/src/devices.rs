//! "Signed-in devices": where this account is signed in, and "sign out everywhere else".

use carekey_shared::{DeviceSession, server_fns};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::errors::error_text;
use crate::i18n::{t, t_args, t_num};
use crate::session::use_session;

fn when(ms: i64) -> String {
    String::from(
        js_sys::Date::new(&(ms as f64).into()).to_locale_string("default", &js_sys::Object::new()),
    )
}

#[component]
pub fn SignedInDevices() -> impl IntoView {
    let session = use_session();
    let refresh = RwSignal::new(0u32);
    let status = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let remembered = LocalResource::new(move || {
        refresh.track();
        server_fns::remembered_devices()
    });
    let devices = LocalResource::new(move || {
        refresh.track();
        async move {
            let r = server_fns::list_sessions().await;
            if r.is_ok() {
                session.touch();
            }
            r
        }
    });
    let others = move || {
        devices
            .get()
            .and_then(|r| r.ok())
            .map_or(0, |d| d.iter().filter(|s| !s.current).count())
    };
    let sign_out_others = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let r = server_fns::sign_out_other_sessions().await;
            busy.set(false);
            status.set(Some(match r {
                Ok(n) => t_num("devices-signed-out", "count", i64::from(n)),
                Err(e) => error_text(&e),
            }));
            refresh.update(|n| *n += 1);
        });
    };
    let row = |d: DeviceSession| {
        let label = if d.current {
            t_args("devices-this-one", &[("device", d.device.clone())])
        } else {
            d.device.clone()
        };
        view! {
            <li>
                <strong>{label}</strong>
                <br />
                <span class="hint">
                    {t_args("devices-times", &[
                        ("signed_in", when(d.signed_in_at_ms)),
                        ("active", when(d.last_active_at_ms)),
                    ])}
                </span>
            </li>
        }
    };
    view! {
        <h2 id="devices-heading">{t("devices-title")}</h2>
        <Suspense fallback=|| view! { <p role="status">{t("loading")}</p> }>
            {move || devices.get().map(|r| match r {
                Ok(list) => view! {
                    <ul class="devices" aria-labelledby="devices-heading">
                        {list.into_iter().map(row).collect_view()}
                    </ul>
                }.into_any(),
                Err(e) => view! { <p role="alert">{error_text(&e)}</p> }.into_any(),
            })}
        </Suspense>
        {move || remembered.get().and_then(|r| r.ok()).filter(|l| !l.is_empty()).map(|list| view! {
            <h3 id="remembered-heading">{t("devices-remembered-title")}</h3>
            <ul class="devices" aria-labelledby="remembered-heading">
                {list.into_iter().map(|d| view! {
                    <li>
                        <strong>{d.device}</strong>
                        <br />
                        <span class="hint">{t_args("devices-remembered-until", &[("until", when(d.until_ms))])}</span>
                    </li>
                }).collect_view()}
            </ul>
        })}
        <div role="status" class="notice" class:empty=move || status.get().is_none()>{move || status.get()}</div>
        <Show when=move || { others() > 0 }>
            <button
                type="button"
                on:click=sign_out_others
                aria-disabled=move || if busy.get() { "true" } else { "false" }
            >
                {t("devices-sign-out-others")}
            </button>
        </Show>
    }
}
