//! Patients on file: added by hand in the console or imported from a clinic's list
//! (`carekey import-patients FILE.csv`). Both go through the same checks, and the MRN's unique
//! index makes a second run of the same file add nobody twice.

use carekey_shared::staff::NewPatient as Typed;
use sea_orm::{ActiveModelTrait, Set, SqlErr};
use serde_json::json;

use super::accounts::{NewContact, NewPatient, Owner, add_contact};
use super::signin::actor_for;
use super::{ClientMeta, DomainError, Services, dates, phone};
use crate::store::entities::audit_log::Action;
use crate::store::entities::{account, patient};

/// The fields of a typed-in or imported patient that are wrong, by name (`mrn`, `zip`, …), or
/// the record ready to store. The date of birth must be a real, past date; the phone a
/// person's number in the phone-number metadata, read in the clinic's region (`home`) unless
/// it carries its country code, and stored in E.164; US ZIP codes as 5 digits or ZIP+4.
pub fn check_new_patient(
    n: &Typed,
    today_ms: i64,
    home: phone::Region,
) -> Result<NewPatient, Vec<&'static str>> {
    let mut bad = vec![];
    let mrn = n.mrn.trim();
    if mrn.is_empty()
        || mrn.len() > 32
        || !mrn.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        bad.push("mrn");
    }
    let name_ok = |s: &str| !s.trim().is_empty() && s.trim().chars().count() <= 100;
    if !name_ok(&n.first_name) {
        bad.push("first_name");
    }
    if !name_ok(&n.last_name) {
        bad.push("last_name");
    }
    let dob = n.date_of_birth.trim();
    if dates::day_start_ms(dob).is_none_or(|d| d > today_ms) {
        bad.push("date_of_birth");
    }
    let zip = n.zip.trim();
    let zip_ok = (zip.len() == 5 && zip.chars().all(|c| c.is_ascii_digit()))
        || (zip.len() == 10
            && zip.as_bytes()[5] == b'-'
            && zip
                .chars()
                .enumerate()
                .all(|(i, c)| i == 5 || c.is_ascii_digit()));
    if !zip_ok {
        bad.push("zip");
    }
    let email = n.email.trim();
    if !email.is_empty() && !super::contacts::plausible_email(email) {
        bad.push("email");
    }
    let phone = match n.phone.trim() {
        "" => None,
        typed => {
            let parsed = phone::parse(typed, home);
            if parsed.is_none() {
                bad.push("phone");
            }
            parsed
        }
    };
    if !bad.is_empty() {
        return Err(bad);
    }
    Ok(NewPatient {
        mrn: mrn.to_owned(),
        first_name: n.first_name.trim().to_owned(),
        last_name: n.last_name.trim().to_owned(),
        date_of_birth: dob.to_owned(),
        zip: zip.to_owned(),
        email: (!email.is_empty()).then(|| email.to_owned()),
        // Where the number itself says mobile or landline (outside the US and Canada), that
        // decides, whatever the form or the import's `phone_type` said; elsewhere they stand.
        phone: phone.map(|p| {
            let texts = p.texts(n.phone_is_mobile);
            (p.e164, texts, true)
        }),
        language: n.language,
    })
}

/// A language cell as clinics' systems write it: a code (`en`, `es`, `es-US`) or a name in
/// English or Spanish, any case. Empty: not chosen. Anything else is refused rather than
/// guessed: a patient written to in the wrong language may miss a message.
pub fn import_language(cell: &str) -> Result<Option<carekey_shared::Lang>, UnknownLanguage> {
    use carekey_shared::Lang;
    let v = cell.trim().to_lowercase();
    if v.is_empty() {
        return Ok(None);
    }
    let by_name = match v.as_str() {
        "english" | "inglés" | "ingles" => Some(Lang::En),
        "spanish" | "español" | "espanol" => Some(Lang::Es),
        _ => None,
    };
    by_name
        .or_else(|| Lang::from_tag(&v))
        .map(Some)
        .ok_or(UnknownLanguage)
}

/// A language cell that names no language CareKey speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a language CareKey speaks")]
pub struct UnknownLanguage;

/// What became of one row of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    Imported,
    /// A patient with this MRN is already on file; nothing was changed.
    AlreadyOnFile,
    /// The fields that are wrong, or the columns missing.
    Refused(Vec<&'static str>),
}

/// Splits CSV text (RFC 4180: quoted fields, doubled quotes, CRLF or LF) into rows of cells.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = vec![];
    let mut row = vec![];
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    if !cell.is_empty() || !row.is_empty() {
        row.push(cell);
        rows.push(row);
    }
    rows.retain(|r| r.iter().any(|c| !c.trim().is_empty()));
    rows
}

/// The columns an import file must have (any order, header names as here).
pub const IMPORT_COLUMNS: [&str; 9] = [
    "mrn",
    "first_name",
    "last_name",
    "date_of_birth",
    "zip",
    "email",
    "phone",
    "phone_type",
    "language",
];

impl Services {
    /// Stores a checked patient and their contacts in one transaction, audited as `by`.
    pub async fn insert_patient(
        &self,
        p: NewPatient,
        by: Option<&account::Model>,
        meta: &ClientMeta,
    ) -> Result<patient::Model, DomainError> {
        let uow = self.begin(actor_for(by, meta)).await?;
        let (txn, now) = (uow.db(), uow.now);
        let row = patient::ActiveModel {
            mrn: Set(p.mrn),
            first_name: Set(p.first_name),
            last_name: Set(p.last_name),
            date_of_birth: Set(p.date_of_birth),
            zip: Set(p.zip),
            language: Set(p.language.map(super::messages::language_word)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await
        .map_err(|e| match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => DomainError::AlreadyExists("mrn".into()),
            _ => DomainError::Database(e),
        })?;
        if let Some(email) = &p.email {
            add_contact(txn, Owner::Patient(row.id), NewContact::Email(email), now).await?;
        }
        if let Some((phone, sms, voice)) = &p.phone {
            let phone = NewContact::Phone {
                number: phone,
                texts: *sms,
                calls: *voice,
            };
            add_contact(txn, Owner::Patient(row.id), phone, now).await?;
        }
        uow.audit(Action::PatientAdded, None, json!({ "patient": row.id }))
            .await?;
        uow.commit(self).await?;
        Ok(row)
    }

    /// `carekey import-patients`: one outcome per data row, in file order. A row is imported
    /// whole or not at all; a second run reports every row as already on file.
    pub async fn import_patients(
        &self,
        csv: &str,
        meta: &ClientMeta,
    ) -> Result<Vec<RowOutcome>, DomainError> {
        let rows = parse_csv(csv);
        let Some((header, data)) = rows.split_first() else {
            return Ok(vec![]);
        };
        let header: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
        let col = |name: &str| header.iter().position(|h| h == name);
        let missing: Vec<&'static str> = IMPORT_COLUMNS
            .iter()
            .copied()
            .filter(|c| {
                !matches!(*c, "email" | "phone" | "phone_type" | "language") && col(c).is_none()
            })
            .collect();
        if !missing.is_empty() {
            return Ok(data
                .iter()
                .map(|_| RowOutcome::Refused(missing.clone()))
                .collect());
        }
        let mut out = Vec::with_capacity(data.len());
        for r in data {
            let cell = |name: &str| {
                col(name)
                    .and_then(|i| r.get(i))
                    .map(|s| s.trim().to_owned())
                    .unwrap_or_default()
            };
            let phone_type = cell("phone_type").to_lowercase();
            let Ok(language) = import_language(&cell("language")) else {
                out.push(RowOutcome::Refused(vec!["language"]));
                continue;
            };
            let typed = Typed {
                mrn: cell("mrn"),
                first_name: cell("first_name"),
                last_name: cell("last_name"),
                date_of_birth: cell("date_of_birth"),
                zip: cell("zip"),
                email: cell("email"),
                phone: cell("phone"),
                phone_is_mobile: !matches!(phone_type.as_str(), "landline" | "home" | "voice"),
                language,
            };
            let outcome = match check_new_patient(&typed, self.now(), self.cfg.clinic_region) {
                Err(bad) => RowOutcome::Refused(bad),
                Ok(p) => match self.insert_patient(p, None, meta).await {
                    Ok(_) => RowOutcome::Imported,
                    Err(DomainError::AlreadyExists(_)) => RowOutcome::AlreadyOnFile,
                    Err(e) => return Err(e),
                },
            };
            out.push(outcome);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: i64 = 1_795_356_309_120; // 2026-11-22
    const US: phone::Region = phone::Region::US;

    fn typed() -> Typed {
        Typed {
            mrn: "200001".into(),
            first_name: "Olivia".into(),
            last_name: "Reyes".into(),
            date_of_birth: "1961-05-04".into(),
            zip: "97201".into(),
            email: "olivia@example.com".into(),
            phone: "(503) 555-0170".into(),
            phone_is_mobile: true,
            language: None,
        }
    }

    #[test]
    fn an_import_language_is_a_code_or_a_name_and_nothing_else() {
        use carekey_shared::Lang;
        for (cell, want) in [
            ("", Ok(None)),
            ("  ", Ok(None)),
            ("es", Ok(Some(Lang::Es))),
            ("ES-us", Ok(Some(Lang::Es))),
            ("Español", Ok(Some(Lang::Es))),
            ("spanish", Ok(Some(Lang::Es))),
            ("en_US", Ok(Some(Lang::En))),
            ("English", Ok(Some(Lang::En))),
            ("vi", Err(UnknownLanguage)),
            ("espanglish", Err(UnknownLanguage)),
        ] {
            assert_eq!(import_language(cell), want, "{cell:?}");
        }
    }

    #[test]
    fn a_good_patient_is_ready_to_store() {
        let p = check_new_patient(&typed(), TODAY, US).unwrap();
        assert_eq!(p.phone, Some(("+15035550170".into(), true, true)));
        assert_eq!(p.email.as_deref(), Some("olivia@example.com"));
    }

    #[test]
    fn the_phone_is_read_in_the_clinics_region_and_its_kind_kept_where_the_plan_knows() {
        let gb = phone::Region::parse("GB").unwrap();
        let with = |number: &str, mobile: bool, home| {
            let n = Typed {
                phone: number.into(),
                phone_is_mobile: mobile,
                ..typed()
            };
            check_new_patient(&n, TODAY, home).map(|p| p.phone)
        };
        // US numbers do not say which kind they are: the form's choice stands.
        assert_eq!(
            with("(503) 555-0170", false, US),
            Ok(Some(("+15035550170".into(), false, true)))
        );
        // A UK clinic types UK numbers the UK way; the plan knows mobiles from landlines.
        assert_eq!(
            with("07400 123456", false, gb),
            Ok(Some(("+447400123456".into(), true, true))),
            "a mobile marked landline still takes texts"
        );
        assert_eq!(
            with("020 7946 0958", true, gb),
            Ok(Some(("+442079460958".into(), false, true))),
            "a landline marked mobile gets calls"
        );
        // The same national digits mean nothing in a US clinic, and a toll-free number is
        // nobody's own phone.
        assert_eq!(with("07400 123456", true, US), Err(vec!["phone"]));
        assert_eq!(with("1-800-555-0123", true, US), Err(vec!["phone"]));
    }

    #[test]
    fn each_bad_field_is_named() {
        let bad = Typed {
            mrn: "20 01".into(),
            first_name: " ".into(),
            last_name: "".into(),
            date_of_birth: "2030-01-01".into(),
            zip: "9720".into(),
            email: "olivia(at)example.com".into(),
            phone: "12".into(),
            phone_is_mobile: true,
            language: None,
        };
        assert_eq!(
            check_new_patient(&bad, TODAY, US).unwrap_err(),
            [
                "mrn",
                "first_name",
                "last_name",
                "date_of_birth",
                "zip",
                "email",
                "phone"
            ]
        );
        let mut zip4 = typed();
        zip4.zip = "97201-1234".into();
        zip4.email = String::new();
        zip4.phone = String::new();
        let p = check_new_patient(&zip4, TODAY, US).unwrap();
        assert_eq!((p.email, p.phone), (None, None));
    }

    #[test]
    fn csv_quotes_commas_and_line_ends() {
        let rows = parse_csv("\u{feff}a,b,c\r\n\"Reyes, Jr.\",\"say \"\"hi\"\"\",\n\n1,2,3");
        assert_eq!(
            rows,
            vec![
                vec!["a", "b", "c"],
                vec!["Reyes, Jr.", "say \"hi\"", ""],
                vec!["1", "2", "3"],
            ]
        );
    }
}
