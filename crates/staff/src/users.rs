//! Admin > Users: list and search staff, reset a user's password with the administrator's own
//! password as the check (seed 000), create a user, disable or enable, set the role.

use carekey_shared::policy::PolicyContext;
use carekey_shared::staff::{AccountStatus, NewStaffUser, StaffRole, StaffUser};
use carekey_shared::staff_fns;
use carekey_ui::common_list::ensure_loaded;
use carekey_ui::errors::error_text;
use carekey_ui::fields::{Alert, PasswordField, TextField};
use carekey_ui::page::{PageHeading, RequireSession};
use carekey_ui::password::{PasswordHints, live_issues, policy_of, refusal_before_submit};
use carekey_ui::session::use_session;
use carekey_ui::{t, t_args};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::{FORCED, SIGN_IN, when};

fn role_text(r: StaffRole) -> String {
    t(match r {
        StaffRole::Staff => "st-role-staff",
        StaffRole::Admin => "st-role-admin",
    })
}

fn status_word(s: AccountStatus) -> String {
    t(match s {
        AccountStatus::Active => "st-status-active",
        AccountStatus::Locked => "st-status-locked",
        AccountStatus::Disabled => "st-status-disabled",
    })
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let query = RwSignal::new(String::new());
    let users = RwSignal::new(Vec::<StaffUser>::new());
    let selected = RwSignal::new(None::<StaffUser>);
    let error = RwSignal::new(None::<String>);
    // Outside the panel, which is rebuilt with the saved user: the confirmation must survive.
    let notice = RwSignal::new(None::<String>);
    let load = move || {
        let q = query.get_untracked();
        spawn_local(async move {
            match staff_fns::staff_users(q).await {
                Ok(u) => users.set(u),
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    Effect::new(move |_| load());
    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        load();
    };
    let on_saved = Callback::new(move |u: StaffUser| {
        selected.set(Some(u));
        load();
    });
    view! {
        <RequireSession sign_in_href=SIGN_IN change_href=FORCED>
            <section class="card wide">
                <PageHeading text=t("st-users-title") />
                <Alert message=error id="users-error" />
                <form class="stack" role="search" on:submit=search>
                    <TextField id="user-query" label=t("st-users-search") value=query />
                    <button type="submit">{t("st-search")}</button>
                </form>
                <div class="table-scroll">
                <table>
                    <thead><tr>
                        <th scope="col">{t("st-username")}</th>
                        <th scope="col">{t("st-name")}</th>
                        <th scope="col">{t("st-role")}</th>
                        <th scope="col">{t("st-col-status")}</th>
                        <th scope="col">{t("st-last-sign-in")}</th>
                    </tr></thead>
                    <tbody>
                        <For each=move || users.get() key=|u| (u.id, u.status as u8, u.role as u8) let:u>
                            <tr>
                                <td>
                                    <button type="button" class="link" on:click={
                                        let u = u.clone();
                                        move |_| {
                                            notice.set(None);
                                            selected.set(Some(u.clone()));
                                        }
                                    }>{u.username.clone()}</button>
                                </td>
                                <td>{u.display_name.clone()}</td>
                                <td>{role_text(u.role)}</td>
                                <td>{status_word(u.status)}</td>
                                <td>{u.last_sign_in_at_ms.map(when).unwrap_or_else(|| t("st-never"))}</td>
                            </tr>
                        </For>
                    </tbody>
                </table>
                </div>
                <div role="status" class="notice" class:empty=move || notice.get().is_none()>{move || notice.get()}</div>
                {move || selected.get().map(|u| view! { <UserPanel user=u on_saved=on_saved notice=notice /> })}
                <NewUserForm on_saved=on_saved />
            </section>
        </RequireSession>
    }
}

/// Reset the selected user's password; enable or disable them; change their role.
#[component]
fn UserPanel(
    user: StaffUser,
    on_saved: Callback<StaffUser>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let session = use_session();
    let new = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let yours = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let id = user.id;
    let name = user.username.clone();
    let context = {
        let (u, d) = (user.username.clone(), user.display_name.clone());
        move || PolicyContext {
            words: vec![u.clone(), d.clone()],
            current: None,
            common: session.common_list.get().list(),
        }
    };
    let issues = {
        let context = context.clone();
        move || live_issues(&policy_of(&session), &new.get(), &context())
    };
    let reset = {
        let name = name.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            error.set(None);
            notice.set(None);
            if let Some(why) = refusal_before_submit(
                &policy_of(&session),
                &new.get_untracked(),
                &repeat.get_untracked(),
                &context(),
            ) {
                error.set(Some(why));
                return;
            }
            let (n, r, y) = (
                new.get_untracked(),
                repeat.get_untracked(),
                yours.get_untracked(),
            );
            let name = name.clone();
            spawn_local(async move {
                match staff_fns::admin_reset_password(id, n, r, y).await {
                    Ok(u) => {
                        new.set(String::new());
                        repeat.set(String::new());
                        yours.set(String::new());
                        notice.set(Some(t_args("st-user-reset-done", &[("name", name)])));
                        on_saved.run(u);
                    }
                    Err(e) => error.set(Some(error_text(&e))),
                }
            });
        }
    };
    let yours_two_step = RwSignal::new(String::new());
    let reset_two_step = {
        let name = name.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            error.set(None);
            notice.set(None);
            let y = yours_two_step.get_untracked();
            if y.is_empty() {
                error.set(Some(t("st-your-password-missing")));
                return;
            }
            let name = name.clone();
            spawn_local(async move {
                match staff_fns::admin_reset_two_step(id, y).await {
                    Ok(u) => {
                        yours_two_step.set(String::new());
                        notice.set(Some(t_args("st-user-two-step-done", &[("name", name)])));
                        on_saved.run(u);
                    }
                    Err(e) => error.set(Some(error_text(&e))),
                }
            });
        }
    };
    let enabled = user.status != AccountStatus::Disabled;
    let toggle = move |_| {
        spawn_local(async move {
            match staff_fns::set_staff_enabled(id, !enabled).await {
                Ok(u) => on_saved.run(u),
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    let other_role = match user.role {
        StaffRole::Staff => StaffRole::Admin,
        StaffRole::Admin => StaffRole::Staff,
    };
    let change_role = move |_| {
        spawn_local(async move {
            match staff_fns::set_staff_role(id, other_role).await {
                Ok(u) => on_saved.run(u),
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    view! {
        <section class="widget" aria-labelledby="user-panel-title">
            <h2 id="user-panel-title" tabindex="-1">{t_args("st-user-panel", &[("name", user.display_name.clone())])}</h2>
            <p>{t_args("st-user-facts", &[("role", role_text(user.role)), ("status", status_word(user.status))])}</p>
            <Alert message=error id="user-error" />
            <h3>{t("st-user-reset")}</h3>
            <form class="stack" on:submit=reset novalidate>
                <PasswordField id="user-new-password" label=t_args("st-user-new-password", &[("name", name.clone())])
                    value=new autocomplete="new-password" describedby="password-hints"
                    on_focus=Callback::new(|_| ensure_loaded()) />
                <PasswordHints new=new issues=Signal::derive(issues) />
                <PasswordField id="user-repeat-password" label=t("change-repeat-password") value=repeat autocomplete="new-password" />
                <PasswordField id="your-password" label=t("st-your-password") value=yours autocomplete="current-password" />
                <p class="hint">{t("st-your-password-hint")}</p>
                <button type="submit" class="primary">{t("st-user-reset-save")}</button>
            </form>
            <h3>{t("st-user-two-step")}</h3>
            <form class="stack" on:submit=reset_two_step novalidate>
                <p class="hint">{t_args("st-user-two-step-hint", &[("name", name.clone())])}</p>
                <PasswordField id="your-password-two-step" label=t("st-your-password-confirm") value=yours_two_step autocomplete="current-password" />
                <button type="submit">{t("st-user-two-step-reset")}</button>
            </form>
            <div class="button-row">
                <button type="button" on:click=toggle>{if enabled { t("st-user-disable") } else { t("st-user-enable") }}</button>
                <button type="button" on:click=change_role>{t_args("st-user-make-role", &[("role", role_text(other_role))])}</button>
            </div>
        </section>
    }
}

#[component]
fn NewUserForm(on_saved: Callback<StaffUser>) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let display = RwSignal::new(String::new());
    let admin = RwSignal::new(false);
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        status.set(None);
        let user = NewStaffUser {
            username: username.get_untracked(),
            display_name: display.get_untracked(),
            role: if admin.get_untracked() {
                StaffRole::Admin
            } else {
                StaffRole::Staff
            },
        };
        let pw = password.get_untracked();
        spawn_local(async move {
            match staff_fns::create_staff_user(user, pw).await {
                Ok(u) => {
                    status.set(Some(t_args(
                        "st-user-created",
                        &[("name", u.username.clone())],
                    )));
                    username.set(String::new());
                    display.set(String::new());
                    password.set(String::new());
                    on_saved.run(u);
                }
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    view! {
        <h2>{t("st-user-new")}</h2>
        <form class="stack" on:submit=create novalidate>
            <Alert message=error id="new-user-error" />
            <TextField id="new-username" label=t("st-username") value=username />
            <TextField id="new-display-name" label=t("st-name") value=display />
            <div class="field">
                <label class="check"><input type="checkbox" bind:checked=admin />{t("st-user-is-admin")}</label>
            </div>
            <PasswordField id="new-user-password" label=t("st-user-first-password") value=password autocomplete="new-password"
                on_focus=Callback::new(|_| ensure_loaded()) />
            <p class="hint">{t("st-user-first-password-hint")}</p>
            <button type="submit">{t("st-user-create")}</button>
        </form>
        <div role="status" class="notice" class:empty=move || status.get().is_none()>{move || status.get()}</div>
    }
}
