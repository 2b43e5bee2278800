//! The language on file (issue 13): the patient chooses it in Settings, staff in the chart, a
//! clinic's import sets it. Emails, texts, calls and letters follow it (`messages::language_of`).

use carekey_shared::Lang;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::caller::Patient;
use super::messages::{language_on_file, language_word};
use super::{DomainError, Services};
use crate::store::entities::audit_log::Action;
use crate::store::entities::patient;

impl Services {
    pub async fn my_language(&self, who: &Patient) -> Result<Option<Lang>, DomainError> {
        language_on_file(&self.db, who.caller().account()).await
    }

    /// Sets the signed-in patient's language on file; answers it as it now stands.
    pub async fn set_my_language(
        &self,
        who: &Patient,
        lang: Lang,
    ) -> Result<Option<Lang>, DomainError> {
        let caller = who.caller();
        let acct = caller.account();
        let pid = acct.patient_id.ok_or(DomainError::Forbidden)?;
        let mut uow = self.begin(caller.actor()).await?;
        self.set_language(&mut uow, pid, lang).await?;
        uow.audit(
            Action::LanguageChanged,
            Some(acct.id),
            json!({ "language": language_word(lang).as_str(), "by": "patient" }),
        )
        .await?;
        uow.commit(self).await?;
        Ok(Some(lang))
    }

    /// Writes a patient's language in the caller's unit of work.
    pub(crate) async fn set_language(
        &self,
        uow: &mut super::uow::Uow,
        patient_id: i64,
        lang: Lang,
    ) -> Result<(), DomainError> {
        let done = patient::Entity::update_many()
            .col_expr(
                patient::Column::Language,
                Expr::value(Some(language_word(lang))),
            )
            .col_expr(patient::Column::UpdatedAt, Expr::value(uow.now))
            .filter(patient::Column::Id.eq(patient_id))
            .exec(uow.db())
            .await?;
        if done.rows_affected != 1 {
            return Err(DomainError::NotFound("patient".into()));
        }
        Ok(())
    }
}
