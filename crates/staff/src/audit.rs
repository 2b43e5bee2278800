//! The audit log (administrators): filter by person, action and date; export CSV.

use carekey_shared::staff::{AuditFilter, AuditRow};
use carekey_shared::staff_fns;
use carekey_ui::errors::error_text;
use carekey_ui::fields::{Alert, TextField};
use carekey_ui::i18n::t_num;
use carekey_ui::page::{PageHeading, RequireSession};
use carekey_ui::t;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::{FORCED, SIGN_IN, when};

#[component]
pub fn AuditPage() -> impl IntoView {
    let person = RwSignal::new(String::new());
    let action = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let rows = RwSignal::new(None::<Vec<AuditRow>>);
    let error = RwSignal::new(None::<String>);
    let filter = move || AuditFilter {
        person: person.get_untracked(),
        action: action.get_untracked(),
        from: from.get_untracked(),
        to: to.get_untracked(),
    };
    let show = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let f = filter();
        spawn_local(async move {
            match staff_fns::audit_rows(f).await {
                Ok(r) => rows.set(Some(r)),
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    // The export is a plain download of every matching row, streamed by the server with the
    // chain's proof as its last line; the link follows the filter as it is typed.
    let export_href = move || {
        let enc = |v: String| String::from(js_sys::encode_uri_component(&v));
        format!(
            "/api/audit.csv?person={}&action={}&from={}&to={}",
            enc(person.get()),
            enc(action.get()),
            enc(from.get()),
            enc(to.get())
        )
    };
    view! {
        <RequireSession sign_in_href=SIGN_IN change_href=FORCED>
            <section class="card wide">
                <PageHeading text=t("st-audit-title") />
                <form class="stack" on:submit=show novalidate>
                    <TextField id="audit-person" label=t("st-audit-person") value=person />
                    <TextField id="audit-action" label=t("st-audit-action") value=action hint=t("st-audit-action-hint") />
                    <TextField id="audit-from" label=t("st-audit-from") value=from input_type="date" />
                    <TextField id="audit-to" label=t("st-audit-to") value=to input_type="date" />
                    <div class="button-row">
                        <button type="submit" class="primary">{t("st-audit-show")}</button>
                        <a class="button" href=export_href download="carekey-audit.csv">{t("st-audit-export")}</a>
                    </div>
                </form>
                <Alert message=error id="audit-error" />
                <div role="status">
                    {move || rows.get().map(|r| view! {
                        <p>{t_num("st-audit-count", "count", r.len() as i64)}</p>
                        <div class="table-scroll">
                        <table>
                            <thead><tr>
                                <th scope="col">{t("st-col-when")}</th>
                                <th scope="col">{t("st-audit-actor")}</th>
                                <th scope="col">{t("st-audit-target")}</th>
                                <th scope="col">{t("st-audit-action")}</th>
                                <th scope="col">{t("st-audit-ip")}</th>
                                <th scope="col">{t("st-audit-detail")}</th>
                            </tr></thead>
                            <tbody>
                                {r.into_iter().map(|row| view! {
                                    <tr>
                                        <td>{when(row.at_ms)}</td>
                                        <td>{row.actor}</td>
                                        <td>{row.target}</td>
                                        <td>{row.action}</td>
                                        <td>{row.ip}</td>
                                        <td class="detail">{row.detail}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        </div>
                    })}
                </div>
            </section>
        </RequireSession>
    }
}
