//! The signed-in user's menu in the header, as the WAI-ARIA menu button pattern: the button
//! says it opens a menu and whether it is open; arrow keys, Home and End move between the
//! items; Escape closes it and gives focus back to the button; it closes when focus or a click
//! goes elsewhere and whenever the page changes, so it never follows the person to the next
//! page.

use leptos::ev;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos_router::hooks::use_location;

use carekey_ui::t;

const LIST_ID: &str = "user-menu-list";
const BUTTON_ID: &str = "user-menu-button";

#[derive(Clone, Copy)]
enum Target {
    First,
    Last,
    Next,
    Previous,
}

#[component]
pub fn UserMenu(label: Signal<String>, on_sign_out: Callback<()>) -> impl IntoView {
    let open = RwSignal::new(false);
    let container = NodeRef::<leptos::html::Div>::new();
    let button = NodeRef::<leptos::html::Button>::new();
    let change_item = NodeRef::<leptos::html::A>::new();
    let sign_out_item = NodeRef::<leptos::html::Button>::new();

    let items = move || -> Vec<web_sys::HtmlElement> {
        [
            change_item.get_untracked().map(web_sys::HtmlElement::from),
            sign_out_item
                .get_untracked()
                .map(web_sys::HtmlElement::from),
        ]
        .into_iter()
        .flatten()
        .collect()
    };
    let focus = move |target: Target| {
        let items = items();
        if items.is_empty() {
            return;
        }
        let active = document().active_element();
        let at = items.iter().position(|e| {
            active
                .as_ref()
                .is_some_and(|a| a.is_same_node(Some(e.unchecked_ref())))
        });
        let last = items.len() - 1;
        let i = match (target, at) {
            (Target::First, _) | (Target::Next, None) => 0,
            (Target::Last, _) | (Target::Previous, None) => last,
            (Target::Next, Some(i)) => (i + 1) % items.len(),
            (Target::Previous, Some(0)) => last,
            (Target::Previous, Some(i)) => i - 1,
        };
        let _ = items[i].focus();
    };
    // The list is shown by the next render, not by the `set` itself: focus an item once the
    // browser has drawn it (a hidden element cannot take focus).
    let open_at = move |target: Target| {
        open.set(true);
        request_animation_frame(move || focus(target));
    };
    let close = move |return_focus: bool| {
        open.set(false);
        if return_focus && let Some(b) = button.get_untracked() {
            let _ = b.focus();
        }
    };

    // A new page closes the menu, whichever way the page changed (a menu item, a link
    // elsewhere in the header, the browser's Back button).
    let location = use_location();
    Effect::new(move |_| {
        location.pathname.track();
        open.set(false);
    });
    // A click or tap anywhere outside closes it, without taking focus from what was clicked.
    let outside = window_event_listener(ev::pointerdown, move |e| {
        if !open.get_untracked() {
            return;
        }
        let inside = match (
            container.get_untracked(),
            e.target().and_then(|t| t.dyn_into::<web_sys::Node>().ok()),
        ) {
            (Some(c), Some(n)) => c.contains(Some(&n)),
            _ => false,
        };
        if !inside {
            open.set(false);
        }
    });
    on_cleanup(move || outside.remove());

    let on_button_key = move |e: web_sys::KeyboardEvent| match e.key().as_str() {
        "ArrowDown" => {
            e.prevent_default();
            open_at(Target::First);
        }
        "ArrowUp" => {
            e.prevent_default();
            open_at(Target::Last);
        }
        _ => {}
    };
    let on_list_key = move |e: web_sys::KeyboardEvent| {
        let target = match e.key().as_str() {
            "ArrowDown" => Target::Next,
            "ArrowUp" => Target::Previous,
            "Home" => Target::First,
            "End" => Target::Last,
            "Escape" => {
                e.prevent_default();
                close(true);
                return;
            }
            // Tab leaves the menu for the next thing on the page, as from any menu.
            "Tab" => {
                open.set(false);
                return;
            }
            _ => return,
        };
        e.prevent_default();
        focus(target);
    };
    let on_focus_out = move |e: web_sys::FocusEvent| {
        let still_inside = match (
            container.get_untracked(),
            e.related_target()
                .and_then(|t| t.dyn_into::<web_sys::Node>().ok()),
        ) {
            (Some(c), Some(n)) => c.contains(Some(&n)),
            _ => false,
        };
        if !still_inside {
            open.set(false);
        }
    };

    view! {
        <div class="user-menu" node_ref=container on:focusout=on_focus_out>
            <button
                type="button"
                id=BUTTON_ID
                node_ref=button
                aria-haspopup="menu"
                aria-expanded=move || if open.get() { "true" } else { "false" }
                aria-controls=LIST_ID
                on:click=move |_| {
                    if open.get_untracked() {
                        close(false);
                    } else {
                        open_at(Target::First);
                    }
                }
                on:keydown=on_button_key
            >
                {move || label.get()}
            </button>
            <ul
                id=LIST_ID
                class="menu-popup"
                role="menu"
                aria-labelledby=BUTTON_ID
                hidden=move || !open.get()
                on:keydown=on_list_key
            >
                <li role="none">
                    <a role="menuitem" tabindex="-1" href="/staff/password" node_ref=change_item>
                        {t("settings-change-password")}
                    </a>
                </li>
                <li role="none">
                    <button
                        type="button"
                        role="menuitem"
                        tabindex="-1"
                        node_ref=sign_out_item
                        on:click=move |_| {
                            open.set(false);
                            on_sign_out.run(());
                        }
                    >
                        {t("sign-out")}
                    </button>
                </li>
            </ul>
        </div>
    }
}
