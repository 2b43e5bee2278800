//! The words the store keeps in its text columns (account kinds and statuses, contact kinds,
//! challenge purposes, outbox channels, kinds and statuses, audit actions, recovery request
//! kinds), as Rust enums.
//!
//! Each word is written once, in the `vocabulary!` call beside its entity; everything above the
//! store matches and filters on the enum. The columns stay the TEXT/VARCHAR they always were
//! (`db_type = "String"`, not a database enum type), so existing databases need no migration
//! and the audit chain, which hashes the stored word, verifies as before.

/// Declares a string-backed `DeriveActiveEnum` with `as_str` and `Display`.
///
/// `as_str` is the same word sea-orm stores, without the `String` that `ActiveEnum::to_value`
/// allocates; it is what audit details and log lines print, so they match the column.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $word:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash,
            sea_orm::EnumIter, sea_orm::DeriveActiveEnum,
        )]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        $vis enum $name {
            $( $(#[$vmeta])* #[sea_orm(string_value = $word)] $variant, )+
        }

        impl $name {
            /// The word stored in the column.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $word, )+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// The stored word, so audit details written with `json!` read as they always did.
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        /// The stored word back (outbox payloads name their channel with it).
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let word = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                match word.as_ref() {
                    $( $word => Ok(Self::$variant), )+
                    other => Err(<D::Error as serde::de::Error>::unknown_variant(
                        other,
                        &[$( $word ),+],
                    )),
                }
            }
        }
    };
}

pub(crate) use vocabulary;

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use sea_orm::{ActiveEnum, Iterable};

    use crate::store::entities::{
        account, audit_log, challenge, contact, outbox, patient, recovery_request,
    };

    /// Every word is distinct within its vocabulary and reads back as the variant it came from,
    /// through sea-orm (the column) and through serde (payloads and audit details).
    fn round_trips<E>()
    where
        E: ActiveEnum<Value = String>
            + Iterable
            + Copy
            + PartialEq
            + std::fmt::Debug
            + std::fmt::Display
            + serde::Serialize
            + serde::de::DeserializeOwned,
    {
        let mut seen = HashSet::new();
        for v in E::iter() {
            let word = v.to_value();
            assert!(seen.insert(word.clone()), "{word} twice");
            assert_eq!(v.to_string(), word);
            assert_eq!(E::try_from_value(&word).ok(), Some(v));
            let json = serde_json::to_string(&v).expect("serialises");
            assert_eq!(json, format!("\"{word}\""));
            assert_eq!(serde_json::from_str::<E>(&json).ok(), Some(v));
        }
        assert!(E::try_from_value(&"no_such_word".to_owned()).is_err());
        assert!(serde_json::from_str::<E>("\"no_such_word\"").is_err());
    }

    #[test]
    fn every_vocabulary_round_trips() {
        round_trips::<account::Kind>();
        round_trips::<account::Status>();
        round_trips::<contact::Kind>();
        round_trips::<challenge::Purpose>();
        round_trips::<outbox::Channel>();
        round_trips::<outbox::Kind>();
        round_trips::<outbox::Status>();
        round_trips::<audit_log::Action>();
        round_trips::<recovery_request::Kind>();
        round_trips::<patient::Language>();
    }

    #[test]
    fn stored_words_are_the_ones_existing_databases_hold() {
        // Spot checks against words already in clinics' databases and in the audit chain's
        // hashes: renaming a variant's word would orphan those rows.
        assert_eq!(account::Status::Locked.as_str(), "locked");
        assert_eq!(challenge::Purpose::VerifyContact.as_str(), "verify_contact");
        assert_eq!(outbox::Status::Cancelled.as_str(), "cancelled");
        assert_eq!(
            audit_log::Action::UsernameChangedByStaff.as_str(),
            "username_changed_by_staff"
        );
    }
}
