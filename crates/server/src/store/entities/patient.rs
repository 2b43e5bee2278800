//! `patients` table. Demographics used for identity checks.

use sea_orm::entity::prelude::*;

use crate::store::vocab::vocabulary;

vocabulary! {
    /// The language the clinic writes, texts and calls the patient in. The store's own word
    /// for it (the store imports nothing above it); the domain maps it to the catalogues' `Lang`.
    pub enum Language {
        English = "en",
        Spanish = "es",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "patients")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub mrn: String,
    pub first_name: String,
    pub last_name: String,
    /// YYYY-MM-DD
    pub date_of_birth: String,
    pub zip: String,
    /// None: not chosen; messages follow the language of the page that asked.
    pub language: Option<Language>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
