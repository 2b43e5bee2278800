//! The audit log for administrators: filters and the CSV export.

use carekey_shared::staff::{AuditFilter, AuditRow};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::caller::Admin;
use crate::domain::dates::{day_start_ms, iso_utc};
use crate::domain::limits::DAY;
use crate::domain::{DomainError, Services};
use crate::store::entities::{account, audit_log};

use super::{AUDIT_LIMIT, csv_cell, like_pattern, lower_like};

impl Services {
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
