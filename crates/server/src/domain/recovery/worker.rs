//! The recovery worker: decides, off the request path, whether a queued request names an
//! account, which contact to use and whether a limit applies, and writes the challenge and its
//! message in one transaction. Leases keep several instances from handling one request twice.

use carekey_shared::{RecoveryChannel, RecoveryIdentity, UsernameLookup};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use crate::delivery::outbound::{Outbound, minutes};
use crate::delivery::outbox::{self, NewMessage};
use crate::domain::challenges::{self, NewChallenge};
use crate::domain::limits::{self, DAY};
use crate::domain::messages::{code_channel, language_of, message_to};
use crate::domain::signin::actor_for;
use crate::domain::uow::Uow;
use crate::domain::{ClientMeta, DomainError, Services, phone, secrets};
use crate::store::entities::{account, contact, patient, recovery_request};
use crate::telemetry::names;

use super::{Asker, REQUEST_LEASE_MS, ResetPayload, UsernamePayload};
use crate::store::entities::audit_log::Action;

/// Longest one of the worker's reads or claims may take (SECURITY.md F1): a connection that
/// went silent mid-query (a failover, a stalled network) would otherwise hold the worker
/// until TCP gives up, a quarter of an hour, while the portal keeps saying "we sent it". Cut
/// short, the round ends with an error, and the next one starts on a fresh connection.
const DB_CALL: std::time::Duration = std::time::Duration::from_secs(5);
/// Longest the handling of one request may take, all its statements together.
const HANDLE_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

async fn bounded<T>(
    call: impl std::future::Future<Output = Result<T, sea_orm::DbErr>>,
) -> Result<T, DomainError> {
    match tokio::time::timeout(DB_CALL, call).await {
        Ok(r) => Ok(r?),
        Err(_) => Err(DomainError::Database(sea_orm::DbErr::Custom(
            "the database did not answer in time".into(),
        ))),
    }
}

/// Requests one unit of work handles together: one claim, one transaction, one pass over the
/// audit chain and one delete for all of them, where each request used to cost all of these on
/// its own (issue 15: the worker handled a flood at a tenth of the rate it was accepted).
pub(crate) const BATCH: u64 = 50;
/// A round returns after this long even with requests left, inside the round limit in app.rs
/// (30 s), which would otherwise cut a long backlog's round off mid-batch; the next round
/// starts at once.
const ROUND_BUDGET: std::time::Duration = std::time::Duration::from_secs(20);

/// A request read, and whom it names, before its unit of work opens.
enum LookedUp {
    Reset(ResetPayload, Option<account::Model>),
    Username(UsernamePayload, Option<(account::Model, contact::Model)>),
    Unreadable,
}

impl LookedUp {
    fn account_id(&self) -> Option<i64> {
        match self {
            LookedUp::Reset(_, acct) => acct.as_ref().map(|a| a.id),
            LookedUp::Username(_, found) => found.as_ref().map(|(a, _)| a.id),
            LookedUp::Unreadable => None,
        }
    }
}

fn meta_of(req: &recovery_request::Model) -> ClientMeta {
    ClientMeta {
        ip: req.ip.clone(),
        user_agent: req.user_agent.clone(),
        flow: None,
    }
}

fn cut_short() -> DomainError {
    DomainError::Database(sea_orm::DbErr::Custom(
        "the database did not answer in time".into(),
    ))
}

impl Services {
    /// Handles queued requests, fairest first (intake.rs), in batches, until none is left or
    /// the round's time is up; returns how many it handled.
    pub async fn process_recovery_requests(&self) -> Result<usize, DomainError> {
        let began = std::time::Instant::now();
        let mut handled = 0;
        while began.elapsed() < ROUND_BUDGET {
            let now = self.now();
            let due = recovery_request::Entity::find()
                .select_only()
                .column(recovery_request::Column::Id)
                .filter(
                    recovery_request::Column::LeaseUntil
                        .is_null()
                        .or(recovery_request::Column::LeaseUntil.lt(now)),
                )
                // Fairly: everyone's first request before anyone's hundredth (intake.rs).
                .order_by_asc(recovery_request::Column::FairRank)
                .order_by_asc(recovery_request::Column::Id)
                .limit(BATCH)
                .into_tuple::<i64>()
                .all(&self.db);
            let due = bounded(due).await?;
            if due.is_empty() {
                break;
            }
            // Leased from the moment of this claim, not the read's (a lease already run out
            // would let another instance handle a request twice); the rows the claim returns
            // are this worker's, whatever another instance took meanwhile.
            let now = self.now();
            let claimed = recovery_request::Entity::update_many()
                .col_expr(
                    recovery_request::Column::LeaseUntil,
                    Expr::value(now + REQUEST_LEASE_MS),
                )
                .filter(recovery_request::Column::Id.is_in(due))
                .filter(
                    recovery_request::Column::LeaseUntil
                        .is_null()
                        .or(recovery_request::Column::LeaseUntil.lt(now)),
                )
                .exec_with_returning(&self.db);
            let mut claimed = bounded(claimed).await?;
            if claimed.is_empty() {
                break;
            }
            claimed.sort_by_key(|r| (r.fair_rank, r.id));
            for req in &claimed {
                // From the request to the worker taking it up (a clock moved back by a test or
                // NTP counts as none).
                metrics::histogram!(names::RECOVERY_LAG)
                    .record(Ord::max(now - req.created_at, 0) as f64 / 1000.0);
            }
            // Bounded like every call here: cut short, the unit of work is dropped unfinished
            // (nothing of it commits) and the leases bring the requests back.
            match tokio::time::timeout(HANDLE_LIMIT, self.handle_batch(&claimed)).await {
                Ok(Ok(())) => handled += claimed.len(),
                Ok(Err(e)) => {
                    // One request's failure undid the batch: each again in a unit of work of
                    // its own, so one that cannot be handled now holds back no other.
                    tracing::warn!(error = %e, requests = claimed.len(), "recovery batch not handled; one at a time");
                    for req in &claimed {
                        let one = tokio::time::timeout(HANDLE_LIMIT, self.handle_one(req)).await;
                        match one.unwrap_or_else(|_| Err(cut_short())) {
                            Ok(()) => handled += 1,
                            // The lease runs out and the request is tried again.
                            Err(e) => {
                                tracing::warn!(request = req.id, error = %e, "recovery request not handled yet")
                            }
                        }
                    }
                }
                Err(_) => return Err(cut_short()),
            }
        }
        Ok(handled)
    }

    /// One request in a unit of work of its own.
    async fn handle_one(&self, req: &recovery_request::Model) -> Result<(), DomainError> {
        let looked_up = self
            .look_up(std::slice::from_ref(req))
            .await?
            .pop()
            .unwrap_or(LookedUp::Unreadable);
        let mut uow = self.begin(actor_for(None, &meta_of(req))).await?;
        self.handle_in(&mut uow, req, looked_up).await?;
        recovery_request::Entity::delete_by_id(req.id)
            .exec(uow.db())
            .await?;
        uow.commit(self).await
    }

    /// Every request of `reqs` in one unit of work, each as its own part (its own actor in the
    /// audit trail), deleted together with what they did: handled once or not at all. Whom
    /// they name is looked up first, before the transaction opens, as for one request.
    async fn handle_batch(&self, reqs: &[recovery_request::Model]) -> Result<(), DomainError> {
        let Some(first) = reqs.first() else {
            return Ok(());
        };
        let looked_up = self.look_up(reqs).await?;
        let mut work: Vec<_> = reqs.iter().zip(looked_up).collect();
        // Every batch locks its accounts in one order, so two workers' batches (PostgreSQL)
        // never each hold an account the other waits for. They commit together, so the order
        // inside a batch changes nothing else.
        work.sort_by_key(|(_, found)| found.account_id());
        let mut uow = self.begin(actor_for(None, &meta_of(first))).await?;
        for (req, found) in work {
            uow.next_part(actor_for(None, &meta_of(req)));
            self.handle_in(&mut uow, req, found).await?;
        }
        recovery_request::Entity::delete_many()
            .filter(recovery_request::Column::Id.is_in(reqs.iter().map(|r| r.id)))
            .exec(uow.db())
            .await?;
        uow.commit(self).await
    }

    /// What each request asks and whom it names, in order, read before any unit of work opens:
    /// the accounts forgot-password requests name in one lookup for all of them. A request
    /// that cannot be read can never succeed: it is dropped (deleted with the rest), not
    /// retried.
    async fn look_up(
        &self,
        reqs: &[recovery_request::Model],
    ) -> Result<Vec<LookedUp>, DomainError> {
        let resets: Vec<Option<ResetPayload>> = reqs
            .iter()
            .map(|r| match r.kind {
                recovery_request::Kind::Reset => serde_json::from_str(&r.payload).ok(),
                recovery_request::Kind::Username => None,
            })
            .collect();
        let whos: Vec<&RecoveryIdentity> = resets.iter().flatten().map(|p| &p.who).collect();
        let mut accounts = self.find_many_for_recovery(&whos).await?.into_iter();
        let mut out = Vec::with_capacity(reqs.len());
        for (req, reset) in reqs.iter().zip(resets) {
            out.push(match (&req.kind, reset) {
                (recovery_request::Kind::Reset, Some(p)) => {
                    LookedUp::Reset(p, accounts.next().flatten())
                }
                (recovery_request::Kind::Reset, None) => LookedUp::Unreadable,
                (recovery_request::Kind::Username, _) => {
                    match serde_json::from_str::<UsernamePayload>(&req.payload) {
                        Ok(p) => {
                            let found = self.username_for(&p.lookup).await?;
                            LookedUp::Username(p, found)
                        }
                        Err(_) => LookedUp::Unreadable,
                    }
                }
            });
        }
        Ok(out)
    }

    /// What one request asks, done in the caller's unit of work.
    async fn handle_in(
        &self,
        uow: &mut Uow,
        req: &recovery_request::Model,
        looked_up: LookedUp,
    ) -> Result<(), DomainError> {
        match looked_up {
            LookedUp::Reset(p, acct) => self.handle_reset_request(uow, req, p, acct).await,
            LookedUp::Username(p, found) => self.handle_username_request(uow, p, found).await,
            LookedUp::Unreadable => Ok(()),
        }
    }

    async fn handle_reset_request(
        &self,
        uow: &mut Uow,
        req: &recovery_request::Model,
        p: ResetPayload,
        acct: Option<account::Model>,
    ) -> Result<(), DomainError> {
        // The contacts as they are now, in the unit of work: a contact replaced a moment ago
        // must not get the code.
        let contacts = match &acct {
            Some(a) => self.contacts_of(uow.db(), a).await?,
            None => vec![],
        };
        let outcome = match (&acct, self.contact_for(&contacts, p.channel)) {
            (None, _) => "no_account",
            (Some(_), None) => "no_contact",
            (Some(_), Some(c))
                if c.kind == contact::Kind::Phone && !self.phone_allowed(&c.value_norm) =>
            {
                "country_not_allowed"
            }
            (Some(a), Some(c)) => {
                // The account's lock first: a report ("this wasn't me") committing meanwhile
                // is then seen, never overtaken by a code issued under it.
                uow.lock_account(a.id).await?;
                if crate::domain::not_me::recovery_paused(uow.db(), a.id, uow.now).await? {
                    // The person said a change was not theirs: nothing self-service is sent
                    // for a day; the clinic's own reset still works (SECURITY.md M8).
                    "paused_after_report"
                } else if self.over_identifier_limits(uow, a.id, &p.who).await? {
                    "identifier_limited"
                } else if self.over_send_limits_to(uow, a.id, &c).await? {
                    "limited"
                } else {
                    let asker = Asker::Patient {
                        lang: p.lang,
                        flow: p.flow_tag.as_deref(),
                    };
                    self.issue_reset(uow, a, &c, p.channel, &req.reference, asker)
                        .await?;
                    "queued"
                }
            }
        };
        uow.audit(
            Action::RecoveryRequested,
            acct.as_ref().map(|a| a.id),
            json!({
                "channel": p.channel.as_str(),
                "reference": req.reference,
                "outcome": outcome,
            }),
        )
        .await
    }

    /// Replaces any outstanding code or link with a new one and queues its message, in the
    /// caller's unit of work; answers the message's outbox id.
    pub(crate) async fn issue_reset(
        &self,
        uow: &mut Uow,
        acct: &account::Model,
        c: &contact::Model,
        channel: RecoveryChannel,
        reference: &str,
        asker: Asker<'_>,
    ) -> Result<i64, DomainError> {
        let now = uow.now;
        let (asked, flow_tag) = match asker {
            Asker::Clinic => {
                challenges::supersede(uow.db(), acct.id, challenges::OUTSTANDING, now).await?;
                (None, None)
            }
            Asker::Patient { lang, flow } => {
                challenges::supersede_flow(uow.db(), acct.id, challenges::OUTSTANDING, flow, now)
                    .await?;
                (Some(lang), flow.map(str::to_owned))
            }
        };
        let r = &self.cfg.recovery;
        // The code or token goes into the sealed message; only its HMAC is kept with the
        // challenge.
        let (secret_hmac, ttl, message) = if channel.sends_code() {
            let code = secrets::new_code(self.entropy.as_ref())?;
            let tag = challenges::code_tag(
                &self.key,
                acct.id,
                challenges::Purpose::Reset,
                reference,
                &code,
            );
            let message = Outbound::ResetCode {
                via: code_channel(channel),
                code,
                reference: reference.to_owned(),
                expires_in_minutes: minutes(r.code_ttl),
            };
            (tag, r.code_ttl, message)
        } else {
            let token = secrets::new_token(self.entropy.as_ref())?;
            let tag = challenges::token_tag(&self.key, "link", &token);
            let message = Outbound::ResetLink {
                token,
                reference: reference.to_owned(),
                expires_in_minutes: minutes(r.link_ttl),
            };
            (tag, r.link_ttl, message)
        };
        let row = challenges::insert(
            uow.db(),
            NewChallenge {
                account_id: acct.id,
                purpose: challenges::Purpose::Reset,
                channel: channel.as_str(),
                contact_id: Some(c.id),
                secret_hmac,
                reference,
                ttl,
                issued_by: None,
                checklist: None,
                pending_value: None,
                flow_tag,
            },
            now,
        )
        .await?;
        let lang = language_of(uow.db(), acct, asked).await?;
        let message = uow
            .send(NewMessage {
                challenge_id: Some(row.id),
                expires_at: Some(row.expires_at),
                ..message_to(acct, lang, &c.value, message)
            })
            .await?;
        Ok(message.id)
    }

    /// The one account a forgot-username lookup names, and the contact to send to.
    async fn username_for(
        &self,
        lookup: &UsernameLookup,
    ) -> Result<Option<(account::Model, contact::Model)>, DomainError> {
        match lookup {
            UsernameLookup::Contact { email_or_phone } => {
                self.username_by_contact(email_or_phone).await
            }
            UsernameLookup::Demographics {
                first_name,
                last_name,
                date_of_birth,
                zip,
            } => {
                self.username_by_demographics(first_name, last_name, date_of_birth, zip)
                    .await
            }
        }
    }

    async fn handle_username_request(
        &self,
        uow: &mut Uow,
        UsernamePayload { lookup, lang }: UsernamePayload,
        found: Option<(account::Model, contact::Model)>,
    ) -> Result<(), DomainError> {
        let now = uow.now;
        let outcome = match &found {
            None => "no_single_match",
            Some((a, c)) => {
                if self.over_send_limits_to(uow, a.id, c).await? {
                    "limited"
                } else {
                    let message = Outbound::Username {
                        via: Services::route_to(c),
                        username: a.username.clone(),
                    };
                    let lang = language_of(uow.db(), a, Some(lang)).await?;
                    uow.send(NewMessage {
                        expires_at: Some(now + DAY.as_millis() as i64),
                        ..message_to(a, lang, &c.value, message)
                    })
                    .await?;
                    "queued"
                }
            }
        };
        let how = match lookup {
            UsernameLookup::Contact { .. } => "contact",
            UsernameLookup::Demographics { .. } => "demographics",
        };
        uow.audit(
            Action::UsernameRequested,
            found.as_ref().map(|(a, _)| a.id),
            json!({ "by": how, "outcome": outcome }),
        )
        .await
    }

    /// The one patient account a typed email or phone number is on file for, and that contact
    /// (the username goes back to the very contact that was typed, SECURITY.md R11).
    pub(crate) async fn username_by_contact(
        &self,
        typed: &str,
    ) -> Result<Option<(account::Model, contact::Model)>, DomainError> {
        let typed = typed.trim();
        let q = contact::Entity::find();
        let matches = if typed.contains('@') {
            q.filter(contact::Column::Kind.eq(contact::Kind::Email))
                .filter(contact::Column::ValueNorm.eq(typed.to_lowercase()))
        } else {
            let forms = phone::lookup_forms(typed, self.cfg.clinic_region);
            if forms.is_empty() {
                return Ok(None);
            }
            // A landline typed here gets a call: a landline-only patient has no other way.
            q.filter(contact::Column::Kind.eq(contact::Kind::Phone))
                .filter(
                    contact::Column::SmsCapable
                        .eq(true)
                        .or(contact::Column::VoiceCapable.eq(true)),
                )
                .filter(contact::Column::ValueNorm.is_in(forms))
        }
        .all(&self.db)
        .await?;
        let mut found: Vec<(account::Model, contact::Model)> = vec![];
        for c in matches {
            let Some(pid) = c.patient_id else { continue };
            let a = account::Entity::find()
                .filter(account::Column::PatientId.eq(pid))
                .one(&self.db)
                .await?;
            if let Some(a) = a.filter(|a| a.status != account::Status::Disabled)
                && !found.iter().any(|(f, _)| f.id == a.id)
            {
                found.push((a, c));
            }
        }
        Ok(match found.len() {
            1 => found.pop().filter(|(_, c)| {
                c.kind == contact::Kind::Email || self.phone_allowed(&c.value_norm)
            }),
            _ => None,
        })
    }

    pub(crate) async fn username_by_demographics(
        &self,
        first: &str,
        last: &str,
        dob: &str,
        zip: &str,
    ) -> Result<Option<(account::Model, contact::Model)>, DomainError> {
        let zip5: String = zip.trim().chars().take(5).collect();
        if zip5.len() != 5 || !zip5.chars().all(|c| c.is_ascii_digit()) {
            return Ok(None);
        }
        let lower = |col: patient::Column| Expr::expr(Func::lower(Expr::col(col)));
        // The ZIP is compared here, not with LIKE, so "%" in the form matches nothing.
        let patients: Vec<patient::Model> = patient::Entity::find()
            .filter(lower(patient::Column::FirstName).eq(first.trim().to_lowercase()))
            .filter(lower(patient::Column::LastName).eq(last.trim().to_lowercase()))
            .filter(patient::Column::DateOfBirth.eq(dob.trim()))
            .all(&self.db)
            .await?
            .into_iter()
            .filter(|p| p.zip.chars().take(5).collect::<String>() == zip5)
            .collect();
        if patients.len() != 1 {
            return Ok(None);
        }
        let Some(a) = account::Entity::find()
            .filter(account::Column::PatientId.eq(patients[0].id))
            .one(&self.db)
            .await?
            .filter(|a| a.status != account::Status::Disabled)
        else {
            return Ok(None);
        };
        let contacts = self.contacts_of(&self.db, &a).await?;
        // Email first (the patient asked on a web page), else a number that takes texts, else
        // a call: a landline-only patient must not be told "we sent it" and get nothing.
        let c = self
            .contact_for(&contacts, RecoveryChannel::EmailCode)
            .or_else(|| {
                self.contact_for(&contacts, RecoveryChannel::Sms)
                    .filter(|c| self.phone_allowed(&c.value_norm))
            })
            .or_else(|| contacts.iter().find(|c| self.takes_calls(c)).cloned());
        Ok(c.map(|c| (a, c)))
    }

    /// Periodic clean-up: scrub call scripts whose codes have expired, and forget rate
    /// counters from windows long gone.
    pub async fn housekeeping(&self) -> Result<(), DomainError> {
        let now = self.now();
        let scrubbed = outbox::scrub_expired(&self.db, now).await?;
        let pruned = limits::prune(&self.db, now).await?;
        let ceremonies = self.prune_ceremonies(now).await?;
        let links = self.prune_report_links(now).await?;
        if scrubbed + pruned + ceremonies + links > 0 {
            tracing::debug!(scrubbed, pruned, ceremonies, links, "housekeeping");
        }
        Ok(())
    }
}
