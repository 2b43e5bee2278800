//! What front-desk staff and administrators may do (SECURITY.md S5): Admin > Users, the patient
//! chart and its Patient Portal / API Access widget, desk codes, unlocking, and the audit log.
//! Every check is here, on the server; the console only hides what a role cannot use. Every
//! action writes an audit row naming the staff member, the target and what was done (S6).

use carekey_shared::staff::{
    AccountStatus, ChartContact, DeliveryStatus, PatientSummary, StaffRole, StaffUser,
};
use carekey_shared::{mask_email, mask_phone};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, SqlErr,
};
use unicode_normalization::UnicodeNormalization;

use crate::domain::caller::Staff;
use crate::domain::{DomainError, Services, lockout};
use crate::store::entities::audit_log::Action;
use crate::store::entities::{account, contact, outbox, patient};

/// Rows a search or a list returns at most; staff narrow the search rather than scroll.
const SEARCH_LIMIT: u64 = 50;
/// Audit rows shown or exported at most per query.
const AUDIT_LIMIT: u64 = 5_000;

pub fn role_of(a: &account::Model) -> Option<StaffRole> {
    match a.kind {
        account::Kind::Staff => Some(StaffRole::Staff),
        account::Kind::Admin => Some(StaffRole::Admin),
        account::Kind::Patient => None,
    }
}

fn role_kind(r: StaffRole) -> account::Kind {
    match r {
        StaffRole::Staff => account::Kind::Staff,
        StaffRole::Admin => account::Kind::Admin,
    }
}

/// What the console shows for an outbox status. Exhaustive, so a new status is a compile
/// error here rather than a message shown as still queued.
pub fn delivery_status(s: outbox::Status) -> DeliveryStatus {
    match s {
        outbox::Status::Queued => DeliveryStatus::Queued,
        outbox::Status::Sending => DeliveryStatus::Sending,
        outbox::Status::Sent => DeliveryStatus::Sent,
        outbox::Status::Failed => DeliveryStatus::Failed,
        outbox::Status::Expired => DeliveryStatus::Expired,
        outbox::Status::Cancelled => DeliveryStatus::Cancelled,
    }
}

pub fn status_of(a: &account::Model, now: i64) -> AccountStatus {
    if a.status == account::Status::Disabled {
        AccountStatus::Disabled
    } else if lockout::is_locked(a.status, a.locked_until, now) {
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

/// Which staff reads a session has already had recorded, so that the console's background
/// refreshes of what is on screen (a chart's delivery list, a letter's email status) add one
/// audit row per thing seen rather than one every few seconds. Per process: another instance,
/// or a restart, records the read once more, which errs on the side of the trail.
#[derive(Default)]
pub struct ReadMemo(std::sync::Mutex<std::collections::HashSet<(i64, ReadKind, i64)>>);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReadKind {
    Chart,
    Message,
}

/// Entries kept at most before the memo starts over (a few MB at worst).
const READ_MEMO_CAP: usize = 100_000;

impl ReadMemo {
    /// Whether this session's read of this thing is already in the trail.
    fn seen(&self, session: i64, kind: ReadKind, id: i64) -> bool {
        self.0
            .lock()
            .is_ok_and(|seen| seen.contains(&(session, kind, id)))
    }

    /// Remembers a read once its audit row has committed.
    fn remember(&self, session: i64, kind: ReadKind, id: i64) {
        if let Ok(mut seen) = self.0.lock() {
            if seen.len() >= READ_MEMO_CAP {
                seen.clear();
            }
            seen.insert((session, kind, id));
        }
    }
}

impl Services {
    /// Records a staff read of patient data before it is shown (HIPAA 164.312(b), SECURITY.md
    /// S8): a read that cannot be recorded is not answered.
    pub(crate) async fn record_read(
        &self,
        caller: &Staff,
        action: Action,
        target: Option<i64>,
        details: serde_json::Value,
    ) -> Result<(), DomainError> {
        let uow = self.begin(caller.actor()).await?;
        uow.audit(action, target, details).await?;
        uow.commit(self).await
    }

    /// As `record_read`, once per session and thing (`ReadMemo`).
    pub(crate) async fn record_read_once(
        &self,
        caller: &Staff,
        kind: ReadKind,
        id: i64,
        action: Action,
        target: Option<i64>,
        details: serde_json::Value,
    ) -> Result<(), DomainError> {
        let session = caller.caller().session().id;
        if self.reads.seen(session, kind, id) {
            return Ok(());
        }
        // Remembered only once recorded: a read whose row did not commit is not shown, and
        // the next refresh records it again.
        self.record_read(caller, action, target, details).await?;
        self.reads.remember(session, kind, id);
        Ok(())
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

pub mod audit_view;
mod chart;
mod desk_code;
mod portal;
mod unlock;
mod users;

impl Services {
    pub(crate) async fn staff_target(&self, user_id: i64) -> Result<account::Model, DomainError> {
        account::Entity::find_by_id(user_id)
            .one(&self.db)
            .await?
            .filter(|a| role_of(a).is_some())
            .ok_or_else(|| DomainError::NotFound("staff user".into()))
    }

    pub(crate) async fn patient_and_account(
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

    pub(crate) async fn portal_account(
        &self,
        patient_id: i64,
    ) -> Result<(patient::Model, account::Model), DomainError> {
        match self.patient_and_account(patient_id).await? {
            (p, Some(a)) => Ok((p, a)),
            (_, None) => Err(DomainError::NotFound("portal account".into())),
        }
    }
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
    if a.status == account::Status::Locked {
        am.status = Set(account::Status::Active);
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
