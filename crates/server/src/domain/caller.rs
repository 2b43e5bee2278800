//! Callers as types (ARCHITECTURE.md principle 10; lldap's `get_admin_handler` is the model).
//!
//! The HTTP layer resolves the session cookie once per request into a `Caller`, then narrows
//! it to what the endpoint needs: `Patient`, `Staff` (front desk or administrator) or `Admin`.
//! A use case for administrators takes an `&Admin`, and the only way to get one is
//! `Caller::admin`, which refuses anyone else — so front desk cannot reach it by construction,
//! not merely by a check each use case must remember (SECURITY.md S5).
//!
//! A use case that only reads still takes its caller (`_caller: &Admin`): the type is the
//! permission, checked before the use case can be called at all.
//!
//! The fields are private to this module: nothing else in the crate can make a caller without
//! going through `Services::signed_in`.

use carekey_shared::AccountKind;

use super::audit::Actor;
use super::signin::{Activity, Allow, actor_for, kind_of};
use super::{ClientMeta, DomainError, Services};
use crate::store::entities::{account, session};

/// A signed-in person whose session was checked for this request: live, not expired, the
/// account not disabled, and (unless allowed) not waiting for a forced password change.
#[derive(Debug, Clone)]
pub struct Caller {
    account: account::Model,
    session: session::Model,
    meta: ClientMeta,
}

/// A signed-in patient (the portal's own pages).
#[derive(Debug, Clone)]
pub struct Patient(Caller);

/// A signed-in member of staff: front desk or administrator.
#[derive(Debug, Clone)]
pub struct Staff(Caller);

/// A signed-in administrator. Every administrator is staff too (`as_staff`).
#[derive(Debug, Clone)]
pub struct Admin(Staff);

impl Services {
    /// Resolves a session token into the caller, enforcing idle and absolute lifetimes and the
    /// forced change (`allow`). Counts as activity.
    pub async fn signed_in(
        &self,
        token: Option<&str>,
        allow: Allow,
        meta: &ClientMeta,
    ) -> Result<Caller, DomainError> {
        self.resolve(token, allow, Activity::Counts, meta).await
    }

    /// As `signed_in`, for a page's background refresh: the idle timer is not reset.
    pub async fn signed_in_background(
        &self,
        token: Option<&str>,
        meta: &ClientMeta,
    ) -> Result<Caller, DomainError> {
        self.resolve(token, Allow::FullSessionOnly, Activity::Background, meta)
            .await
    }

    async fn resolve(
        &self,
        token: Option<&str>,
        allow: Allow,
        activity: Activity,
        meta: &ClientMeta,
    ) -> Result<Caller, DomainError> {
        let (account, session) = self.authenticate(token, allow, activity).await?;
        Ok(Caller {
            account,
            session,
            meta: meta.clone(),
        })
    }
}

impl Caller {
    pub fn account(&self) -> &account::Model {
        &self.account
    }

    pub fn session(&self) -> &session::Model {
        &self.session
    }

    pub fn meta(&self) -> &ClientMeta {
        &self.meta
    }

    /// The caller as the audit trail names them.
    pub fn actor(&self) -> Actor {
        actor_for(Some(&self.account), &self.meta)
    }

    /// The portal's own pages are for patients; a staff session is not one.
    pub fn patient(self) -> Result<Patient, DomainError> {
        match kind_of(&self.account) {
            AccountKind::Patient => Ok(Patient(self)),
            _ => Err(DomainError::Forbidden),
        }
    }

    pub fn staff(self) -> Result<Staff, DomainError> {
        match kind_of(&self.account) {
            AccountKind::Staff | AccountKind::Admin => Ok(Staff(self)),
            AccountKind::Patient => Err(DomainError::Forbidden),
        }
    }

    pub fn admin(self) -> Result<Admin, DomainError> {
        match kind_of(&self.account) {
            AccountKind::Admin => Ok(Admin(Staff(self))),
            _ => Err(DomainError::Forbidden),
        }
    }
}

impl Patient {
    pub fn caller(&self) -> &Caller {
        &self.0
    }
}

impl Staff {
    pub fn caller(&self) -> &Caller {
        &self.0
    }

    pub fn account(&self) -> &account::Model {
        &self.0.account
    }

    pub fn actor(&self) -> Actor {
        self.0.actor()
    }

    pub fn meta(&self) -> &ClientMeta {
        &self.0.meta
    }
}

impl Admin {
    pub fn as_staff(&self) -> &Staff {
        &self.0
    }

    pub fn account(&self) -> &account::Model {
        self.0.account()
    }

    pub fn actor(&self) -> Actor {
        self.0.actor()
    }

    pub fn meta(&self) -> &ClientMeta {
        self.0.meta()
    }
}
