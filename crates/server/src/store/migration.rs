//! Schema migrations. Written out explicitly (not derived from the entities) so that a later
//! change to an entity can never silently rewrite history for a clinic's existing database.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(M0001Initial),
            Box::new(M0002RecoveryRequests),
            Box::new(M0003PendingContact),
            Box::new(M0004SessionPasswordProof),
            Box::new(M0005PatientLanguage),
            Box::new(M0006TwoStep),
            Box::new(M0007RememberedDevices),
            Box::new(M0008Passkeys),
            Box::new(M0009ReportLinks),
            Box::new(M0010SentCodes),
            Box::new(M0011KeyedAudit),
            Box::new(M0012SlidingLimits),
            Box::new(M0013BoundCodes),
            Box::new(M0014FairQueue),
        ]
    }
}

struct M0001Initial;

impl MigrationName for M0001Initial {
    fn name(&self) -> &str {
        "m0001_initial"
    }
}

fn table(name: &'static str) -> TableCreateStatement {
    Table::create().table(name).if_not_exists().to_owned()
}

fn index(table: &'static str, name: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table).if_not_exists();
    for c in cols {
        i.col(*c);
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Initial {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("patients")
                .col(big_pk_auto("id"))
                .col(string_uniq("mrn"))
                .col(string("first_name"))
                .col(string("last_name"))
                .col(string("date_of_birth"))
                .col(string("zip"))
                .col(big_integer("created_at"))
                .col(big_integer("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            table("accounts")
                .col(big_pk_auto("id"))
                .col(string("kind"))
                .col(string("username"))
                .col(string_uniq("username_lower"))
                .col(string("display_name"))
                .col(string("status"))
                .col(string_null("lock_reason"))
                .col(boolean("must_change_password"))
                .col(integer("failed_sign_ins"))
                .col(big_integer_null("locked_until"))
                .col(big_integer_null("last_sign_in_at"))
                .col(big_integer_null("previous_sign_in_at"))
                .col(integer("failures_before_last_sign_in"))
                .col(big_integer_null("patient_id").unique_key())
                .col(big_integer("created_at"))
                .col(big_integer("updated_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("accounts", "patient_id")
                        .to("patients", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            table("contacts")
                .col(big_pk_auto("id"))
                .col(big_integer_null("patient_id"))
                .col(big_integer_null("account_id"))
                .col(string("kind"))
                .col(string("value"))
                .col(string("value_norm"))
                .col(boolean("sms_capable"))
                .col(boolean("voice_capable"))
                .col(big_integer_null("verified_at"))
                .col(boolean("preferred"))
                .col(big_integer("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("contacts", "patient_id")
                        .to("patients", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("contacts", "account_id")
                        .to("accounts", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "contacts",
            "ix_contacts_value_norm",
            &["kind", "value_norm"],
        ))
        .await?;
        m.create_index(index("contacts", "ix_contacts_patient", &["patient_id"]))
            .await?;
        m.create_table(
            table("password_credentials")
                .col(big_integer("account_id").primary_key())
                .col(text("phc"))
                .col(big_integer("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("password_credentials", "account_id")
                        .to("accounts", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            table("password_history")
                .col(big_pk_auto("id"))
                .col(big_integer("account_id"))
                .col(text("phc"))
                .col(big_integer("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("password_history", "account_id")
                        .to("accounts", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "password_history",
            "ix_password_history_account",
            &["account_id", "created_at"],
        ))
        .await?;
        m.create_table(
            table("challenges")
                .col(big_pk_auto("id"))
                .col(big_integer("account_id"))
                .col(string("purpose"))
                .col(string("channel"))
                .col(big_integer_null("contact_id"))
                .col(string_uniq("secret_hmac"))
                .col(string("reference"))
                .col(big_integer("expires_at"))
                .col(integer("attempts"))
                .col(big_integer_null("consumed_at"))
                .col(big_integer_null("superseded_at"))
                .col(big_integer_null("issued_by"))
                .col(text_null("checklist"))
                .col(big_integer("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("challenges", "account_id")
                        .to("accounts", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "challenges",
            "ix_challenges_account_purpose",
            &["account_id", "purpose"],
        ))
        .await?;
        m.create_table(
            table("sessions")
                .col(big_pk_auto("id"))
                .col(string_uniq("token_hash"))
                .col(big_integer("account_id"))
                .col(big_integer("created_at"))
                .col(big_integer("last_seen_at"))
                .col(big_integer_null("revoked_at"))
                .col(text("user_agent"))
                .col(string("ip"))
                .foreign_key(
                    ForeignKey::create()
                        .from("sessions", "account_id")
                        .to("accounts", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("sessions", "ix_sessions_account", &["account_id"]))
            .await?;
        m.create_table(
            table("outbox")
                .col(big_pk_auto("id"))
                .col(string("kind"))
                .col(string("channel"))
                .col(string("destination"))
                .col(big_integer_null("account_id"))
                .col(big_integer_null("challenge_id"))
                .col(text("payload"))
                .col(string("status"))
                .col(integer("attempts"))
                .col(big_integer("next_attempt_at"))
                .col(big_integer_null("expires_at"))
                .col(big_integer_null("lease_until"))
                .col(big_integer_null("sent_at"))
                .col(text_null("last_error"))
                .col(big_integer("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "outbox",
            "ix_outbox_due",
            &["status", "next_attempt_at"],
        ))
        .await?;
        m.create_table(
            table("rate_limits")
                .col(string("key").primary_key())
                .col(big_integer("window_start"))
                .col(integer("count"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            table("audit_log")
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("seq"))
                .col(big_integer("at"))
                .col(big_integer_null("actor_account_id"))
                .col(string("actor"))
                .col(big_integer_null("target_account_id"))
                .col(string("action"))
                .col(string("ip"))
                .col(text("user_agent"))
                .col(text("details"))
                .col(string("prev_hash"))
                .col(string("hash"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "audit_log",
            "ix_audit_target",
            &["target_account_id"],
        ))
        .await?;
        m.create_table(
            table("audit_head")
                .col(integer("id").primary_key())
                .col(big_integer("seq"))
                .col(string("hash"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            table("security_questions")
                .col(big_integer("account_id").primary_key())
                .col(text("question"))
                .col(text("answer_phc"))
                .col(big_integer("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("security_questions", "account_id")
                        .to("accounts", "id"),
                )
                .to_owned(),
        )
        .await?;
        // The chain starts from a fixed genesis value so that the first row is verifiable too.
        let genesis = Query::insert()
            .into_table("audit_head")
            .columns(["id", "seq", "hash"])
            .values([
                1.into(),
                0i64.into(),
                super::entities::audit_head::GENESIS.into(),
            ])
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        m.exec_stmt(genesis).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "security_questions",
            "audit_head",
            "audit_log",
            "rate_limits",
            "outbox",
            "sessions",
            "challenges",
            "password_history",
            "password_credentials",
            "contacts",
            "accounts",
            "patients",
        ] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Forgot-password and forgot-username requests waiting for the recovery worker. The request
/// handler only inserts here, so its work and timing are the same whether or not the
/// identifier names an account (SECURITY.md E2); the worker decides and sends. A row holds what
/// the visitor typed only until the worker has handled it.
struct M0002RecoveryRequests;

impl MigrationName for M0002RecoveryRequests {
    fn name(&self) -> &str {
        "m0002_recovery_requests"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002RecoveryRequests {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("recovery_requests")
                .col(big_pk_auto("id"))
                .col(string("kind"))
                .col(text("payload"))
                .col(string("reference"))
                .col(string("ip"))
                .col(text("user_agent"))
                .col(big_integer_null("lease_until"))
                .col(big_integer("created_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(
            Table::drop()
                .table("recovery_requests")
                .if_exists()
                .to_owned(),
        )
        .await
    }
}

/// A contact change waits for its code: the new email or number rides on the challenge that
/// confirms it (SECURITY.md A5), and becomes a contact only when the code comes back.
struct M0003PendingContact;

impl MigrationName for M0003PendingContact {
    fn name(&self) -> &str {
        "m0003_pending_contact"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0003PendingContact {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("challenges")
                .add_column(text_null("pending_value"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("challenges")
                .drop_column("pending_value")
                .to_owned(),
        )
        .await
    }
}

/// A sign-in that just proved a temporary password vouches for it for a few minutes, so the
/// forced change that follows asks only for the new password (issue 11).
struct M0004SessionPasswordProof;

impl MigrationName for M0004SessionPasswordProof {
    fn name(&self) -> &str {
        "m0004_session_password_proof"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0004SessionPasswordProof {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("sessions")
                .add_column(big_integer_null("password_proved_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("sessions")
                .drop_column("password_proved_at")
                .to_owned(),
        )
        .await
    }
}

/// The language the clinic writes to a patient in (issue 13). On the patient, not the account:
/// a letter for a patient with no account yet is in their language too.
struct M0005PatientLanguage;

impl MigrationName for M0005PatientLanguage {
    fn name(&self) -> &str {
        "m0005_patient_language"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0005PatientLanguage {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("patients")
                .add_column(string_null("language"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("patients")
                .drop_column("language")
                .to_owned(),
        )
        .await
    }
}

/// Two-step verification (issue 12): authenticator apps, saved recovery codes, and how far a
/// session's sign-in has got. Sessions already open are signed in (`full`), as they were.
struct M0006TwoStep;

impl MigrationName for M0006TwoStep {
    fn name(&self) -> &str {
        "m0006_two_step"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0006TwoStep {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("second_factors")
                .col(big_pk_auto("id"))
                .col(big_integer("account_id"))
                .col(string("kind"))
                .col(string("name"))
                .col(text("secret"))
                .col(big_integer_null("last_step"))
                .col(big_integer_null("confirmed_at"))
                .col(big_integer("created_at"))
                .col(big_integer_null("last_used_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "second_factors",
            "idx_second_factors_account",
            &["account_id"],
        ))
        .await?;
        m.create_table(
            table("backup_codes")
                .col(big_pk_auto("id"))
                .col(big_integer("account_id"))
                .col(string_uniq("code_hmac"))
                .col(big_integer("created_at"))
                .col(big_integer_null("used_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "backup_codes",
            "idx_backup_codes_account",
            &["account_id"],
        ))
        .await?;
        m.alter_table(
            Table::alter()
                .table("sessions")
                .add_column(string("stage").default("full"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("sessions")
                .drop_column("stage")
                .to_owned(),
        )
        .await?;
        for t in ["backup_codes", "second_factors"] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

/// "Remember this device" (issue 12, SECURITY.md M7).
struct M0007RememberedDevices;

impl MigrationName for M0007RememberedDevices {
    fn name(&self) -> &str {
        "m0007_remembered_devices"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0007RememberedDevices {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("remembered_devices")
                .col(big_pk_auto("id"))
                .col(big_integer("account_id"))
                .col(string_uniq("token_hmac"))
                .col(big_integer("created_at"))
                .col(big_integer("expires_at"))
                .col(big_integer_null("revoked_at"))
                .col(string("device"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "remembered_devices",
            "idx_remembered_devices_account",
            &["account_id"],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(
            Table::drop()
                .table("remembered_devices")
                .if_exists()
                .to_owned(),
        )
        .await
    }
}

/// Passkeys (issue 12, SECURITY.md M1, M3): a passkey is a second factor whose credential id is
/// looked up when it signs in without a username, and a WebAuthn ceremony's state is kept
/// between its two requests (several instances share it).
struct M0008Passkeys;

impl MigrationName for M0008Passkeys {
    fn name(&self) -> &str {
        "m0008_passkeys"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0008Passkeys {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("second_factors")
                .add_column(string_null("credential_id"))
                .to_owned(),
        )
        .await?;
        // Unique: one authenticator's credential can belong to one account only (the WebAuthn
        // library does not check this itself).
        m.create_index(
            index(
                "second_factors",
                "idx_second_factors_credential",
                &["credential_id"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_table(
            table("webauthn_ceremonies")
                .col(big_pk_auto("id"))
                .col(string_uniq("handle_hash"))
                .col(string("purpose"))
                .col(big_integer_null("account_id"))
                .col(text("state"))
                .col(big_integer("created_at"))
                .col(big_integer("expires_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "webauthn_ceremonies",
            "idx_webauthn_ceremonies_expiry",
            &["expires_at"],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(
            Table::drop()
                .table("webauthn_ceremonies")
                .if_exists()
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("idx_second_factors_credential")
                .table("second_factors")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("second_factors")
                .drop_column("credential_id")
                .to_owned(),
        )
        .await
    }
}

/// "This wasn't me" (issue 12, SECURITY.md M8): one link per security notice, its token kept
/// as an HMAC; a used link is the patient's report, shown in the chart until handled.
struct M0009ReportLinks;

impl MigrationName for M0009ReportLinks {
    fn name(&self) -> &str {
        "m0009_report_links"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0009ReportLinks {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("report_links")
                .col(big_pk_auto("id"))
                .col(big_integer("account_id"))
                .col(string_uniq("token_hmac"))
                .col(big_integer("created_at"))
                .col(big_integer("expires_at"))
                .col(big_integer_null("used_at"))
                .col(big_integer_null("handled_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("report_links", "account_id")
                        .to("accounts", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "report_links",
            "idx_report_links_account",
            &["account_id", "used_at"],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("report_links").if_exists().to_owned())
            .await
    }
}

/// A code sent to a contact on file as a second step (issue 12, SECURITY.md M1): the method
/// names the contact its codes go to.
struct M0010SentCodes;

impl MigrationName for M0010SentCodes {
    fn name(&self) -> &str {
        "m0010_sent_codes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0010SentCodes {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("second_factors")
                .add_column(big_integer_null("contact_id"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("second_factors")
                .drop_column("contact_id")
                .to_owned(),
        )
        .await
    }
}

/// The audit chain is keyed (issue 14 item 4, SECURITY.md S7): `keyed` says the rows written
/// before the audit key existed were re-chained under it, once, by the instance that created
/// the key (no code path sets it back); `key_id` names that key (an HMAC of a fixed word
/// under it), so an instance started with another key refuses instead of writing rows no
/// check can join.
struct M0011KeyedAudit;

impl MigrationName for M0011KeyedAudit {
    fn name(&self) -> &str {
        "m0011_keyed_audit"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0011KeyedAudit {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("audit_head")
                .add_column(boolean("keyed").default(false))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("audit_head")
                .add_column(string("key_id").default(""))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in ["key_id", "keyed"] {
            m.alter_table(
                Table::alter()
                    .table("audit_head")
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

/// Limits over the last hour or day, not the calendar one (issue 14 item 2, SECURITY.md R6):
/// each counter keeps the window before its current one.
struct M0012SlidingLimits;

impl MigrationName for M0012SlidingLimits {
    fn name(&self) -> &str {
        "m0012_sliding_limits"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0012SlidingLimits {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("rate_limits")
                .add_column(integer("prev_count").default(0))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("rate_limits")
                .drop_column("prev_count")
                .to_owned(),
        )
        .await
    }
}

/// Codes bound to the browser that asked for them (issue 14 item 2, SECURITY.md R6): the
/// browser's flow tag, and the guesses made from anywhere else, counted apart so a stranger's
/// guessing cannot use up the guesses of the patient's own page.
struct M0013BoundCodes;

impl MigrationName for M0013BoundCodes {
    fn name(&self) -> &str {
        "m0013_bound_codes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0013BoundCodes {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("challenges")
                .add_column(string_null("flow_tag"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("challenges")
                .add_column(integer("stray_attempts").default(0))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in ["stray_attempts", "flow_tag"] {
            m.alter_table(
                Table::alter()
                    .table("challenges")
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

/// The recovery queue served fairly (issue 15 item 3): each request's place is how many its
/// address, or its identifier, had asked in the hour before it, so a newcomer goes ahead of the
/// backlog of an address that floods.
struct M0014FairQueue;

impl MigrationName for M0014FairQueue {
    fn name(&self) -> &str {
        "m0014_fair_queue"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0014FairQueue {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("recovery_requests")
                .add_column(big_integer("fair_rank").default(0))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "recovery_requests",
            "idx_recovery_requests_fair",
            &["fair_rank", "id"],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_recovery_requests_fair")
                .table("recovery_requests")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("recovery_requests")
                .drop_column("fair_rank")
                .to_owned(),
        )
        .await
    }
}
