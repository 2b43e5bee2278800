//! Labelled form fields. Every input has a visible label, errors are tied to the field with
//! `aria-describedby`, and password fields allow paste and password managers (ASVS 6.2.6/6.2.7).

use leptos::prelude::*;

use crate::i18n::{t, t_args};

#[component]
pub fn TextField(
    id: &'static str,
    label: String,
    value: RwSignal<String>,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] hint: Option<String>,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(default = "text")] inputmode: &'static str,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let has_hint = hint.is_some();
    view! {
        <div class="field">
            <label for=id>{label}</label>
            {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
            <input
                id=id
                name=id
                type=input_type
                inputmode=inputmode
                autocomplete=autocomplete
                autocapitalize="none"
                spellcheck="false"
                aria-describedby=has_hint.then(|| format!("{id}-hint"))
                bind:value=value
            />
        </div>
    }
}

#[component]
pub fn PasswordField(
    id: &'static str,
    label: String,
    value: RwSignal<String>,
    /// "current-password" or "new-password", so managers fill or generate correctly.
    autocomplete: &'static str,
    #[prop(optional)] describedby: Option<&'static str>,
    /// Called when the field gets focus (new-password fields start loading the common list).
    #[prop(optional)]
    on_focus: Option<Callback<()>>,
) -> impl IntoView {
    let shown = RwSignal::new(false);
    // The visible text flips between Show and Hide, so the button is not also a pressed-state
    // toggle (announcing both would contradict itself).
    let field = label.to_lowercase();
    let toggle_name = move || {
        let id = if shown.get() {
            "password-hide-field"
        } else {
            "password-show-field"
        };
        t_args(id, &[("field", field.clone())])
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <div class="password-row">
                <input
                    id=id
                    name=id
                    type=move || if shown.get() { "text" } else { "password" }
                    autocomplete=autocomplete
                    autocapitalize="none"
                    spellcheck="false"
                    aria-describedby=describedby
                    bind:value=value
                    on:focus=move |_| {
                        if let Some(f) = on_focus {
                            f.run(());
                        }
                    }
                />
                <button
                    type="button"
                    class="toggle"
                    aria-controls=id
                    aria-label=toggle_name
                    on:click=move |_| shown.update(|s| *s = !*s)
                >
                    {move || if shown.get() { t("password-hide") } else { t("password-show") }}
                </button>
            </div>
        </div>
    }
}

/// A message region that screen readers announce when its text changes. It stays in the page
/// while empty: a region inserted together with its text is often not announced.
#[component]
pub fn Alert(
    message: RwSignal<Option<String>>,
    #[prop(default = "alert")] id: &'static str,
) -> impl IntoView {
    view! {
        <div id=id class="alert" role="alert" class:empty=move || message.get().is_none()>
            {move || message.get()}
        </div>
    }
}
