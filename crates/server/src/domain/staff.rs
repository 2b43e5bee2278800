//! What front-desk staff and administrators may do (SECURITY.md S5): Admin > Users, the patient
//! chart and its Patient Portal / API Access widget, desk codes, unlocking, and the audit log.
//! Every check is here, on the server; the console only hides what a role cannot use. Every
//! action writes an audit row naming the staff member, the target and what was done (S6).

use carekey_shared::staff::{
    AccountStatus, AuditFilter, AuditRow, ChartContact, CredentialsLetter, DeliveryRow,
    DeliveryStatus, DeskCode, FailedSignIn, IdentityChecks, LetterEmail, NewStaffUser,
    PasswordChoice, PatientChart, PatientSummary, PortalAccess, SentToPatient, StaffRole,
    StaffUser,
};
use carekey_shared::{ContactKind, RecoveryChannel, mask_email, mask_phone};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, SqlErr, TransactionTrait,
};
use serde_json::json;
use unicode_normalization::UnicodeNormalization;

use super::accounts::{NewAccount, valid_username};
use super::audit::{self, Event};
use super::caller::{Admin, Staff};
use super::challenges::{self, NewChallenge};
use super::credentials::SetBy;
use super::dates::{day_start_ms, iso_utc};
use super::limits::DAY;
use super::messages::message_to;
use super::signin::actor_for;
use super::uow::Uow;
use super::{ClientMeta, DomainError, Services, lockout, secrets, sessions};
use crate::delivery::outbound::{LetterHolds, Outbound};
use crate::delivery::outbox::NewMessage;
use crate::store::entities::{
    account, audit_log, contact, outbox as outbox_row, password_credential, patient, session,
};

/// Rows a search or a list returns at most; staff narrow the search rather than scroll.
const SEARCH_LIMIT: u64 = 50;
/// Audit rows shown or exported at most per query.
const AUDIT_LIMIT: u64 = 5_000;

pub fn role_of(a: &account::Model) -> Option<StaffRole> {
    match a.kind.as_str() {
        "staff" => Some(StaffRole::Staff),
        "admin" => Some(StaffRole::Admin),
        _ => None,
    }
}

fn role_word(r: StaffRole) -> &'static str {
    match r {
        StaffRole::Staff => "staff",
        StaffRole::Admin => "admin",
    }
}

pub fn status_of(a: &account::Model, now: i64) -> AccountStatus {
    if a.status == "disabled" {
        AccountStatus::Disabled
    } else if lockout::is_locked(&a.status, a.locked_until, now) {
        AccountStatus::Locked
    } else {
        AccountStatus::Active
    }
}

fn staff_user(a: &account::Model, now: i64) -> StaffUser {
    StaffUser {
        id: a.id,
        username: a.username.clone(),
        display_name: a.display_name.clone(),
        role: role_of(a).unwrap_or(StaffRole::Staff),
        status: status_of(a, now),
        must_change_password: a.must_change_password,
        last_sign_in_at_ms: a.last_sign_in_at,
    }
}

fn summary(p: &patient::Model, has_portal_account: bool) -> PatientSummary {
    PatientSummary {
        id: p.id,
        mrn: p.mrn.clone(),
        first_name: p.first_name.clone(),
        last_name: p.last_name.clone(),
        date_of_birth: p.date_of_birth.clone(),
        has_portal_account,
    }
}

fn chart_contact(c: &contact::Model) -> ChartContact {
    ChartContact {
        kind: super::contacts::kind_of(c),
        value: c.value.clone(),
        sms_capable: c.sms_capable,
        voice_capable: c.voice_capable,
    }
}

fn masked(destination: &str) -> String {
    if destination.contains('@') {
        mask_email(destination)
    } else {
        mask_phone(destination)
    }
}

/// `%` and `_` typed into a search are literal characters, not wildcards.
fn like_pattern(word: &str) -> String {
    let escaped: String = word
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

fn lower_like<C: sea_orm::IntoSimpleExpr + sea_orm::sea_query::IntoIden + Copy>(
    col: C,
    pattern: &str,
) -> sea_orm::sea_query::SimpleExpr {
    Expr::expr(Func::lower(Expr::col(col)))
        .like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\'))
}

/// A username suggestion from a name: first initial and last name, ASCII letters only.
pub fn username_from_name(first: &str, last: &str) -> String {
    // "López" → "lopez": accents come off (NFD, then the marks dropped), the rest is ASCII.
    let keep = |s: &str| -> String {
        s.nfd()
            .filter(char::is_ascii_alphabetic)
            .collect::<String>()
            .to_lowercase()
    };
    let initial: String = keep(first).chars().take(1).collect();
    let base = format!("{initial}{}", keep(last));
    if base.chars().count() < 3 {
        format!("patient{base}")
    } else {
        base.chars().take(40).collect()
    }
}

/// Turns a spreadsheet cell into one no spreadsheet will run as a formula (CSV injection).
fn csv_cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_owned()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

impl Services {
    async fn staff_target(&self, user_id: i64) -> Result<account::Model, DomainError> {
        account::Entity::find_by_id(user_id)
            .one(&self.db)
            .await?
            .filter(|a| role_of(a).is_some())
            .ok_or_else(|| DomainError::NotFound("staff user".into()))
    }

    async fn patient_and_account(
        &self,
        patient_id: i64,
    ) -> Result<(patient::Model, Option<account::Model>), DomainError> {
        let p = patient::Entity::find_by_id(patient_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| DomainError::NotFound("patient".into()))?;
        let a = account::Entity::find()
            .filter(account::Column::PatientId.eq(p.id))
            .one(&self.db)
            .await?;
        Ok((p, a))
    }

    async fn portal_account(
        &self,
        patient_id: i64,
    ) -> Result<(patient::Model, account::Model), DomainError> {
        match self.patient_and_account(patient_id).await? {
            (p, Some(a)) => Ok((p, a)),
            (_, None) => Err(DomainError::NotFound("portal account".into())),
        }
    }

    // ---- Admin > Users -------------------------------------------------------------------

    pub async fn staff_users(
        &self,
        _caller: &Admin,
        query: &str,
    ) -> Result<Vec<StaffUser>, DomainError> {
        let now = self.now();
        let q = query.trim().to_lowercase();
        let mut cond = Condition::any()
            .add(account::Column::Kind.eq("staff"))
            .add(account::Column::Kind.eq("admin"));
        if !q.is_empty() {
            let pattern = like_pattern(&q);
            cond = Condition::all().add(cond).add(
                Condition::any()
                    .add(lower_like(account::Column::Username, &pattern))
                    .add(lower_like(account::Column::DisplayName, &pattern)),
            );
        }
        let rows = account::Entity::find()
            .filter(cond)
            .order_by_asc(account::Column::UsernameLower)
            .limit(SEARCH_LIMIT)
            .all(&self.db)
            .await?;
        Ok(rows.iter().map(|a| staff_user(a, now)).collect())
    }

    /// Admin > Users > reset: the administrator types the user's new password and, as the
    /// seed's security check, their own. A wrong own password is refused and counts toward the
    /// administrator's lockout (P9). The user's sessions end and they must choose their own
    /// password at next sign-in.
    pub async fn admin_reset_password(
        &self,
        caller: &Admin,
        user_id: i64,
        new: &str,
        repeat: &str,
        your_password: &str,
    ) -> Result<StaffUser, DomainError> {
        let meta = caller.meta();
        let admin = caller.account().clone();
        let target = self.staff_target(user_id).await?;
        if target.id == admin.id {
            // Their own password is changed with the current one, from the user menu.
            return Err(DomainError::Forbidden);
        }
        if new != repeat {
            return Err(DomainError::PasswordsDiffer);
        }
        self.confirm_current_password(&admin, your_password, meta)
            .await?;
        let updated = self
            .set_temporary_password(&admin, &target, new, "staff_password_reset", meta)
            .await?;
        Ok(staff_user(&updated, self.now()))
    }

    /// Checks `new` against the policy for `target` and stores it as a temporary password
    /// (change forced at next sign-in) through the one `set_password`; audited as `action` by
    /// `by`. The hash is made before the unit of work opens.
    async fn set_temporary_password(
        &self,
        by: &account::Model,
        target: &account::Model,
        new: &str,
        action: &str,
        meta: &ClientMeta,
    ) -> Result<account::Model, DomainError> {
        self.check_new_password(target, new, None).await?;
        let phc = self.hash_for(target.id, new).await?;
        let mut uow = self.begin(actor_for(Some(by), meta)).await?;
        let set = self
            .set_password(&mut uow, target.id, phc, SetBy::Staff)
            .await?;
        uow.audit(
            action,
            Some(target.id),
            json!({ "must_change_password": true }),
        )
        .await?;
        uow.commit(self).await?;
        Ok(set.account)
    }

    /// The hash to store for `new` on this account (none yet for an account waiting for
    /// activation), unless it is one of its recent passwords (P5). Read-only and slow: before
    /// any unit of work opens.
    async fn hash_for(&self, account_id: i64, new: &str) -> Result<String, DomainError> {
        let stored = password_credential::Entity::find_by_id(account_id)
            .one(&self.db)
            .await?;
        self.hash_unless_recent(account_id, stored.as_ref(), new)
            .await
    }

    /// Admin > Users > New user, with a first password the administrator hands over (change
    /// forced at first sign-in).
    pub async fn create_staff_user(
        &self,
        caller: &Admin,
        n: NewStaffUser,
        password: &str,
    ) -> Result<StaffUser, DomainError> {
        let meta = caller.meta();
        let admin = caller.account().clone();
        let display_name = n.display_name.trim().to_owned();
        if display_name.is_empty() || display_name.chars().count() > 100 {
            return Err(DomainError::InvalidInput("display name".into()));
        }
        let created = self
            .create_account(
                NewAccount {
                    kind: role_word(n.role),
                    username: n.username.trim().to_owned(),
                    display_name,
                    patient_id: None,
                    email: None,
                    must_change_password: true,
                },
                password,
                Some(&admin),
                meta,
            )
            .await?;
        Ok(staff_user(&created, self.now()))
    }

    /// Disable or enable a staff user. Disabling ends their sessions at once.
    pub async fn set_staff_enabled(
        &self,
        caller: &Admin,
        user_id: i64,
        enabled: bool,
    ) -> Result<StaffUser, DomainError> {
        let action = if enabled {
            "staff_user_enabled"
        } else {
            "staff_user_disabled"
        };
        self.change_staff_user(caller, user_id, action, !enabled, |_, am| {
            am.status = Set(if enabled { "active" } else { "disabled" }.into());
            am.lock_reason = Set(None);
            am.locked_until = Set(None);
            am.failed_sign_ins = Set(0);
            json!({})
        })
        .await
    }

    pub async fn set_staff_role(
        &self,
        caller: &Admin,
        user_id: i64,
        role: StaffRole,
    ) -> Result<StaffUser, DomainError> {
        self.change_staff_user(caller, user_id, "staff_role_changed", false, |t, am| {
            am.kind = Set(role_word(role).into());
            json!({ "from": t.kind, "to": role_word(role) })
        })
        .await
    }

    /// An administrator's change to another staff user and its audit row, in one transaction.
    /// `apply` edits the row and answers the audit detail. Nobody changes their own account
    /// here, so an administrator cannot turn themselves off or remove the last admin by
    /// accident.
    async fn change_staff_user(
        &self,
        caller: &Admin,
        user_id: i64,
        action: &str,
        end_sessions: bool,
        apply: impl FnOnce(&account::Model, &mut account::ActiveModel) -> serde_json::Value,
    ) -> Result<StaffUser, DomainError> {
        let meta = caller.meta();
        let admin = caller.account().clone();
        let target = self.staff_target(user_id).await?;
        if target.id == admin.id {
            return Err(DomainError::Forbidden);
        }
        let now = self.now();
        let txn = self.db.begin().await?;
        let mut am: account::ActiveModel = target.clone().into();
        let details = apply(&target, &mut am);
        am.updated_at = Set(now);
        let updated = am.update(&txn).await?;
        if end_sessions {
            sessions::revoke(&txn, session::Column::AccountId.eq(target.id), now).await?;
        }
        audit::append(
            &txn,
            now,
            &actor_for(Some(&admin), meta),
            Event {
                action,
                target: Some(target.id),
                details,
            },
        )
        .await?;
        txn.commit().await?;
        Ok(staff_user(&updated, now))
    }

    // ---- Patients ------------------------------------------------------------------------

    /// Search by MRN, date of birth (YYYY-MM-DD) or name words (each word must match the first
    /// or the last name).
    pub async fn search_patients(
        &self,
        _caller: &Staff,
        query: &str,
    ) -> Result<Vec<PatientSummary>, DomainError> {
        let q = query.trim();
        if q.is_empty() || q.chars().count() > 100 {
            return Ok(vec![]);
        }
        let cond = if day_start_ms(q).is_some() {
            Condition::all().add(patient::Column::DateOfBirth.eq(q))
        } else if q.chars().all(|c| c.is_ascii_digit()) {
            Condition::all().add(patient::Column::Mrn.eq(q))
        } else {
            q.split_whitespace().fold(Condition::all(), |all, word| {
                let pattern = like_pattern(&word.to_lowercase());
                all.add(
                    Condition::any()
                        .add(lower_like(patient::Column::FirstName, &pattern))
                        .add(lower_like(patient::Column::LastName, &pattern))
                        .add(lower_like(patient::Column::Mrn, &pattern)),
                )
            })
        };
        let rows = patient::Entity::find()
            .filter(cond)
            .order_by_asc(patient::Column::LastName)
            .order_by_asc(patient::Column::FirstName)
            .limit(SEARCH_LIMIT)
            .all(&self.db)
            .await?;
        let ids: Vec<i64> = rows.iter().map(|p| p.id).collect();
        let with_accounts: Vec<i64> = account::Entity::find()
            .filter(account::Column::PatientId.is_in(ids))
            .all(&self.db)
            .await?
            .into_iter()
            .filter_map(|a| a.patient_id)
            .collect();
        Ok(rows
            .iter()
            .map(|p| summary(p, with_accounts.contains(&p.id)))
            .collect())
    }

    pub async fn patient_chart(
        &self,
        _caller: &Staff,
        patient_id: i64,
    ) -> Result<PatientChart, DomainError> {
        self.chart(patient_id).await
    }

    async fn chart(&self, patient_id: i64) -> Result<PatientChart, DomainError> {
        let now = self.now();
        let (p, acct) = self.patient_and_account(patient_id).await?;
        let contacts = contact::Entity::find()
            .filter(contact::Column::PatientId.eq(p.id))
            // Email before phone, whichever was corrected last.
            .order_by_asc(contact::Column::Kind)
            .order_by_asc(contact::Column::Id)
            .all(&self.db)
            .await?;
        let (portal, deliveries) = match &acct {
            None => (None, vec![]),
            Some(a) => (
                Some(self.portal_access(a, now).await?),
                self.deliveries(a.id).await?,
            ),
        };
        let suggested_username = match &acct {
            Some(a) => a.username.clone(),
            None => self.free_username(&p).await?,
        };
        Ok(PatientChart {
            patient: summary(&p, acct.is_some()),
            zip: p.zip.clone(),
            contacts: contacts.iter().map(chart_contact).collect(),
            portal,
            suggested_username,
            deliveries,
        })
    }

    async fn portal_access(
        &self,
        a: &account::Model,
        now: i64,
    ) -> Result<PortalAccess, DomainError> {
        let has_password = password_credential::Entity::find_by_id(a.id)
            .one(&self.db)
            .await?
            .is_some();
        let recent_failures = audit_log::Entity::find()
            .filter(audit_log::Column::TargetAccountId.eq(a.id))
            .filter(audit_log::Column::Action.eq("sign_in_failed"))
            .order_by_desc(audit_log::Column::Seq)
            .limit(10)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| FailedSignIn {
                at_ms: r.at,
                ip: r.ip,
            })
            .collect();
        let status = status_of(a, now);
        Ok(PortalAccess {
            username: a.username.clone(),
            status,
            lock_reason: match status {
                AccountStatus::Locked => Some(
                    a.lock_reason
                        .clone()
                        .unwrap_or_else(|| "too_many_failed_sign_ins".into()),
                ),
                _ => None,
            },
            locked_until_ms: a.locked_until.filter(|t| *t > now),
            must_change_password: a.must_change_password,
            has_password,
            last_sign_in_at_ms: a.last_sign_in_at,
            failed_sign_ins: u32::try_from(a.failed_sign_ins).unwrap_or(0),
            recent_failures,
        })
    }

    async fn deliveries(&self, account_id: i64) -> Result<Vec<DeliveryRow>, DomainError> {
        Ok(outbox_row::Entity::find()
            .filter(outbox_row::Column::AccountId.eq(account_id))
            .order_by_desc(outbox_row::Column::Id)
            .limit(10)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| DeliveryRow {
                id: m.id,
                kind: m.kind,
                channel: m.channel,
                destination: masked(&m.destination),
                status: DeliveryStatus::parse(&m.status),
                created_at_ms: m.created_at,
            })
            .collect())
    }

    /// The suggestion for a new portal username: initial + last name, numbered if taken.
    async fn free_username(&self, p: &patient::Model) -> Result<String, DomainError> {
        let base = username_from_name(&p.first_name, &p.last_name);
        for n in 0..100 {
            let candidate = if n == 0 {
                base.clone()
            } else {
                format!("{base}{}", n + 1)
            };
            let taken = account::Entity::find()
                .filter(account::Column::UsernameLower.eq(candidate.to_lowercase()))
                .one(&self.db)
                .await?
                .is_some();
            if !taken {
                return Ok(candidate);
            }
        }
        Ok(format!("{base}{}", p.id))
    }

    /// Staff correct the email and phone on the chart ("keep phone numbers and email addresses
    /// updated"). Empty removes; a phone must be one CareKey can reach.
    pub async fn update_patient_contacts(
        &self,
        caller: &Staff,
        patient_id: i64,
        email: &str,
        phone: &str,
        phone_is_mobile: bool,
    ) -> Result<PatientChart, DomainError> {
        let meta = caller.meta();
        let staff = caller.account().clone();
        let (p, acct) = self.patient_and_account(patient_id).await?;
        let email = email.trim();
        if !email.is_empty() && !super::contacts::plausible_email(email) {
            return Err(DomainError::ContactInvalid);
        }
        let phone = match phone.trim() {
            "" => None,
            typed => Some(
                super::phone::lookup_forms(typed)
                    .into_iter()
                    .find(|f| f.starts_with('+') && super::phone::country_of(f).is_some())
                    .ok_or(DomainError::ContactInvalid)?,
            ),
        };
        let now = self.now();
        let before = contact::Entity::find()
            .filter(contact::Column::PatientId.eq(p.id))
            .all(&self.db)
            .await?;
        let old_email = before.iter().find(|c| c.kind == "email");
        let old_phone = before.iter().find(|c| c.kind == "phone");
        let email_changed = old_email.map(|c| c.value_norm.as_str())
            != Some(email.to_lowercase().as_str()).filter(|e| !e.is_empty());
        let phone_changed = old_phone.map(|c| (c.value_norm.clone(), c.sms_capable))
            != phone.clone().map(|p| (p, phone_is_mobile));
        let txn = self.db.begin().await?;
        // Only the kinds that changed are replaced: a code sent to an unchanged address stays
        // good, one sent to a replaced address stops working.
        let replaced: Vec<&contact::Model> = before
            .iter()
            .filter(|c| {
                (email_changed && c.kind == "email") || (phone_changed && c.kind == "phone")
            })
            .collect();
        if let Some(a) = &acct {
            self.withdraw_from(&txn, a, &replaced, now).await?;
        }
        for c in &replaced {
            contact::Entity::delete_by_id(c.id).exec(&txn).await?;
        }
        if email_changed && !email.is_empty() {
            super::accounts::add_contact(&txn, Some(p.id), None, "email", email, false, false, now)
                .await?;
        }
        if let Some(phone) = phone.as_ref().filter(|_| phone_changed) {
            super::accounts::add_contact(
                &txn,
                Some(p.id),
                None,
                "phone",
                phone,
                phone_is_mobile,
                true,
                now,
            )
            .await?;
        }
        // A wrong "correction" is how an account is taken over: whoever was on file before
        // hears about it, as when the patient changes a contact themselves (A5).
        if let Some(a) = &acct {
            let changes = [
                (
                    email_changed,
                    ContactKind::Email,
                    (!email.is_empty()).then(|| mask_email(email)),
                ),
                (
                    phone_changed,
                    if phone_is_mobile {
                        ContactKind::Mobile
                    } else {
                        ContactKind::Landline
                    },
                    phone.as_deref().map(mask_phone),
                ),
            ];
            for (_, kind, new_value) in changes.into_iter().filter(|c| c.0) {
                self.enqueue_contact_notices(&txn, a, &before, kind, new_value, now)
                    .await?;
            }
        }
        audit::append(
            &txn,
            now,
            &actor_for(Some(&staff), meta),
            Event {
                action: "patient_contacts_updated",
                target: acct.as_ref().map(|a| a.id),
                details: json!({
                    "patient": p.id,
                    "email": !email.is_empty(),
                    "phone": phone.is_some(),
                    "mobile": phone_is_mobile,
                }),
            },
        )
        .await?;
        txn.commit().await?;
        self.delivery.kick();
        self.chart(p.id).await
    }

    /// Adds a patient by hand: the same checks as the import.
    pub async fn add_patient(
        &self,
        caller: &Staff,
        n: carekey_shared::staff::NewPatient,
    ) -> Result<PatientSummary, DomainError> {
        let meta = caller.meta();
        let staff = caller.account().clone();
        let checked = super::patients::check_new_patient(&n, self.now())
            .map_err(|problems| DomainError::InvalidInput(problems.join(",")))?;
        let p = self.insert_patient(checked, Some(&staff), meta).await?;
        Ok(summary(&p, false))
    }

    // ---- The Patient Portal / API Access widget ------------------------------------------

    /// Create or Reset credentials. With a password (generated or chosen) the patient must
    /// change it at first sign-in; with an activation code they choose their own. Either way
    /// the letter is returned once, and an email saying so goes to the email on file (never
    /// the password: it is only on the printed letter).
    ///
    /// Everything is checked and hashed first; then the new or renamed account, the password
    /// or code, the letter's email and the audit rows commit in one unit of work. A refused
    /// password, a busy hasher or a taken username leave the account exactly as it was.
    pub async fn portal_credentials(
        &self,
        caller: &Staff,
        patient_id: i64,
        username: &str,
        choice: PasswordChoice,
    ) -> Result<CredentialsLetter, DomainError> {
        let meta = caller.meta();
        let staff = caller.account().clone();
        let (p, existing) = self.patient_and_account(patient_id).await?;
        let username = username.trim();
        let renamed = existing.as_ref().is_none_or(|a| a.username != username);
        if renamed && !valid_username(username) {
            return Err(DomainError::UsernameInvalid);
        }
        let contacts = contact::Entity::find()
            .filter(contact::Column::PatientId.eq(p.id))
            .all(&self.db)
            .await?;
        let email = contacts.iter().find(|c| c.kind == "email").cloned();
        // What a guesser would try first, with the username the account is about to have.
        let mut words = vec![
            username.to_owned(),
            p.first_name.clone(),
            p.last_name.clone(),
            self.cfg.clinic_name.clone(),
        ];
        words.extend(existing.iter().map(|a| a.username.clone()));
        words.extend(
            contacts
                .iter()
                .filter(|c| c.kind == "email")
                .map(|c| c.value.clone()),
        );
        let ctx = self.policy_context(words, None);
        let password = match choice {
            PasswordChoice::Generated => Some(self.generated_password(&ctx)?),
            PasswordChoice::Chosen(pw) => {
                let issues = self.policy().check_with(&pw, &ctx);
                if !issues.is_empty() {
                    return Err(DomainError::PasswordRejected(issues));
                }
                Some(pw)
            }
            PasswordChoice::ActivationCode => None,
        };
        let phc = match (&password, &existing) {
            (Some(pw), Some(a)) => Some(self.hash_for(a.id, pw).await?),
            (Some(pw), None) => Some(
                self.hasher
                    .hash(carekey_shared::policy::normalize(pw))
                    .await?,
            ),
            (None, _) => None,
        };

        let mut uow = self.begin(actor_for(Some(&staff), meta)).await?;
        let acct = match existing {
            Some(a) if !renamed => a,
            Some(a) => rename(&uow, &a, username).await?,
            None => create_portal_account(&uow, &p, username).await?,
        };
        // The letter's email first: it also tells the patient their password was reset, so
        // the reset's own notice is not sent to that address a second time.
        let letter_email = match &email {
            Some(c) => {
                let message = Outbound::CredentialsSetUp {
                    username: acct.username.clone(),
                    letter: if phc.is_none() {
                        LetterHolds::ActivationCode
                    } else {
                        LetterHolds::TemporaryPassword
                    },
                };
                let expires_at = uow.now + DAY.as_millis() as i64;
                let row = uow
                    .send(NewMessage {
                        expires_at: Some(expires_at),
                        ..message_to(&acct, &c.value, message)
                    })
                    .await?;
                Some(LetterEmail {
                    message_id: row.id,
                    to: mask_email(&c.value),
                    status: DeliveryStatus::parse(&row.status),
                })
            }
            None => None,
        };
        let activation = match phc {
            Some(phc) => {
                self.set_password(&mut uow, acct.id, phc, SetBy::Staff)
                    .await?;
                uow.audit(
                    "portal_password_reset",
                    Some(acct.id),
                    json!({ "must_change_password": true }),
                )
                .await?;
                None
            }
            None => Some(
                self.insert_staff_code(&uow, &acct, "letter", &IdentityChecks::default())
                    .await?,
            ),
        };
        uow.commit(self).await?;
        Ok(CredentialsLetter {
            clinic_name: self.cfg.clinic_name.clone(),
            clinic_address: self.cfg.clinic_address.clone(),
            clinic_phone: self.cfg.clinic_phone.clone(),
            portal_url: self.cfg.public_url.clone(),
            patient_name: format!("{} {}", p.first_name, p.last_name),
            username: acct.username.clone(),
            temporary_password: password,
            activation_code: activation.as_ref().map(|d| d.code.clone()),
            activation_expires_at_ms: activation.map(|d| d.expires_at_ms),
            email: letter_email,
        })
    }

    /// A temporary password that meets this clinic's policy by construction: as long as
    /// `password.min_length` asks. A draw that happens to spell a word on file is drawn again,
    /// a bounded number of times (the odds of even one are tiny).
    fn generated_password(
        &self,
        ctx: &carekey_shared::policy::PolicyContext,
    ) -> Result<String, DomainError> {
        for _ in 0..20 {
            let pw =
                secrets::temporary_password(self.entropy.as_ref(), self.cfg.password_min_length)?;
            if self.policy().check_with(&pw, ctx).is_empty() {
                return Ok(pw);
            }
        }
        Err(DomainError::Internal(
            "no generated password met the policy in 20 draws".into(),
        ))
    }

    /// A code for the patient to choose their own password with, through the recovery page's
    /// "I have a code from the clinic". Good for `recovery.staff_code_hours` (R4: 24 h), once;
    /// replaces any code or link outstanding. The checklist of identity facts staff checked
    /// is stored with the challenge and the audit row, in the caller's unit of work.
    async fn insert_staff_code(
        &self,
        uow: &Uow,
        acct: &account::Model,
        how: &str,
        checks: &IdentityChecks,
    ) -> Result<DeskCode, DomainError> {
        let now = uow.now;
        let reference = secrets::new_reference(self.entropy.as_ref())?;
        let code = secrets::new_code(self.entropy.as_ref())?;
        let tag = challenges::code_tag(
            &self.key,
            acct.id,
            challenges::STAFF_CODE,
            &reference,
            &code,
        );
        let checklist = json!(checks.words()).to_string();
        challenges::supersede(uow.db(), acct.id, challenges::OUTSTANDING, now).await?;
        let row = challenges::insert(
            uow.db(),
            NewChallenge {
                account_id: acct.id,
                purpose: challenges::STAFF_CODE,
                channel: how,
                contact_id: None,
                secret_hmac: tag,
                reference: &reference,
                ttl: self.cfg.recovery.staff_code_ttl,
                issued_by: uow.actor().account_id,
                checklist: Some(checklist),
                pending_value: None,
            },
            now,
        )
        .await?;
        uow.audit(
            if how == "letter" {
                "activation_code_issued"
            } else {
                "desk_code_issued"
            },
            Some(acct.id),
            json!({ "checked": checks.words(), "expires_at": row.expires_at }),
        )
        .await?;
        Ok(DeskCode {
            username: acct.username.clone(),
            code,
            expires_at_ms: row.expires_at,
        })
    }

    /// Generate one-time code, for a patient on the phone or at the desk, after staff ticked
    /// which identity facts they checked. Shown once.
    pub async fn portal_desk_code(
        &self,
        caller: &Staff,
        patient_id: i64,
        checks: IdentityChecks,
    ) -> Result<DeskCode, DomainError> {
        let meta = caller.meta();
        let staff = caller.account().clone();
        if !checks.any() {
            return Err(DomainError::InvalidInput("identity_checklist".into()));
        }
        let (_, acct) = self.portal_account(patient_id).await?;
        let uow = self.begin(actor_for(Some(&staff), meta)).await?;
        let code = self.insert_staff_code(&uow, &acct, "desk", &checks).await?;
        uow.commit(self).await?;
        Ok(code)
    }

    /// Send reset link / send code to a contact on file; the patient continues on their own
    /// device. The same send limits as self-service apply (A2).
    pub async fn portal_send_reset(
        &self,
        caller: &Staff,
        patient_id: i64,
        channel: RecoveryChannel,
    ) -> Result<SentToPatient, DomainError> {
        let meta = caller.meta();
        let staff = caller.account().clone();
        let (_, acct) = self.portal_account(patient_id).await?;
        let contacts = self.contacts_of(&self.db, &acct).await?;
        let c = self
            .contact_for(&contacts, channel)
            .filter(|c| c.kind != "phone" || self.phone_allowed(&c.value_norm))
            .ok_or(DomainError::ContactInvalid)?;
        let now = self.now();
        let reference = secrets::new_reference(self.entropy.as_ref())?;
        let txn = self.db.begin().await?;
        if self
            .over_send_limits(&txn, acct.id, &c.value_norm, c.kind == "phone", now)
            .await?
        {
            return Err(DomainError::TooManyMessages);
        }
        let message_id = self
            .issue_reset(&txn, &acct, &c, channel, &reference, now)
            .await?;
        audit::append(
            &txn,
            now,
            &actor_for(Some(&staff), meta),
            Event {
                action: "staff_sent_reset",
                target: Some(acct.id),
                details: json!({ "channel": channel.as_str(), "reference": reference }),
            },
        )
        .await?;
        txn.commit().await?;
        self.delivery.kick();
        Ok(SentToPatient {
            channel,
            to: masked(&c.value),
            message_id,
        })
    }

    /// Unlock: clears a hard lock and a temporary pause, and the failure count.
    pub async fn portal_unlock(
        &self,
        caller: &Staff,
        patient_id: i64,
    ) -> Result<PatientChart, DomainError> {
        let meta = caller.meta();
        let staff = caller.account().clone();
        let (p, acct) = self.portal_account(patient_id).await?;
        let now = self.now();
        let txn = self.db.begin().await?;
        clear_lock(&txn, &acct, acct.must_change_password, now).await?;
        audit::append(
            &txn,
            now,
            &actor_for(Some(&staff), meta),
            Event {
                action: "account_unlocked",
                target: Some(acct.id),
                details: json!({
                    "was": acct.lock_reason,
                    "failures": acct.failed_sign_ins,
                }),
            },
        )
        .await?;
        txn.commit().await?;
        self.chart(p.id).await
    }

    /// The delivery status of one message the console is waiting on (the letter's email).
    pub async fn message_status(
        &self,
        _caller: &Staff,
        message_id: i64,
    ) -> Result<DeliveryStatus, DomainError> {
        let m = outbox_row::Entity::find_by_id(message_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| DomainError::NotFound("message".into()))?;
        Ok(DeliveryStatus::parse(&m.status))
    }

    // ---- Audit log -----------------------------------------------------------------------

    pub async fn audit_rows(
        &self,
        _caller: &Admin,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditRow>, DomainError> {
        let mut q = audit_log::Entity::find();
        if !filter.action.trim().is_empty() {
            q = q.filter(audit_log::Column::Action.eq(filter.action.trim()));
        }
        if !filter.from.trim().is_empty() {
            let from = day_start_ms(filter.from.trim())
                .ok_or_else(|| DomainError::InvalidInput("from".into()))?;
            q = q.filter(audit_log::Column::At.gte(from));
        }
        if !filter.to.trim().is_empty() {
            let to = day_start_ms(filter.to.trim())
                .ok_or_else(|| DomainError::InvalidInput("to".into()))?;
            q = q.filter(audit_log::Column::At.lt(to + DAY.as_millis() as i64));
        }
        let person = filter.person.trim().to_lowercase();
        if !person.is_empty() {
            // A person is matched as the one who acted or the one acted on.
            let ids: Vec<i64> = account::Entity::find()
                .filter(lower_like(
                    account::Column::Username,
                    &like_pattern(&person),
                ))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|a| a.id)
                .collect();
            q = q.filter(
                Condition::any()
                    .add(audit_log::Column::ActorAccountId.is_in(ids.clone()))
                    .add(audit_log::Column::TargetAccountId.is_in(ids))
                    .add(lower_like(audit_log::Column::Actor, &like_pattern(&person))),
            );
        }
        let rows = q
            .order_by_desc(audit_log::Column::Seq)
            .limit(AUDIT_LIMIT)
            .all(&self.db)
            .await?;
        let mut target_ids: Vec<i64> = rows.iter().filter_map(|r| r.target_account_id).collect();
        target_ids.sort_unstable();
        target_ids.dedup();
        let names: std::collections::HashMap<i64, String> = account::Entity::find()
            .filter(account::Column::Id.is_in(target_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|a| (a.id, a.username))
            .collect();
        Ok(rows
            .into_iter()
            .map(|r| AuditRow {
                seq: r.seq,
                at_ms: r.at,
                actor: r.actor,
                target: r
                    .target_account_id
                    .and_then(|id| names.get(&id).cloned())
                    .unwrap_or_default(),
                action: r.action,
                ip: r.ip,
                detail: r.details,
            })
            .collect())
    }

    /// The same rows as CSV for a spreadsheet, times in UTC (ISO 8601).
    pub async fn audit_csv(
        &self,
        caller: &Admin,
        filter: &AuditFilter,
    ) -> Result<String, DomainError> {
        let rows = self.audit_rows(caller, filter).await?;
        let mut out = String::from("seq,time_utc,actor,target,action,ip,detail\r\n");
        for r in rows {
            let when = iso_utc(r.at_ms);
            let cells = [
                r.seq.to_string(),
                when,
                r.actor,
                r.target,
                r.action,
                r.ip,
                r.detail,
            ];
            let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
        Ok(out)
    }
}

/// A staff reset's password, checked and hashed, waiting for its transaction.
/// A staff member's change of a portal username, in their unit of work. The unique index
/// decides a name two people race for.
async fn rename(
    uow: &Uow,
    a: &account::Model,
    username: &str,
) -> Result<account::Model, DomainError> {
    let mut am: account::ActiveModel = a.clone().into();
    am.username = Set(username.to_owned());
    am.username_lower = Set(username.to_lowercase());
    am.updated_at = Set(uow.now);
    let updated = am.update(uow.db()).await.map_err(taken)?;
    uow.audit("username_changed_by_staff", Some(a.id), json!({}))
        .await?;
    Ok(updated)
}

/// A new portal account with no password yet; the same unit of work gives it one, or an
/// activation code.
async fn create_portal_account(
    uow: &Uow,
    p: &patient::Model,
    username: &str,
) -> Result<account::Model, DomainError> {
    let now = uow.now;
    let a = account::ActiveModel {
        kind: Set("patient".into()),
        username: Set(username.to_owned()),
        username_lower: Set(username.to_lowercase()),
        display_name: Set(p.first_name.clone()),
        status: Set("active".into()),
        lock_reason: Set(None),
        must_change_password: Set(true),
        failed_sign_ins: Set(0),
        locked_until: Set(None),
        last_sign_in_at: Set(None),
        previous_sign_in_at: Set(None),
        failures_before_last_sign_in: Set(0),
        patient_id: Set(Some(p.id)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(uow.db())
    .await
    .map_err(taken)?;
    uow.audit(
        "portal_account_created",
        Some(a.id),
        json!({ "patient": p.id }),
    )
    .await?;
    Ok(a)
}

fn taken(e: sea_orm::DbErr) -> DomainError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(msg)) if msg.contains("username_lower") => {
            DomainError::UsernameTaken
        }
        _ => DomainError::Database(e),
    }
}

/// Clears every kind of lock and the failure count; sets whether a change is forced.
async fn clear_lock<C: ConnectionTrait>(
    db: &C,
    a: &account::Model,
    must_change_password: bool,
    now: i64,
) -> Result<account::Model, DomainError> {
    let mut am: account::ActiveModel = a.clone().into();
    if a.status == "locked" {
        am.status = Set("active".into());
    }
    am.lock_reason = Set(None);
    am.locked_until = Set(None);
    am.failed_sign_ins = Set(0);
    am.must_change_password = Set(must_change_password);
    am.updated_at = Set(now);
    Ok(am.update(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_suggested_from_the_name() {
        assert_eq!(username_from_name("Maria", "López"), "mlopez");
        assert_eq!(username_from_name("Ana", "Silva"), "asilva");
        assert_eq!(username_from_name("", "Li"), "patientli");
    }

    #[test]
    fn csv_cells_are_quoted_and_never_formulas() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_cell("-2+3"), "'-2+3");
    }

    #[test]
    fn search_wildcards_are_literal() {
        assert_eq!(like_pattern("50%_off"), "%50\\%\\_off%");
    }
}
