//! What the browser knows about its session, shared by every page through context.

use carekey_shared::{ClinicInfo, SessionInfo};
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct SessionCtx {
    pub info: RwSignal<Option<SessionInfo>>,
    pub portal: RwSignal<Option<ClinicInfo>>,
    /// Browser time (ms) of the last request the server counted as activity.
    pub last_activity_ms: RwSignal<f64>,
    /// Browser time (ms) when the session's absolute lifetime ends, however active.
    pub absolute_deadline_ms: RwSignal<f64>,
    /// Why the person was signed out, shown once on the sign-in page.
    pub notice: RwSignal<Option<String>>,
    /// The common-password list for the hints, fetched on first use.
    pub common_list: RwSignal<crate::common_list::ListState>,
}

pub fn provide_session() -> SessionCtx {
    // The clinic the server wrote into the page (the first page only): the first frame then
    // draws what the server drew. `portal_info` is still asked, for the flow cookie it sets.
    let ctx = new_ctx(
        crate::first_page::written_clinic(),
        crate::nav::take_notice(),
        js_sys::Date::now(),
    );
    leptos::task::spawn_local(async move {
        if let Ok(p) = carekey_shared::server_fns::portal_info().await {
            ctx.portal.set(Some(p));
        }
    });
    ctx
}

/// The session as the server draws the sign-in page: the clinic known, nobody signed in, and
/// nothing asked of a browser (there is none).
pub(crate) fn provide_drawn_session(clinic: ClinicInfo) -> SessionCtx {
    new_ctx(Some(clinic), None, 0.0)
}

fn new_ctx(clinic: Option<ClinicInfo>, notice: Option<String>, now_ms: f64) -> SessionCtx {
    let ctx = SessionCtx {
        info: RwSignal::new(None),
        portal: RwSignal::new(clinic),
        last_activity_ms: RwSignal::new(now_ms),
        absolute_deadline_ms: RwSignal::new(f64::INFINITY),
        notice: RwSignal::new(notice),
        common_list: RwSignal::new(Default::default()),
    };
    provide_context(ctx);
    ctx
}

pub fn use_session() -> SessionCtx {
    expect_context::<SessionCtx>()
}

impl SessionCtx {
    pub fn signed_in(&self, info: SessionInfo) {
        self.absolute_deadline_ms
            .set(js_sys::Date::now() + info.absolute_expires_in_secs as f64 * 1000.0);
        self.info.set(Some(info));
        self.touch();
    }

    pub fn touch(&self) {
        self.last_activity_ms.set(js_sys::Date::now());
    }

    /// The signed-in person's name as the clinic has it (empty until `whoami` answers).
    pub fn display_name(&self) -> String {
        self.info.get().map(|i| i.display_name).unwrap_or_default()
    }

    pub fn clinic_name(&self) -> String {
        self.portal.get().map(|p| p.clinic_name).unwrap_or_default()
    }

    /// The clinic's number as people write it there: a clinic that configured E.164
    /// (`+15035550100`) shows `(503) 555-0100`; one written by hand is shown as written.
    pub fn clinic_phone(&self) -> String {
        self.portal
            .get()
            .map(|p| p.clinic_phone)
            .filter(|p| !p.is_empty())
            .map(|p| {
                use carekey_shared::phone::{display_phone, home_calling_code};
                display_phone(&p, home_calling_code(&p))
            })
            .unwrap_or_default()
    }
}
