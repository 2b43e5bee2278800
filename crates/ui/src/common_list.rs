//! The common-password list in the browser: fetched with gloo-net the first time a
//! new-password field gets focus, so it never weighs on the first page (about 76 KB brotli).
//! If it cannot be fetched the hints say so, and the server still checks on save.

use std::sync::Arc;

use carekey_shared::common::CommonPasswords;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::session::use_session;

/// Where both apps fetch it from (the patient app's files are served at the root).
const URL: &str = "/common-passwords.txt";

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum ListState {
    #[default]
    NotLoaded,
    Loading,
    Ready(Arc<CommonPasswords>),
    Failed,
}

impl ListState {
    pub fn list(&self) -> Option<Arc<CommonPasswords>> {
        match self {
            ListState::Ready(l) => Some(l.clone()),
            _ => None,
        }
    }
}

/// Starts the download once; later calls do nothing (the browser's cache serves reloads).
pub fn ensure_loaded() {
    let state = use_session().common_list;
    if !matches!(state.get_untracked(), ListState::NotLoaded) {
        return;
    }
    state.set(ListState::Loading);
    spawn_local(async move {
        let fetched = async {
            let res = gloo_net::http::Request::get(URL).send().await.ok()?;
            if !res.ok() {
                return None;
            }
            res.text().await.ok()
        }
        .await;
        state.set(match fetched {
            Some(text) => ListState::Ready(Arc::new(CommonPasswords::parse(&text))),
            None => ListState::Failed,
        });
    });
}
