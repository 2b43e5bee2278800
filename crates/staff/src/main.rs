//! The staff console, served under /staff as its own wasm bundle: patients and their charts
//! for front-desk staff; Admin > Users and the audit log for administrators too.

mod audit;
mod chart;
mod letter;
mod menu;
mod patients;
mod users;

use carekey_shared::{AccountKind, ApiError, Portal};
use carekey_ui::idle::IdleWatcher;
use carekey_ui::page::{PageHeading, RequireSession, sign_out_and_go};
use carekey_ui::password::{self, PageLinks};
use carekey_ui::session::{provide_session, use_session};
use carekey_ui::signin::SignInForm;
use carekey_ui::{t, t_args};
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::use_navigate;
use leptos_router::path;
use menu::UserMenu;

pub(crate) const SIGN_IN: &str = "/staff";
const HOME: &str = "/staff/home";
pub(crate) const FORCED: &str = "/staff/change-password";
const TWO_STEP: &str = "/staff/two-step";
const SECOND_STEP: &str = "/staff/second-step";

/// A time in the browser's own locale and time zone.
pub(crate) fn when(ms: i64) -> String {
    js_sys::Date::new(&(ms as f64).into())
        .to_locale_string("default", &js_sys::Object::new())
        .into()
}

/// An add-patient refusal, naming the fields the server found wrong.
pub(crate) fn field_problems(e: &ApiError) -> String {
    match e {
        ApiError::InvalidInput(fields) if !fields.is_empty() => {
            let names: Vec<String> = fields
                .split(',')
                .map(|f| t(&format!("st-field-{}", f.replace('_', "-"))))
                .collect();
            carekey_ui::t_args("st-fields-wrong", &[("fields", names.join(", "))])
        }
        other => carekey_ui::errors::error_text(other),
    }
}

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
    carekey_ui::page::mark_started();
}

#[component]
fn App() -> impl IntoView {
    provide_session();
    provide_context(carekey_ui::page::EnrolHref(TWO_STEP));
    view! {
        <Router>
            // The console renders every path it links to: all moves go through its router.
            <carekey_ui::nav::RoutedBundle owns=|_| true>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("/staff") view=SignInPage />
                    <Route path=path!("/staff/home") view=HomePage />
                    <Route path=path!("/staff/password") view=ChangePasswordPage />
                    <Route path=path!("/staff/change-password") view=ForcedChangePage />
                    <Route path=path!("/staff/two-step") view=TwoStepPage />
                    <Route path=path!("/staff/second-step") view=SecondStepPage />
                    <Route path=path!("/staff/forgot") view=ForgotPage />
                    <Route path=path!("/staff/patients") view=patients::PatientsPage />
                    <Route path=path!("/staff/patients/new") view=patients::AddPatientPage />
                    <Route path=path!("/staff/patients/:id") view=chart::ChartPage />
                    <Route path=path!("/staff/admin/users") view=users::UsersPage />
                    <Route path=path!("/staff/admin/audit") view=audit::AuditPage />
                </Routes>
            </Layout>
            </carekey_ui::nav::RoutedBundle>
        </Router>
    }
}

#[component]
fn Layout(children: Children) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let sign_out = sign_out_and_go(SIGN_IN);
    let user = move || session.info.get().map(|i| i.display_name);
    let is_admin = move || {
        session
            .info
            .get()
            .is_some_and(|i| i.kind == AccountKind::Admin)
    };
    let full = move || {
        session
            .info
            .get()
            .is_some_and(|i| !i.must_change_password && !i.must_add_second_step)
    };
    let sign_out_menu = {
        let sign_out = sign_out.clone();
        Callback::new(move |_: ()| sign_out())
    };
    let menu_label =
        Signal::derive(move || t_args("staff-user-menu", &[("name", user().unwrap_or_default())]));
    view! {
        <header class="site staff no-print">
            <p class="brand">{t("staff-console-name")}</p>
            <Show when=full>
                <nav aria-label=t("st-nav-label")>
                    <ul class="nav">
                        <li><a href="/staff/patients">{t("st-patients-title")}</a></li>
                        <Show when=is_admin>
                            <li><a href="/staff/admin/users">{t("st-users-title")}</a></li>
                            <li><a href="/staff/admin/audit">{t("st-audit-title")}</a></li>
                        </Show>
                    </ul>
                </nav>
            </Show>
            <Show when=move || user().is_some()>
                <UserMenu label=menu_label on_sign_out=sign_out_menu />
            </Show>
        </header>
        <main id="main">{children()}</main>
        <IdleWatcher
            on_timeout=Callback::new(move |_| {
                session.notice.set(Some(t("signed-out-idle")));
                navigate(SIGN_IN, Default::default());
            })
            on_sign_out=Callback::new(move |_| sign_out())
        />
    }
}

#[component]
fn SignInPage() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let notice = session.notice;
    let on_success = Callback::new(move |info: carekey_shared::SessionInfo| {
        notice.set(None);
        navigate(LINKS.after_sign_in(&info), Default::default());
    });
    view! {
        <section class="card">
            <PageHeading text=t("staff-sign-in-title") />
            <Show when=move || notice.get().is_some()>
                <p class="notice" role="status">{move || notice.get()}</p>
            </Show>
            <SignInForm portal=Portal::Staff on_success=on_success forgot_href="/staff/forgot" second_step_href=SECOND_STEP />
        </section>
    }
}

#[component]
fn HomePage() -> impl IntoView {
    let session = use_session();
    let name = move || session.display_name();
    view! {
        <RequireSession sign_in_href=SIGN_IN change_href=FORCED>
            <section class="card">
                <PageHeading text=t_args("staff-home-title", &[("name", name())]) />
                <p>{t("staff-home-body")}</p>
                <ul class="menu">
                    <li><a href="/staff/patients">{t("st-home-patients")}</a></li>
                    <Show when=move || session.info.get().is_some_and(|i| i.kind == AccountKind::Admin)>
                        <li><a href="/staff/admin/users">{t("st-home-users")}</a></li>
                        <li><a href="/staff/admin/audit">{t("st-home-audit")}</a></li>
                    </Show>
                    <li><a href=TWO_STEP>{t("two-step-title")}</a></li>
                </ul>
            </section>
        </RequireSession>
    }
}

const LINKS: PageLinks = PageLinks {
    sign_in: SIGN_IN,
    forced_change: FORCED,
    home: HOME,
    two_step: TWO_STEP,
};

#[component]
fn ChangePasswordPage() -> impl IntoView {
    view! { <password::ChangePasswordPage links=LINKS back_href=HOME back_label=t("back-home") /> }
}

#[component]
fn ForcedChangePage() -> impl IntoView {
    view! { <password::ForcedChangePage links=LINKS /> }
}

#[component]
fn SecondStepPage() -> impl IntoView {
    let navigate = use_navigate();
    let on_success = Callback::new(move |info: carekey_shared::SessionInfo| {
        navigate(LINKS.after_sign_in(&info), Default::default());
    });
    view! { <carekey_ui::twostep::SecondStepPage on_success=on_success sign_in_href=SIGN_IN /> }
}

#[component]
fn TwoStepPage() -> impl IntoView {
    view! { <carekey_ui::twostep::TwoStepPage links=LINKS back_href=HOME back_label=t("back-home") /> }
}

#[component]
fn ForgotPage() -> impl IntoView {
    view! {
        <section class="card">
            <PageHeading text=t("forgot-title") />
            <p>{t("staff-forgot-body")}</p>
            <p><a href=SIGN_IN>{t("back-sign-in")}</a></p>
        </section>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <section class="card">
            <PageHeading text=t("not-found-title") />
            <p>{t("not-found-body")}</p>
            <p><a href=SIGN_IN>{t("back-sign-in")}</a></p>
        </section>
    }
}
