//! The contract between the browser and the server: what travels on the wire, the rules both
//! sides apply (password policy), and the server-function declarations. No I/O lives here, so
//! the same code compiles to wasm for the browser and natively for the server.

pub mod api;
pub mod common;
mod endpoints;
pub mod error;
pub mod phone;
pub mod policy;
pub mod recovery;
pub mod server_fns;
pub mod staff;
pub mod staff_fns;
pub mod twostep;

#[cfg(feature = "ssr")]
pub mod backend;

pub use api::*;
pub use carekey_i18n::Lang;
pub use error::ApiError;
pub use recovery::*;
pub use twostep::*;
