//! sea-orm entities for the whole data model (ARCHITECTURE.md "Data that must exist").

pub mod account;
pub mod audit_head;
pub mod audit_log;
pub mod backup_code;
pub mod challenge;
pub mod contact;
pub mod outbox;
pub mod password_credential;
pub mod password_history;
pub mod patient;
pub mod rate_limit;
pub mod recovery_request;
pub mod remembered_device;
pub mod report_link;
pub mod second_factor;
pub mod security_question;
pub mod session;
pub mod webauthn_ceremony;
