//! `endpoints!`: one declaration per endpoint, from which the browser's function, the server's
//! trait method and the list of URLs all come, so they cannot drift apart.
//!
//! ```text
//! endpoints! {
//!     /// The trait's docs.
//!     trait Backend: StaffBackend;
//!     /// The list's docs.
//!     const ENDPOINTS;
//!
//!     /// The endpoint's docs (kept on the function, its arguments struct and the trait method).
//!     #[endpoint("sign_in", args = SignIn)]
//!     fn sign_in(portal: Portal, identifier: String, password: String) -> Result<SessionInfo, ApiError>;
//! }
//! ```
//!
//! For each declaration this generates:
//!
//! - `#[server(prefix = "/api", endpoint = "sign_in", name = SignIn)] pub async fn sign_in(…)`:
//!   the browser's client stub, and on the server the handler registered at `/api/sign_in`. Its
//!   form fields are the argument names (`portal=…&identifier=…`), exactly as written.
//! - with feature `ssr`, the trait method `async fn sign_in(&self, ctx: &RequestCtx, args: SignIn)
//!   -> Result<SessionInfo, ApiError>`, which the function's body calls. `SignIn` is the
//!   arguments struct `#[server]` generates; naming it here (rather than leaving `#[server]` to
//!   derive it) lets the trait refer to it and keeps it clear of wire types (`PatientChart`).
//! - a row `"/api/sign_in"` in the `const` list, which the server checks at start-up and the
//!   staff role-matrix test walks.
//!
//! Taking the struct rather than loose arguments keeps the argument types in this one place:
//! the server's method names the struct and reads its fields (`a.identifier`). A declaration
//! without a method in the server's `impl` does not compile.

macro_rules! endpoints {
    (
        $(#[doc = $trait_doc:literal])*
        trait $backend:ident $(: $supertrait:path)?;
        $(#[doc = $list_doc:literal])*
        const $list:ident;
        $(
            $(#[doc = $doc:literal])*
            #[endpoint($endpoint:literal, args = $args:ident)]
            fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> Result<$out:ty, $err:ty>;
        )*
    ) => {
        $(
            // The body runs only on the server (`#[server]` drops it from the browser's build).
            $(#[doc = $doc])*
            #[leptos::server(prefix = "/api", endpoint = $endpoint, name = $args)]
            pub async fn $name($($arg: $ty),*) -> Result<$out, $err> {
                let (backend, ctx) = $crate::backend::context()?;
                backend.$name(&ctx, $args { $($arg),* }).await
            }
        )*

        // Only the server implements and calls the trait; the browser's build has no use for it.
        $(#[doc = $trait_doc])*
        #[cfg(feature = "ssr")]
        #[async_trait::async_trait]
        pub trait $backend: $($supertrait +)? Send + Sync + 'static {
            $(
                $(#[doc = $doc])*
                async fn $name(
                    &self,
                    ctx: &$crate::backend::RequestCtx,
                    args: $args,
                ) -> Result<$out, $err>;
            )*
        }

        $(#[doc = $list_doc])*
        pub const $list: &[&str] = &[$(concat!("/api/", $endpoint)),*];
    };
}

pub(crate) use endpoints;

#[cfg(test)]
mod tests {
    use crate::server_fns::ENDPOINTS;
    use crate::staff_fns::STAFF_ENDPOINTS;

    /// Two declarations with one endpoint would both register at one URL, and only one of them
    /// would ever answer.
    #[test]
    fn every_endpoint_is_declared_once() {
        let mut all: Vec<&str> = ENDPOINTS.iter().chain(STAFF_ENDPOINTS).copied().collect();
        let declared = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), declared, "an endpoint is declared twice");
    }
}
