//! The audit log for administrators: filters, and the CSV export, which streams every
//! matching row and ends with the chain's proof. Viewing and exporting are themselves reads
//! of patient data, and recorded (SECURITY.md S8).

use carekey_shared::staff::{AuditFilter, AuditRow};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};

use crate::domain::audit::{self, Verification};
use crate::domain::caller::Admin;
use crate::domain::dates::{day_start_ms, iso_utc};
use crate::domain::limits::DAY;
use crate::domain::{DomainError, Services};
use crate::store::entities::audit_log::Action;
use crate::store::entities::{account, audit_log};

use super::{AUDIT_LIMIT, csv_cell, like_pattern, lower_like};

/// The export's first line. `mac` is each row's link in the chain, to be matched against the
/// database (`carekey audit verify` checks the chain itself; the export does not carry every
/// field the MAC covers, such as the user agent).
pub const AUDIT_CSV_HEADER: &str = "seq,time_utc,actor,target,action,ip,detail,mac\r\n";

/// Rows read per query while an export streams.
const EXPORT_BATCH: u64 = 500;

/// One export: the rows the filter matches, up to the head as it stood when the export
/// began, and the chain's proof as checked then.
pub struct AuditExport {
    query: Select<audit_log::Entity>,
    pub through_seq: i64,
}

/// The export's last line: what the chain check found, and the head it covers. It starts with
/// `#` so a spreadsheet shows it as a note under the rows.
pub fn proof_line(proof: &Verification) -> String {
    match proof {
        Verification::Intact {
            rows,
            head_seq,
            head_mac,
        } => format!(
            "# audit chain intact: {rows} rows checked under the audit key; head {head_seq}:{head_mac}\r\n"
        ),
        Verification::Broken {
            at_seq,
            damage,
            head_seq,
        } => format!(
            "# audit chain DAMAGED at row {at_seq}: {}; the head says {head_seq} rows\r\n",
            damage.describe()
        ),
    }
}

fn filter_details(filter: &AuditFilter) -> serde_json::Value {
    serde_json::json!({
        "person": filter.person.trim(),
        "action": filter.action.trim(),
        "from": filter.from.trim(),
        "to": filter.to.trim(),
    })
}

impl Services {
    async fn audit_query(
        &self,
        filter: &AuditFilter,
    ) -> Result<Select<audit_log::Entity>, DomainError> {
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
        Ok(q)
    }

    /// The rows as the console shows them, each with its chain MAC.
    async fn audit_view_rows(
        &self,
        rows: Vec<audit_log::Model>,
    ) -> Result<Vec<(AuditRow, String)>, DomainError> {
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
            .map(|r| {
                let row = AuditRow {
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
                };
                (row, r.hash)
            })
            .collect())
    }

    /// The newest rows the filter matches, at most `AUDIT_LIMIT` on screen (the export has
    /// them all).
    pub async fn audit_rows(
        &self,
        caller: &Admin,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditRow>, DomainError> {
        let rows = self
            .audit_query(filter)
            .await?
            .order_by_desc(audit_log::Column::Seq)
            .limit(AUDIT_LIMIT)
            .all(&self.db)
            .await?;
        let rows: Vec<AuditRow> = self
            .audit_view_rows(rows)
            .await?
            .into_iter()
            .map(|(row, _)| row)
            .collect();
        let mut details = filter_details(filter);
        details["rows"] = rows.len().into();
        self.record_read(caller.as_staff(), Action::AuditViewed, None, details)
            .await?;
        Ok(rows)
    }

    /// Starts an export: records it before a row leaves, then fixes the head it runs to (its
    /// own row included). The chain is checked after the rows (`audit_export_proof`), so a
    /// trail of any length starts at once instead of timing out before its first byte.
    pub async fn audit_export(
        &self,
        caller: &Admin,
        filter: &AuditFilter,
    ) -> Result<AuditExport, DomainError> {
        let query = self.audit_query(filter).await?;
        // The export's own row is the last it carries: its seq is where the export ends.
        self.record_read(
            caller.as_staff(),
            Action::AuditExported,
            None,
            filter_details(filter),
        )
        .await?;
        let through_seq = audit::head_seq(&self.db).await?;
        Ok(AuditExport { query, through_seq })
    }

    /// The export's closing line: the whole chain checked under the key, to the head as it
    /// stands once the rows are out (at or past the last row exported: what was written
    /// meanwhile is covered too).
    pub async fn audit_export_proof(&self) -> Result<String, DomainError> {
        let proof = audit::verify(&self.db, &self.audit_key, None).await?;
        Ok(proof_line(&proof))
    }

    /// The export's next rows after `after_seq`, oldest first, as CSV lines (times in UTC,
    /// ISO 8601), with the last seq they reach; None when every row has been given.
    pub async fn audit_export_chunk(
        &self,
        export: &AuditExport,
        after_seq: i64,
    ) -> Result<Option<(i64, String)>, DomainError> {
        let rows = export
            .query
            .clone()
            .filter(audit_log::Column::Seq.gt(after_seq))
            .filter(audit_log::Column::Seq.lte(export.through_seq))
            .order_by_asc(audit_log::Column::Seq)
            .limit(EXPORT_BATCH)
            .all(&self.db)
            .await?;
        let Some(last) = rows.last().map(|r| r.seq) else {
            return Ok(None);
        };
        let mut out = String::new();
        for (r, mac) in self.audit_view_rows(rows).await? {
            let cells = [
                r.seq.to_string(),
                iso_utc(r.at_ms),
                r.actor,
                r.target,
                r.action,
                r.ip,
                r.detail,
                mac,
            ];
            let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
        Ok(Some((last, out)))
    }
}
