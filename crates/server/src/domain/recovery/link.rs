//! Forgot password, step 2 by link: a preview that changes nothing and a "Continue" that uses
//! the link (SECURITY.md R7).

use carekey_shared::{LinkPreview, ResetGrant};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::domain::challenges::{self, State};
use crate::domain::{ClientMeta, DomainError, Services};
use crate::store::entities::{account, challenge};

use super::{not_accepted, problem};

impl Services {
    /// A live link's row and account, or the reason it cannot be used.
    pub(crate) async fn link_row(
        &self,
        token: &str,
        meta: &ClientMeta,
        now: i64,
    ) -> Result<(account::Model, challenge::Model), DomainError> {
        self.check_fields(&[token])?;
        if self.too_many_guesses_from(meta, now).await? {
            return Err(not_accepted());
        }
        let row = challenge::Entity::find()
            .filter(
                challenge::Column::SecretHmac.eq(challenges::token_tag(&self.key, "link", token)),
            )
            .filter(challenge::Column::Purpose.eq(challenges::Purpose::Reset))
            .filter(challenge::Column::Channel.eq("email_link"))
            .one(&self.db)
            .await?
            .ok_or_else(not_accepted)?;
        let a = account::Entity::find_by_id(row.account_id)
            .one(&self.db)
            .await?
            .filter(|a| a.status != account::Status::Disabled)
            .ok_or_else(not_accepted)?;
        // No pause for guessed codes (R6) stops a link: its 256-bit token cannot be guessed,
        // and it went to the person's own inbox, so a stranger's wrong codes must not keep
        // them from using it.
        match challenges::state(&row, now) {
            State::Active => Ok((a, row)),
            other => Err(DomainError::CodeRejected(problem(other))),
        }
    }

    /// What a link will do, without using it (SECURITY.md R7).
    pub async fn preview_reset_link(
        &self,
        token: &str,
        meta: &ClientMeta,
    ) -> Result<LinkPreview, DomainError> {
        let now = self.now();
        let (_, row) = self.link_row(token, meta, now).await?;
        Ok(LinkPreview {
            masked_contact: self.masked_contact(row.contact_id).await?,
            expires_in_secs: u64::try_from((row.expires_at - now) / 1000).unwrap_or(0),
        })
    }

    /// "Continue" on a link's page: uses the link and issues a grant.
    pub async fn redeem_reset_link(
        &self,
        token: &str,
        meta: &ClientMeta,
    ) -> Result<ResetGrant, DomainError> {
        let now = self.now();
        let (a, row) = self.link_row(token, meta, now).await?;
        self.grant_for(&a, &row, "link", meta, now).await
    }
}
