//! The patient chart: search, the chart itself with its Portal / API Access summary and
//! recent messages, contact corrections, adding a patient by hand.

use carekey_shared::staff::{
    AccountStatus, DeliveryRow, DeliveryStatus, FailedSignIn, PatientChart, PatientSummary,
    PortalAccess,
};
use carekey_shared::{ContactKind, mask_email, mask_phone};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use crate::domain::accounts::{NewContact, Owner, add_contact};
use crate::domain::caller::Staff;
use crate::domain::dates::day_start_ms;
use crate::domain::{DomainError, Services};
use crate::store::entities::{
    account, audit_log, contact, outbox as outbox_row, password_credential, patient,
};

use super::{
    ReadKind, SEARCH_LIMIT, chart_contact, like_pattern, lower_like, masked, status_of, summary,
    username_from_name,
};
use crate::store::entities::audit_log::Action;

impl Services {
    /// Search by MRN, date of birth (YYYY-MM-DD) or name words (each word must match the first
    /// or the last name).
    pub async fn search_patients(
        &self,
        caller: &Staff,
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
        // Each patient listed is a disclosure (S8); the words searched for are not kept.
        let listed: Vec<i64> = rows.iter().map(|p| p.id).collect();
        self.record_read(
            caller,
            Action::PatientsSearched,
            None,
            serde_json::json!({ "results": listed.len(), "patient_ids": listed }),
        )
        .await?;
        Ok(rows
            .iter()
            .map(|p| summary(p, with_accounts.contains(&p.id)))
            .collect())
    }

    pub async fn patient_chart(
        &self,
        caller: &Staff,
        patient_id: i64,
    ) -> Result<PatientChart, DomainError> {
        let chart = self.chart(patient_id).await?;
        let (_, acct) = self.patient_and_account(patient_id).await?;
        self.record_read(
            caller,
            Action::ChartOpened,
            acct.map(|a| a.id),
            serde_json::json!({ "patient_id": patient_id }),
        )
        .await?;
        self.reads
            .remember(caller.caller().session().id, ReadKind::Chart, patient_id);
        Ok(chart)
    }

    /// The chart's delivery list again, as the console refreshes it while a message is on its
    /// way: recorded once per session and patient, since the chart it belongs to was.
    pub async fn chart_deliveries(
        &self,
        caller: &Staff,
        patient_id: i64,
    ) -> Result<Vec<DeliveryRow>, DomainError> {
        let (_, acct) = self.patient_and_account(patient_id).await?;
        let rows = match &acct {
            Some(a) => self.deliveries(a.id).await?,
            None => vec![],
        };
        self.record_read_once(
            caller,
            ReadKind::Chart,
            patient_id,
            Action::ChartOpened,
            acct.as_ref().map(|a| a.id),
            serde_json::json!({ "patient_id": patient_id, "deliveries_only": true }),
        )
        .await?;
        Ok(rows)
    }

    pub(crate) async fn chart(&self, patient_id: i64) -> Result<PatientChart, DomainError> {
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
            language: p.language.map(crate::domain::messages::lang_of),
        })
    }

    pub(crate) async fn portal_access(
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
            .filter(audit_log::Column::Action.eq(Action::SignInFailed))
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
            two_step: self
                .stage_after_password(&self.db, a, None, now)
                .await?
                .offer
                .map(|offer| offer.methods)
                .unwrap_or_default(),
            reported_at_ms: crate::domain::not_me::open_report(&self.db, a.id).await?,
        })
    }

    pub(crate) async fn deliveries(
        &self,
        account_id: i64,
    ) -> Result<Vec<DeliveryRow>, DomainError> {
        Ok(outbox_row::Entity::find()
            .filter(outbox_row::Column::AccountId.eq(account_id))
            .order_by_desc(outbox_row::Column::Id)
            .limit(10)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| DeliveryRow {
                id: m.id,
                kind: m.kind.as_str().to_owned(),
                channel: m.channel.as_str().to_owned(),
                destination: masked(&m.destination),
                status: super::delivery_status(m.status),
                created_at_ms: m.created_at,
            })
            .collect())
    }

    /// The suggestion for a new portal username: initial + last name, numbered if taken.
    pub(crate) async fn free_username(&self, p: &patient::Model) -> Result<String, DomainError> {
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
    /// The front desk sets the patient's language on file (issue 13); audited with who did it.
    pub async fn set_patient_language(
        &self,
        caller: &Staff,
        patient_id: i64,
        lang: carekey_shared::Lang,
    ) -> Result<PatientChart, DomainError> {
        let (_, acct) = self.patient_and_account(patient_id).await?;
        let mut uow = self.begin(caller.actor()).await?;
        self.set_language(&mut uow, patient_id, lang).await?;
        uow.audit(
            Action::LanguageChanged,
            acct.as_ref().map(|a| a.id),
            json!({
                "patient": patient_id,
                "language": crate::domain::messages::language_word(lang).as_str(),
                "by": "staff",
            }),
        )
        .await?;
        uow.commit(self).await?;
        self.chart(patient_id).await
    }

    pub async fn update_patient_contacts(
        &self,
        caller: &Staff,
        patient_id: i64,
        email: &str,
        phone: &str,
        phone_is_mobile: bool,
    ) -> Result<PatientChart, DomainError> {
        let (p, acct) = self.patient_and_account(patient_id).await?;
        let email = email.trim();
        if !email.is_empty() && !crate::domain::contacts::plausible_email(email) {
            return Err(DomainError::ContactInvalid);
        }
        let phone = match phone.trim() {
            "" => None,
            typed => Some(
                crate::domain::phone::parse(typed, self.cfg.clinic_region)
                    .ok_or(DomainError::ContactInvalid)?,
            ),
        };
        // Where the number itself says mobile or landline (outside the US and Canada), that
        // decides; where it cannot tell, the box staff ticked does.
        let phone_is_mobile = phone
            .as_ref()
            .map_or(phone_is_mobile, |p| p.texts(phone_is_mobile));
        let phone = phone.map(|p| p.e164);
        // Read in the unit of work: what is on file decides what is replaced and who is told.
        let mut uow = self.begin(caller.actor()).await?;
        let now = uow.now;
        let before = contact::Entity::find()
            .filter(contact::Column::PatientId.eq(p.id))
            .all(uow.db())
            .await?;
        let old_email = before.iter().find(|c| c.kind == contact::Kind::Email);
        let old_phone = before.iter().find(|c| c.kind == contact::Kind::Phone);
        let email_changed = old_email.map(|c| c.value_norm.as_str())
            != Some(email.to_lowercase().as_str()).filter(|e| !e.is_empty());
        let phone_changed = old_phone.map(|c| (c.value_norm.clone(), c.sms_capable))
            != phone.clone().map(|p| (p, phone_is_mobile));
        // Only the kinds that changed are replaced: a code sent to an unchanged address stays
        // good, one sent to a replaced address stops working.
        let replaced: Vec<&contact::Model> = before
            .iter()
            .filter(|c| {
                (email_changed && c.kind == contact::Kind::Email)
                    || (phone_changed && c.kind == contact::Kind::Phone)
            })
            .collect();
        if let Some(a) = &acct {
            self.withdraw_from(&mut uow, a, &replaced, now).await?;
        }
        for c in &replaced {
            contact::Entity::delete_by_id(c.id).exec(uow.db()).await?;
        }
        if email_changed && !email.is_empty() {
            add_contact(
                uow.db(),
                Owner::Patient(p.id),
                NewContact::Email(email),
                now,
            )
            .await?;
        }
        if let Some(phone) = phone.as_ref().filter(|_| phone_changed) {
            let phone = NewContact::Phone {
                number: phone,
                texts: phone_is_mobile,
                calls: true,
            };
            add_contact(uow.db(), Owner::Patient(p.id), phone, now).await?;
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
                self.enqueue_contact_notices(&mut uow, a, &before, kind, new_value)
                    .await?;
            }
        }
        uow.audit(
            Action::PatientContactsUpdated,
            acct.as_ref().map(|a| a.id),
            json!({
                "patient": p.id,
                "email": !email.is_empty(),
                "phone": phone.is_some(),
                "mobile": phone_is_mobile,
            }),
        )
        .await?;
        uow.commit(self).await?;
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
        let checked =
            crate::domain::patients::check_new_patient(&n, self.now(), self.cfg.clinic_region)
                .map_err(|problems| DomainError::InvalidInput(problems.join(",")))?;
        let p = self.insert_patient(checked, Some(&staff), meta).await?;
        Ok(summary(&p, false))
    }

    /// The delivery status of one message the console is waiting on (the letter's email).
    pub async fn message_status(
        &self,
        caller: &Staff,
        message_id: i64,
    ) -> Result<DeliveryStatus, DomainError> {
        let m = outbox_row::Entity::find_by_id(message_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| DomainError::NotFound("message".into()))?;
        self.record_read_once(
            caller,
            ReadKind::Message,
            message_id,
            Action::MessageStatusViewed,
            m.account_id,
            serde_json::json!({ "message_id": message_id }),
        )
        .await?;
        Ok(super::delivery_status(m.status))
    }
}
