// The server draws pages from these components with `leptos/ssr`, whose deeply nested view
// types need more than the default recursion limit to lay out (twostep.rs).
#![recursion_limit = "256"]

//! Components both browser apps use: translated text, form fields, the sign-in form, the
//! idle-logoff warning. Everything a person reads comes from the catalogue (`t`).

pub mod common_list;
pub mod devices;
pub mod errors;
pub mod fields;
pub mod first_page;
pub mod i18n;
pub mod idle;
pub mod language;
pub mod nav;
pub mod page;
pub mod passkey;
pub mod password;
pub mod session;
pub mod signin;
pub mod tagline;
pub mod twostep;

pub use i18n::{t, t_args};
