//! Demonstration data for development and the browser tests. Idempotent: running it twice adds
//! nobody twice. Never run against a clinic's real database (the CLI refuses unless dev_mode).

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::domain::accounts::{NewAccount, NewPatient};
use crate::domain::{ClientMeta, DomainError, Services};
use crate::store::entities::account;

pub struct DemoAccount {
    pub username: &'static str,
    pub password: &'static str,
    pub kind: account::Kind,
    pub note: &'static str,
}

pub const ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        username: "maria",
        password: "sunflower-teapot-harbor",
        kind: account::Kind::Patient,
        note: "email and mobile on file",
    },
    DemoAccount {
        username: "jchen",
        password: "granite-maple-lantern",
        kind: account::Kind::Patient,
        note: "email only",
    },
    DemoAccount {
        username: "sam",
        password: "quiet-orchard-bicycle",
        kind: account::Kind::Patient,
        note: "landline (voice) only",
    },
    DemoAccount {
        username: "ana",
        password: "welcome-temporary-2026",
        kind: account::Kind::Patient,
        note: "must change password at sign-in",
    },
    DemoAccount {
        username: "leo",
        password: "welcome-temporary-2026",
        kind: account::Kind::Patient,
        note: "must change password at sign-in",
    },
    DemoAccount {
        username: "rosa",
        password: "copper-kettle-meadow-song",
        kind: account::Kind::Patient,
        note: "email and mobile on file (recovery demos)",
    },
    DemoAccount {
        username: "omar",
        password: "saffron-harbor-window-kite",
        kind: account::Kind::Patient,
        note: "email and mobile on file (recovery demos)",
    },
    DemoAccount {
        username: "grace",
        password: "pebble-lantern-orchard-tide",
        kind: account::Kind::Patient,
        note: "landline (voice) only (recovery demos)",
    },
    DemoAccount {
        username: "walt",
        password: "juniper-anchor-velvet-moss",
        kind: account::Kind::Patient,
        note: "landline (voice) only (recovery demos)",
    },
    DemoAccount {
        username: "hana",
        password: "lilac-window-paper-boat",
        kind: account::Kind::Patient,
        note: "email and mobile on file (settings demos)",
    },
    DemoAccount {
        username: "ivan",
        password: "granite-owl-summer-road",
        kind: account::Kind::Patient,
        note: "email only (settings demos)",
    },
    DemoAccount {
        username: "nora",
        password: "harbor-violin-pepper-cloud",
        kind: account::Kind::Patient,
        note: "email only (email-change demos)",
    },
    DemoAccount {
        username: "paul",
        password: "quartz-meadow-kettle-fern",
        kind: account::Kind::Patient,
        note: "email only (email-change demos)",
    },
    DemoAccount {
        username: "tom",
        password: "walnut-harbor-lantern-sky",
        kind: account::Kind::Patient,
        note: "email only (staff console demos: chart reset)",
    },
    DemoAccount {
        username: "uma",
        password: "cobalt-meadow-pepper-drum",
        kind: account::Kind::Patient,
        note: "email only (staff console demos: chart reset)",
    },
    DemoAccount {
        username: "vic",
        password: "amber-violin-orchard-rain",
        kind: account::Kind::Patient,
        note: "email only (staff console demos: unlock)",
    },
    DemoAccount {
        username: "wes",
        password: "thistle-copper-window-bay",
        kind: account::Kind::Patient,
        note: "email only (staff console demos: unlock)",
    },
    DemoAccount {
        username: "kai",
        password: "meadow-lantern-copper-finch",
        kind: account::Kind::Patient,
        note: "email only (sign-in demos: paused)",
    },
    DemoAccount {
        username: "lin",
        password: "harbor-thistle-violet-drum",
        kind: account::Kind::Patient,
        note: "email only (sign-in demos: paused)",
    },
    DemoAccount {
        username: "yara",
        password: "meadow-lantern-copper-fig",
        kind: account::Kind::Patient,
        note: "email and mobile (staff console demos: recent messages)",
    },
    DemoAccount {
        username: "zeke",
        password: "harbor-thistle-pepper-oak",
        kind: account::Kind::Patient,
        note: "email and mobile (staff console demos: recent messages)",
    },
    DemoAccount {
        username: "lucia",
        password: "girasol-tetera-puerto-luna",
        kind: account::Kind::Patient,
        note: "email and mobile, Spanish on file",
    },
    DemoAccount {
        username: "nico",
        password: "lantern-quarry-maple-drum",
        kind: account::Kind::Patient,
        note: "email and mobile (language demos)",
    },
    DemoAccount {
        username: "pilar",
        password: "orchid-harbor-velvet-kite",
        kind: account::Kind::Patient,
        note: "email and mobile (language demos)",
    },
    DemoAccount {
        username: "elena",
        password: "copper-meadow-lantern-fig",
        kind: account::Kind::Patient,
        note: "email and mobile, no language on file (Spanish page demos)",
    },
    DemoAccount {
        username: "tomas",
        password: "willow-granite-ember-sail",
        kind: account::Kind::Patient,
        note: "email and mobile, no language on file (Spanish page demos)",
    },
    DemoAccount {
        username: "iris",
        password: "cedar-lantern-harbor-plum",
        kind: account::Kind::Patient,
        note: "email and mobile, authenticator app and recovery codes (two-step demos)",
    },
    DemoAccount {
        username: "jade",
        password: "saffron-kettle-meadow-pine",
        kind: account::Kind::Patient,
        note: "email only (two-step demos: adding an app)",
    },
    DemoAccount {
        username: "ezra",
        password: "violet-harbor-anchor-reed",
        kind: account::Kind::Patient,
        note: "email only (two-step demos: adding an app)",
    },
    DemoAccount {
        username: "quinn",
        password: "maple-violin-orchard-tide",
        kind: account::Kind::Patient,
        note: "email only (\"this wasn't me\" demos)",
    },
    DemoAccount {
        username: "reza",
        password: "copper-lagoon-thistle-bell",
        kind: account::Kind::Patient,
        note: "email only (\"this wasn't me\" demos)",
    },
    DemoAccount {
        username: "sol",
        password: "harbor-cobalt-willow-finch",
        kind: account::Kind::Patient,
        note: "email and mobile (two-step demos: codes by text)",
    },
    DemoAccount {
        username: "tess",
        password: "quarry-lilac-ember-drum",
        kind: account::Kind::Patient,
        note: "email and mobile (two-step demos: codes by text)",
    },
    DemoAccount {
        username: "frontdesk",
        password: "front-desk-coffee-morning",
        kind: account::Kind::Staff,
        note: "front-desk staff",
    },
    DemoAccount {
        username: "nurse.amy",
        password: "lagoon-pepper-violet-hill",
        kind: account::Kind::Staff,
        note: "front desk (Admin > Users demos)",
    },
    DemoAccount {
        username: "nurse.ben",
        password: "granite-tulip-harbor-moon",
        kind: account::Kind::Staff,
        note: "front desk (Admin > Users demos)",
    },
    DemoAccount {
        username: "admin",
        password: "violet-canyon-river-stone",
        kind: account::Kind::Admin,
        note: "administrator",
    },
];

struct Person {
    username: &'static str,
    mrn: &'static str,
    first: &'static str,
    last: &'static str,
    dob: &'static str,
    zip: &'static str,
    email: Option<&'static str>,
    phone: Option<(&'static str, bool, bool)>,
}

/// The demo's Spanish-speaking patient (issue 13): the language on file is Spanish.
const SPANISH: &[&str] = &["lucia"];

const PATIENTS: &[Person] = &[
    Person {
        username: "maria",
        mrn: "100001",
        first: "Maria",
        last: "Lopez",
        dob: "1958-03-14",
        zip: "97205",
        email: Some("maria.lopez@example.com"),
        phone: Some(("+15035550101", true, true)),
    },
    Person {
        username: "jchen",
        mrn: "100002",
        first: "James",
        last: "Chen",
        dob: "1990-11-02",
        zip: "97214",
        email: Some("james.chen@example.com"),
        phone: None,
    },
    Person {
        username: "sam",
        mrn: "100003",
        first: "Sam",
        last: "Taylor",
        dob: "1947-07-30",
        zip: "97202",
        email: None,
        phone: Some(("+15035550177", false, true)),
    },
    Person {
        username: "leo",
        mrn: "100005",
        first: "Leo",
        last: "Park",
        dob: "1972-09-09",
        zip: "97211",
        email: Some("leo.park@example.com"),
        phone: None,
    },
    Person {
        username: "ana",
        mrn: "100004",
        first: "Ana",
        last: "Silva",
        dob: "1985-05-21",
        zip: "97217",
        email: Some("ana.silva@example.com"),
        phone: Some(("+15035550142", true, true)),
    },
    Person {
        username: "rosa",
        mrn: "100006",
        first: "Rosa",
        last: "Nguyen",
        dob: "1963-12-01",
        zip: "97206",
        email: Some("rosa.nguyen@example.com"),
        phone: Some(("+15035550111", true, true)),
    },
    Person {
        username: "omar",
        mrn: "100007",
        first: "Omar",
        last: "Haddad",
        dob: "1979-04-18",
        zip: "97209",
        email: Some("omar.haddad@example.com"),
        phone: Some(("+15035550122", true, true)),
    },
    Person {
        username: "grace",
        mrn: "100008",
        first: "Grace",
        last: "Kim",
        dob: "1941-02-25",
        zip: "97219",
        email: None,
        phone: Some(("+15035550133", false, true)),
    },
    Person {
        username: "walt",
        mrn: "100009",
        first: "Walter",
        last: "Brown",
        dob: "1938-08-08",
        zip: "97203",
        email: None,
        phone: Some(("+15035550144", false, true)),
    },
    Person {
        username: "hana",
        mrn: "100010",
        first: "Hana",
        last: "Sato",
        dob: "1988-06-30",
        zip: "97210",
        email: Some("hana.sato@example.com"),
        phone: Some(("+15035550155", true, true)),
    },
    Person {
        username: "ivan",
        mrn: "100011",
        first: "Ivan",
        last: "Petrov",
        dob: "1969-10-12",
        zip: "97212",
        email: Some("ivan.petrov@example.com"),
        phone: None,
    },
    Person {
        username: "nora",
        mrn: "100012",
        first: "Nora",
        last: "Quinn",
        dob: "1975-01-09",
        zip: "97211",
        email: Some("nora.quinn@example.com"),
        phone: None,
    },
    Person {
        username: "paul",
        mrn: "100013",
        first: "Paul",
        last: "Adams",
        dob: "1983-12-01",
        zip: "97206",
        email: Some("paul.adams@example.com"),
        phone: None,
    },
    Person {
        username: "tom",
        mrn: "100014",
        first: "Tom",
        last: "Baker",
        dob: "1966-04-21",
        zip: "97215",
        email: Some("tom.baker@example.com"),
        phone: None,
    },
    Person {
        username: "uma",
        mrn: "100015",
        first: "Uma",
        last: "Patel",
        dob: "1992-09-03",
        zip: "97217",
        email: Some("uma.patel@example.com"),
        phone: None,
    },
    Person {
        username: "vic",
        mrn: "100016",
        first: "Victor",
        last: "Hale",
        dob: "1955-01-30",
        zip: "97218",
        email: Some("victor.hale@example.com"),
        phone: None,
    },
    Person {
        username: "wes",
        mrn: "100017",
        first: "Wesley",
        last: "Stone",
        dob: "1949-06-12",
        zip: "97220",
        email: Some("wesley.stone@example.com"),
        phone: None,
    },
    Person {
        username: "kai",
        mrn: "100040",
        first: "Kai",
        last: "Moreno",
        dob: "1983-08-08",
        zip: "97203",
        email: Some("kai.moreno@example.com"),
        phone: None,
    },
    Person {
        username: "lin",
        mrn: "100041",
        first: "Lin",
        last: "Osei",
        dob: "1977-10-19",
        zip: "97204",
        email: Some("lin.osei@example.com"),
        phone: None,
    },
    Person {
        username: "yara",
        mrn: "100811",
        first: "Yara",
        last: "Lindqvist",
        dob: "1981-02-17",
        zip: "97221",
        email: Some("yara.lindqvist@example.com"),
        phone: Some(("+15035550181", true, true)),
    },
    Person {
        username: "zeke",
        mrn: "100812",
        first: "Zeke",
        last: "Okafor",
        dob: "1959-11-05",
        zip: "97222",
        email: Some("zeke.okafor@example.com"),
        phone: Some(("+15035550182", true, true)),
    },
    Person {
        username: "lucia",
        mrn: "100050",
        first: "Lucía",
        last: "Ramírez",
        dob: "1968-06-24",
        zip: "97206",
        email: Some("lucia.ramirez@example.com"),
        phone: Some(("+15035550150", true, true)),
    },
    Person {
        username: "nico",
        mrn: "100051",
        first: "Nico",
        last: "Alvarez",
        dob: "1986-03-03",
        zip: "97211",
        email: Some("nico.alvarez@example.com"),
        phone: Some(("+15035550151", true, true)),
    },
    Person {
        username: "pilar",
        mrn: "100052",
        first: "Pilar",
        last: "Mendez",
        dob: "1974-09-14",
        zip: "97212",
        email: Some("pilar.mendez@example.com"),
        phone: Some(("+15035550152", true, true)),
    },
    Person {
        username: "elena",
        mrn: "100053",
        first: "Elena",
        last: "Castro",
        dob: "1981-02-11",
        zip: "97213",
        email: Some("elena.castro@example.com"),
        phone: Some(("+15035550153", true, true)),
    },
    Person {
        username: "tomas",
        mrn: "100054",
        first: "Tomás",
        last: "Herrera",
        dob: "1979-12-30",
        zip: "97214",
        email: Some("tomas.herrera@example.com"),
        phone: Some(("+15035550154", true, true)),
    },
    Person {
        username: "iris",
        mrn: "100031",
        first: "Iris",
        last: "Navarro",
        dob: "1969-02-11",
        zip: "97209",
        email: Some("iris.navarro@example.com"),
        phone: Some(("+15035550155", true, true)),
    },
    Person {
        username: "jade",
        mrn: "100032",
        first: "Jade",
        last: "Whitaker",
        dob: "1983-06-27",
        zip: "97217",
        email: Some("jade.whitaker@example.com"),
        phone: None,
    },
    Person {
        username: "ezra",
        mrn: "100033",
        first: "Ezra",
        last: "Lindgren",
        dob: "1951-12-03",
        zip: "97219",
        email: Some("ezra.lindgren@example.com"),
        phone: None,
    },
    Person {
        username: "quinn",
        mrn: "100034",
        first: "Quinn",
        last: "Abernathy",
        dob: "1972-05-14",
        zip: "97223",
        email: Some("quinn.abernathy@example.com"),
        phone: None,
    },
    Person {
        username: "reza",
        mrn: "100035",
        first: "Reza",
        last: "Karimi",
        dob: "1964-09-21",
        zip: "97224",
        email: Some("reza.karimi@example.com"),
        phone: None,
    },
    Person {
        username: "sol",
        mrn: "100036",
        first: "Sol",
        last: "Mendoza",
        dob: "1979-12-02",
        zip: "97225",
        email: Some("sol.mendoza@example.com"),
        phone: Some(("+15035550191", true, true)),
    },
    Person {
        username: "tess",
        mrn: "100037",
        first: "Tess",
        last: "Okonkwo",
        dob: "1957-07-19",
        zip: "97227",
        email: Some("tess.okonkwo@example.com"),
        phone: Some(("+15035550192", true, true)),
    },
];

/// The demo's two-step patient: an authenticator app with a published key (add it to a phone
/// to try the second step) and ten published recovery codes. Demo data only: a real key is
/// random and shown once.
pub const TWO_STEP_USERNAME: &str = "iris";
pub const TWO_STEP_KEY: &[u8; 20] = b"carekey-demo-iris-01";

/// The demo patient's recovery codes, easy to type from the terminal.
pub fn two_step_codes() -> Vec<String> {
    (0..10).map(|n| format!("dem0-c0de-0000-000{n}")).collect()
}

/// The demo key as an authenticator app takes it.
pub fn two_step_key() -> String {
    crate::domain::twostep::totp::display_key(TWO_STEP_KEY)
}

/// Creates whatever demo records are missing; returns how many accounts were added.
pub async fn load(s: &Services) -> Result<usize, DomainError> {
    let meta = ClientMeta {
        ip: "127.0.0.1".into(),
        user_agent: "carekey demo-data".into(),
        flow: None,
    };
    let mut added = 0;
    for d in ACCOUNTS {
        let exists = account::Entity::find()
            .filter(account::Column::UsernameLower.eq(d.username))
            .count(&s.db)
            .await?
            > 0;
        if exists {
            continue;
        }
        let (patient_id, display_name, email) =
            match PATIENTS.iter().find(|p| p.username == d.username) {
                Some(p) => {
                    let row = s
                        .create_patient(NewPatient {
                            mrn: p.mrn.into(),
                            first_name: p.first.into(),
                            last_name: p.last.into(),
                            date_of_birth: p.dob.into(),
                            zip: p.zip.into(),
                            email: p.email.map(Into::into),
                            phone: p.phone.map(|(n, sms, voice)| (n.into(), sms, voice)),
                            language: SPANISH
                                .contains(&p.username)
                                .then_some(carekey_shared::Lang::Es),
                        })
                        .await?;
                    (Some(row.id), p.first.to_owned(), None)
                }
                None => (
                    None,
                    d.username.to_owned(),
                    Some(format!("{}@clinic.example.com", d.username)),
                ),
            };
        let created = s
            .create_account(
                NewAccount {
                    kind: d.kind,
                    username: d.username.into(),
                    display_name,
                    patient_id,
                    email,
                    must_change_password: d.note.starts_with("must change"),
                },
                d.password,
                None,
                &meta,
            )
            .await?;
        if d.username == TWO_STEP_USERNAME {
            s.add_demo_two_step(created.id, TWO_STEP_KEY, &two_step_codes(), &meta)
                .await?;
        }
        added += 1;
    }
    Ok(added)
}
