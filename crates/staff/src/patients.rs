//! Patients: search by name, date of birth or MRN, and add a patient by hand.

use carekey_shared::staff::{NewPatient, PatientSummary};
use carekey_shared::staff_fns;
use carekey_ui::errors::error_text;
use carekey_ui::fields::{Alert, TextField};
use carekey_ui::i18n::t_num;
use carekey_ui::page::{PageHeading, RequireSession};
use carekey_ui::{t, t_args};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use crate::chart::TextsCheckbox;
use crate::{FORCED, SIGN_IN, field_problems};

#[component]
pub fn PatientsPage() -> impl IntoView {
    view! {
        <RequireSession sign_in_href=SIGN_IN change_href=FORCED>
            <section class="card wide">
                <PageHeading text=t("st-patients-title") />
                <PatientSearch />
                <p><a href="/staff/patients/new">{t("st-add-patient")}</a></p>
            </section>
        </RequireSession>
    }
}

#[component]
fn PatientSearch() -> impl IntoView {
    let query = RwSignal::new(String::new());
    let results = RwSignal::new(None::<Vec<PatientSummary>>);
    let error = RwSignal::new(None::<String>);
    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let q = query.get_untracked();
        error.set(None);
        spawn_local(async move {
            match staff_fns::search_patients(q).await {
                Ok(r) => results.set(Some(r)),
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    view! {
        <form class="stack" role="search" on:submit=search>
            <TextField id="patient-query" label=t("st-search-label") value=query hint=t("st-search-hint") />
            <button type="submit" class="primary">{t("st-search")}</button>
        </form>
        <Alert message=error id="search-error" />
        <div role="status" aria-live="polite">
            {move || results.get().map(|r| if r.is_empty() {
                view! { <p>{t("st-search-none")}</p> }.into_any()
            } else {
                view! {
                    <p>{t_num("st-search-count", "count", r.len() as i64)}</p>
                    <ul class="results">
                        {r.into_iter().map(|p| view! {
                            <li>
                                <a href=format!("/staff/patients/{}", p.id)>
                                    {format!("{}, {}", p.last_name, p.first_name)}
                                </a>
                                " "
                                <span class="meta">
                                    {t_args("st-patient-meta", &[
                                        ("dob", p.date_of_birth.clone()),
                                        ("mrn", p.mrn.clone()),
                                    ])}
                                    " · "
                                    {if p.has_portal_account { t("st-has-portal") } else { t("st-no-portal") }}
                                </span>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
        </div>
    }
}

#[component]
pub fn AddPatientPage() -> impl IntoView {
    let navigate = use_navigate();
    let mrn = RwSignal::new(String::new());
    let first = RwSignal::new(String::new());
    let last = RwSignal::new(String::new());
    let dob = RwSignal::new(String::new());
    let zip = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let mobile = RwSignal::new(true);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let p = NewPatient {
            mrn: mrn.get_untracked(),
            first_name: first.get_untracked(),
            last_name: last.get_untracked(),
            date_of_birth: dob.get_untracked(),
            zip: zip.get_untracked(),
            email: email.get_untracked(),
            phone: phone.get_untracked(),
            phone_is_mobile: mobile.get_untracked()
                && !phone.with_untracked(|p| p.trim().is_empty()),
            // The chart sets it once the patient is on file.
            language: None,
        };
        let navigate = navigate.clone();
        spawn_local(async move {
            let r = staff_fns::add_patient(p).await;
            busy.set(false);
            match r {
                Ok(s) => navigate(&format!("/staff/patients/{}", s.id), Default::default()),
                Err(e) => error.set(Some(field_problems(&e))),
            }
        });
    };
    view! {
        <RequireSession sign_in_href=SIGN_IN change_href=FORCED>
            <section class="card">
                <PageHeading text=t("st-add-patient") />
                <form class="stack" on:submit=submit.clone() novalidate>
                    <Alert message=error id="add-error" />
                    <TextField id="mrn" label=t("st-mrn") value=mrn />
                    <TextField id="first-name" label=t("st-first-name") value=first autocomplete="off" />
                    <TextField id="last-name" label=t("st-last-name") value=last autocomplete="off" />
                    <TextField id="dob" label=t("st-dob") value=dob hint=t("st-dob-hint") input_type="date" />
                    <TextField id="zip" label=t("st-zip") value=zip inputmode="numeric" />
                    <TextField id="email" label=t("st-email") value=email input_type="email" inputmode="email" />
                    <TextField id="phone" label=t("st-phone") value=phone input_type="tel" inputmode="tel" />
                    <TextsCheckbox id="phone-mobile" phone=phone mobile=mobile />
                    <button type="submit" class="primary">
                        {move || if busy.get() { t("saving") } else { t("st-add-patient-save") }}
                    </button>
                </form>
                <p><a href="/staff/patients">{t("st-back-patients")}</a></p>
            </section>
        </RequireSession>
    }
}
