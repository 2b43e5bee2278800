//! Configuration from `carekey.toml` plus `CAREKEY_*` environment variables (environment wins),
//! validated at start-up. A bad value stops the server with one line naming the key, the value
//! and what is allowed, so a clinic's IT admin can fix it without reading code.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use carekey_shared::IdentifierMode;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration error: {key} = {value:?} ({source_name}) is not allowed: {allowed}")]
    Invalid {
        key: String,
        value: String,
        source_name: String,
        allowed: String,
    },
    #[error("configuration error: unknown key {key:?} in {file}; known keys: {known}")]
    UnknownKey {
        key: String,
        file: String,
        known: String,
    },
    #[error("configuration error: cannot read {file}: {reason}")]
    File { file: String, reason: String },
    /// One of the clinic's own language-help lines is unusable; `number` counts from 1, in the
    /// order the lines are written.
    #[error(
        "configuration error: clinic.language_help line {number} ({source_name}) is not allowed: {reason}"
    )]
    LanguageHelp {
        number: usize,
        source_name: String,
        reason: String,
    },
}

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    /// Origin used in every link and for the CSRF origin check; never taken from Host.
    pub public_url: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// The browser apps from a folder instead of the ones built into the binary (empty).
    pub dist_dir: PathBuf,
    /// HTTPS on `bind` without a proxy (`tls.*`); None: plain HTTP, TLS ended in front.
    pub tls: Option<TlsConfig>,
    pub dev_mode: bool,
    pub clinic_name: String,
    /// The clinic's name in texts: `clinic.sms_name`, or `clinic.name` when that one fits
    /// (at most 40 GSM-7 characters, so every text stays one segment).
    pub clinic_sms_name: String,
    pub clinic_phone: String,
    pub clinic_address: String,
    /// The clinic's region (`clinic.region`, ISO 3166): phone numbers typed without a country
    /// code are read as this region's, and texts and calls go to its numbers unless
    /// `twilio.allowed_countries` says otherwise.
    pub clinic_region: crate::domain::phone::Region,
    /// The clinic's own language-help lines for languages other than English and Spanish
    /// (whose lines come from the catalogues), shown after those two.
    pub clinic_language_help: Vec<carekey_shared::Tagline>,
    pub session_idle: Duration,
    pub session_absolute: Duration,
    pub session_warning: Duration,
    pub lockout: LockoutConfig,
    /// Two-step verification policy (`mfa.patients`, `mfa.staff`; SECURITY.md M2).
    pub mfa: MfaConfig,
    pub password_min_length: usize,
    /// Optional clinic rule: letters, digits and symbols (SECURITY.md P3; off by default).
    pub password_require_mix: bool,
    /// How many passwords may not be used again, the current one included (`password.history`,
    /// 0–24; SECURITY.md P5). Each costs one argon2 verification whenever a password is set.
    pub password_history: u32,
    /// The clinic's own proxies (`http.trusted_proxies`): a request from one of them has its
    /// client address read from `X-Forwarded-For`, right to left, up to the first address
    /// that is not one of them. Empty: the peer address is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The server key for HMACs of codes and links: from `secret_key_file`, created on first
    /// start if missing. Several instances must share the same file.
    pub secret_key_file: PathBuf,
    /// The key the audit trail is chained under (`audit_key_file`, SECURITY.md S7): created
    /// on first start if missing, apart from the server key; shared by every instance, and
    /// needed by `carekey audit verify`.
    pub audit_key_file: PathBuf,
    pub recovery: RecoveryConfig,
    pub smtp: Option<SmtpConfig>,
    pub twilio: Option<TwilioConfig>,
    /// Attempts per message before it is marked failed.
    pub delivery_max_attempts: u32,
    /// How long a claimed outbox message is one instance's before another may take it over;
    /// renewed while its send is in flight (SECURITY.md F6).
    pub delivery_lease: Duration,
    /// Where `/metrics` is served; None: not served. Never the portal's own address (see
    /// `metrics_bind`).
    pub metrics_bind: Option<SocketAddr>,
    pub log_format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One readable line per event (the default, for a person at a terminal).
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// The certificate chain and key for HTTPS, as PEM files; both re-read on SIGHUP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// A plain-HTTP address whose every request is sent on to `public_url` (e.g. port 80).
    pub redirect_bind: Option<SocketAddr>,
}

/// A configured secret: shown as `***` in logs and debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryConfig {
    pub identifier: IdentifierMode,
    pub security_question: bool,
    /// SECURITY.md R4: code 10 min, link 60 min, staff-issued code 24 h.
    pub code_ttl: Duration,
    pub link_ttl: Duration,
    pub staff_code_ttl: Duration,
    pub resend_after: Duration,
    pub limits: SendLimits,
}

/// SECURITY.md A2: sends per account, per destination, per client address, and all texts and
/// calls together (a cost ceiling against SMS pumping).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendLimits {
    pub account_per_hour: u32,
    pub account_per_day: u32,
    /// Of the account's sends, those asked for through one identifier (the username, or the
    /// email address): a stranger with the username alone cannot use them all up.
    pub identifier_per_hour: u32,
    pub identifier_per_day: u32,
    pub destination_per_hour: u32,
    pub destination_per_day: u32,
    pub ip_per_hour: u32,
    pub phone_per_hour_global: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (port 587); refuses to send if the upgrade fails.
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or in tests.
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: String,
    pub password: Secret,
    /// `Clinic name <portal@clinic.example>`
    pub from: String,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwilioConfig {
    pub account_sid: String,
    pub auth_token: Secret,
    /// The clinic's Twilio number, E.164.
    pub from: String,
    /// Region codes (ISO 3166) whose numbers may receive texts and calls (SECURITY.md A3); a
    /// +1 number's region tells the US from Canada and the Caribbean.
    pub allowed_countries: Vec<String>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutConfig {
    /// Consecutive failures that trigger the first temporary lock.
    pub threshold: u32,
    pub base: Duration,
    pub max: Duration,
    /// Consecutive failures after which the account stays locked until a reset or staff unlock.
    pub hard_lock_after: u32,
}

impl Default for LockoutConfig {
    fn default() -> Self {
        // SECURITY.md A1: 5 failures → 15 min, doubling to 24 h; 20 consecutive → locked.
        Self {
            threshold: 5,
            base: Duration::from_secs(15 * 60),
            max: Duration::from_secs(24 * 3600),
            hard_lock_after: 20,
        }
    }
}

/// Whether an account must have a second step (`mfa.patients`, `mfa.staff`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaPolicy {
    /// No second step is asked for, and none can be added (patients only).
    Off,
    /// A person may add one; once they have, every sign-in asks for it.
    Optional,
    /// Every sign-in asks for one; an account without one is walked through adding one
    /// before anything else works.
    Required,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MfaConfig {
    pub patients: MfaPolicy,
    pub staff: MfaPolicy,
    /// How long a browser is remembered after its second step (`mfa.remember_days`); zero:
    /// never (SECURITY.md M7).
    pub remember: Duration,
    /// Email may carry a second step's code (`mfa.allow_email`, default off: 63B-4 does not
    /// count email as an out-of-band authenticator, and a mailbox is often the first thing
    /// taken over).
    pub allow_email: bool,
}

impl Config {
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// Whether `ip` is one of the clinic's own proxies (`http.trusted_proxies`).
    pub fn is_trusted_proxy(&self, ip: std::net::IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }
}

/// Every key, its environment variable, and its default (None: no default / derived).
const KEYS: &[(&str, Option<&str>)] = &[
    ("bind", Some("127.0.0.1:3000")),
    ("public_url", Some("http://127.0.0.1:3000")),
    ("data_dir", Some("data")),
    ("database_url", None),
    ("dist_dir", Some("")),
    ("dev_mode", Some("false")),
    ("clinic.name", Some("Your clinic")),
    ("clinic.sms_name", Some("")),
    ("clinic.phone", Some("")),
    ("clinic.address", Some("")),
    ("clinic.region", Some("US")),
    ("clinic.language_help", Some("")),
    ("session.idle_minutes", Some("15")),
    ("session.absolute_hours", Some("12")),
    ("session.warning_seconds", Some("120")),
    ("lockout.threshold", Some("5")),
    ("lockout.base_minutes", Some("15")),
    ("lockout.max_hours", Some("24")),
    ("lockout.hard_lock_after", Some("20")),
    ("mfa.patients", Some("optional")),
    // Staff sessions reach every patient's record: a second step is required of them unless
    // the clinic says otherwise (SECURITY.md M2).
    ("mfa.staff", Some("required")),
    ("mfa.remember_days", Some("30")),
    ("mfa.allow_email", Some("false")),
    ("password.min_length", Some("15")),
    ("password.require_mix", Some("false")),
    ("password.history", Some("5")),
    ("http.trusted_proxies", Some("")),
    // Replaced by http.trusted_proxies; kept so that a configuration still setting it to true
    // stops with a message saying what to write instead, not a silent change of addresses.
    ("http.trust_forwarded_for", Some("false")),
    ("tls.cert_file", Some("")),
    ("tls.key_file", Some("")),
    ("tls.redirect_bind", Some("")),
    ("secret_key_file", Some("")),
    ("audit_key_file", Some("")),
    ("recovery.identifier", Some("either")),
    ("recovery.security_question", Some("false")),
    ("recovery.code_minutes", Some("10")),
    ("recovery.link_minutes", Some("60")),
    ("recovery.staff_code_hours", Some("24")),
    ("recovery.resend_seconds", Some("60")),
    ("limits.account_per_hour", Some("5")),
    ("limits.account_per_day", Some("10")),
    ("limits.identifier_per_hour", Some("4")),
    ("limits.identifier_per_day", Some("8")),
    ("limits.destination_per_hour", Some("5")),
    ("limits.destination_per_day", Some("10")),
    ("limits.ip_per_hour", Some("30")),
    ("limits.texts_and_calls_per_hour", Some("500")),
    ("smtp.host", Some("")),
    ("smtp.port", Some("587")),
    ("smtp.tls", Some("starttls")),
    ("smtp.username", Some("")),
    ("smtp.password", Some("")),
    ("smtp.from", Some("")),
    ("smtp.timeout_seconds", Some("15")),
    ("twilio.account_sid", Some("")),
    ("twilio.auth_token", Some("")),
    ("twilio.from", Some("")),
    // Default: the clinic's own region (`clinic.region`).
    ("twilio.allowed_countries", None),
    ("twilio.timeout_seconds", Some("10")),
    ("delivery.max_attempts", Some("8")),
    ("delivery.lease_seconds", Some("120")),
    ("dev.recovery_ttl_seconds", Some("0")),
    ("metrics.bind", Some("127.0.0.1:9464")),
    ("log.format", Some("text")),
];

/// The environment variable for a key: `session.idle_minutes` → `CAREKEY_SESSION_IDLE_MINUTES`.
/// `database_url` also answers to the conventional `DATABASE_URL`.
pub fn env_name(key: &str) -> String {
    format!("CAREKEY_{}", key.replace('.', "_").to_uppercase())
}

struct Raw {
    values: BTreeMap<String, (String, String)>, // key → (value, where it came from)
}

impl Raw {
    fn get(&self, key: &str) -> (String, String) {
        self.values
            .get(key)
            .cloned()
            .unwrap_or_else(|| (String::new(), "default".into()))
    }

    fn invalid(&self, key: &str, allowed: &str) -> ConfigError {
        let (value, source_name) = self.get(key);
        ConfigError::Invalid {
            key: key.into(),
            value,
            source_name,
            allowed: allowed.into(),
        }
    }

    fn parse<T: std::str::FromStr>(&self, key: &str, allowed: &str) -> Result<T, ConfigError> {
        self.get(key)
            .0
            .trim()
            .parse()
            .map_err(|_| self.invalid(key, allowed))
    }

    fn bool(&self, key: &str) -> Result<bool, ConfigError> {
        match self.get(key).0.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(self.invalid(key, "true or false")),
        }
    }

    fn ranged(&self, key: &str, lo: u64, hi: u64, unit: &str) -> Result<u64, ConfigError> {
        let allowed = format!("a whole number of {unit} from {lo} to {hi}");
        let v: u64 = self.parse(key, &allowed)?;
        if (lo..=hi).contains(&v) {
            Ok(v)
        } else {
            Err(self.invalid(key, &allowed))
        }
    }
}

/// The clinic's name as texts carry it. A name a text cannot carry in one segment (over 40
/// characters, or with a letter outside GSM-7 such as "í") needs `clinic.sms_name`, a short form
/// for texts; emails, pages and calls keep `clinic.name`.
fn sms_name(raw: &Raw) -> Result<String, ConfigError> {
    let fits = |s: &str| {
        let s = s.trim();
        !s.is_empty()
            && s.chars().count() <= crate::sms::MAX_SMS_NAME
            && s.chars().all(crate::sms::is_gsm7)
    };
    let own = raw.get("clinic.sms_name").0;
    if !own.trim().is_empty() {
        return if fits(&own) {
            Ok(own.trim().to_owned())
        } else {
            Err(raw.invalid(
                "clinic.sms_name",
                "at most 40 characters a text carries in one segment: letters without accents \
                 (é, ñ, ü are fine; á, í, ó, ú are not), digits, spaces and simple punctuation",
            ))
        };
    }
    let name = raw.get("clinic.name").0;
    if fits(&name) {
        Ok(name.trim().to_owned())
    } else {
        Err(raw.invalid(
            "clinic.name",
            "a name texts can carry in one segment (at most 40 characters; no á, í, ó or ú), \
             or set clinic.sms_name to a short form of it for texts",
        ))
    }
}

/// The longest language-help line: a tagline is one short line on a letter and a phone screen.
const MAX_TAGLINE_CHARS: usize = 200;

/// The clinic's own language-help lines. In `carekey.toml` they are an array of tables
/// (`[[clinic.language_help]]` with `lang` and `text`); the file's array reaches here as a TOML
/// inline array, and `CAREKEY_CLINIC_LANGUAGE_HELP` takes that same form
/// (`[{ lang = "vi", text = "…" }]`). Each line needs a language tag a browser accepts as
/// `lang`, so a screen reader picks the right voice, and words; English and Spanish come from
/// the catalogues, so a line for either is refused rather than shown twice.
fn language_help(raw: &Raw) -> Result<Vec<carekey_shared::Tagline>, ConfigError> {
    let (value, source_name) = raw.get("clinic.language_help");
    if value.trim().is_empty() {
        return Ok(vec![]);
    }
    let whole = |reason: &str| raw.invalid("clinic.language_help", reason);
    const SHAPE: &str = "a list of lines, each with lang and text: [[clinic.language_help]] \
                         tables in carekey.toml, or [{ lang = \"vi\", text = \"…\" }] in the environment";
    let table: toml::Table = format!("lines = {value}")
        .parse()
        .map_err(|_| whole(SHAPE))?;
    let (Some(toml::Value::Array(items)), 1) = (table.get("lines"), table.len()) else {
        return Err(whole(SHAPE));
    };
    let mut out: Vec<carekey_shared::Tagline> = vec![];
    for (i, item) in items.iter().enumerate() {
        let bad = |reason: String| ConfigError::LanguageHelp {
            number: i + 1,
            source_name: source_name.clone(),
            reason,
        };
        let toml::Value::Table(t) = item else {
            return Err(bad("each line is a table with lang and text".into()));
        };
        if let Some(k) = t.keys().find(|k| *k != "lang" && *k != "text") {
            return Err(bad(format!("unknown key {k:?}; a line has lang and text")));
        }
        let field = |k: &str| t.get(k).and_then(toml::Value::as_str).map(str::trim);
        let lang = field("lang").unwrap_or_default();
        if !looks_like_language_tag(lang) {
            return Err(bad(format!(
                "lang = {lang:?}: a BCP 47 language tag such as vi, zh-Hant or pt-BR"
            )));
        }
        let primary = lang
            .split('-')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if primary == "en" || primary == "es" {
            return Err(bad(format!(
                "lang = {lang:?}: the English and Spanish lines are built in"
            )));
        }
        if out.iter().any(|o| o.lang.eq_ignore_ascii_case(lang)) {
            return Err(bad(format!("lang = {lang:?} has a line already")));
        }
        let text = field("text").unwrap_or_default();
        if text.is_empty()
            || text.chars().count() > MAX_TAGLINE_CHARS
            || text.contains(['\n', '\r'])
        {
            return Err(bad(format!(
                "text: one line of 1 to {MAX_TAGLINE_CHARS} characters in that language"
            )));
        }
        out.push(carekey_shared::Tagline {
            lang: lang.to_owned(),
            text: text.to_owned(),
        });
    }
    Ok(out)
}

/// The shape of a BCP 47 tag (RFC 5646): a primary language of 2–3 letters, then subtags of
/// 1–8 letters or digits (`zh-Hant-TW`, `es-419`). Not a registry check: a made-up subtag only
/// costs a screen reader its voice, while a free-form value ("Vietnamese") is a sure mistake.
fn looks_like_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let primary_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()));
    primary_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Loads configuration: defaults, then `file` (if it exists or was named explicitly), then the
/// environment given by `env` (a function so tests need not touch the process environment).
pub fn load(
    file: Option<&Path>,
    explicit_file: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let mut values = BTreeMap::new();
    for (key, default) in KEYS {
        if let Some(d) = default {
            values.insert((*key).to_owned(), ((*d).to_owned(), "default".to_owned()));
        }
    }
    if let Some(path) = file {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                for (k, v) in flatten_toml(&text, &path.display().to_string())? {
                    values.insert(k, (v, format!("from {}", path.display())));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit_file => {}
            Err(e) => {
                return Err(ConfigError::File {
                    file: path.display().to_string(),
                    reason: e.to_string(),
                });
            }
        }
    }
    for (key, _) in KEYS {
        let name = env_name(key);
        if let Some(v) = env(&name) {
            values.insert((*key).to_owned(), (v, format!("from {name}")));
        } else if *key == "database_url"
            && let Some(v) = env("DATABASE_URL")
        {
            values.insert((*key).to_owned(), (v, "from DATABASE_URL".into()));
        }
    }
    build(&Raw { values })
}

fn flatten_toml(text: &str, file: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::File {
            file: file.into(),
            reason: e.message().to_owned(),
        })?;
    let mut out = vec![];
    flatten("", &table, &mut out);
    let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
    for (k, _) in &out {
        if !known.contains(&k.as_str()) {
            return Err(ConfigError::UnknownKey {
                key: k.clone(),
                file: file.into(),
                known: known.join(", "),
            });
        }
    }
    Ok(out)
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut Vec<(String, String)>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => out.push((key, s.clone())),
            other => out.push((key, other.to_string())),
        }
    }
}

fn build(raw: &Raw) -> Result<Config, ConfigError> {
    let bind: SocketAddr = raw.parse("bind", "an address and port such as 127.0.0.1:3000")?;
    let public_url = parse_public_url(&raw.get("public_url").0).ok_or_else(|| {
        raw.invalid(
            "public_url",
            "an origin such as https://portal.example.org (http or https, no path)",
        )
    })?;
    let data_dir = PathBuf::from(raw.get("data_dir").0);
    if data_dir.as_os_str().is_empty() {
        return Err(raw.invalid("data_dir", "a directory path"));
    }
    let database_url = match raw.values.get("database_url") {
        Some((v, _)) if !v.trim().is_empty() => {
            let v = v.trim().to_owned();
            if !(v.starts_with("sqlite://")
                || v.starts_with("postgres://")
                || v.starts_with("postgresql://"))
            {
                return Err(raw.invalid(
                    "database_url",
                    "a sqlite://PATH or postgres://USER@HOST/DB URL",
                ));
            }
            v
        }
        _ => format!("sqlite://{}", data_dir.join("carekey.db").display()),
    };
    let idle = raw.ranged("session.idle_minutes", 1, 60, "minutes")?;
    let absolute = raw.ranged("session.absolute_hours", 1, 24, "hours")?;
    let warning = raw.ranged("session.warning_seconds", 10, 600, "seconds")?;
    if warning >= idle * 60 {
        return Err(raw.invalid(
            "session.warning_seconds",
            "fewer seconds than session.idle_minutes (the warning comes before the sign-out)",
        ));
    }
    let lockout = LockoutConfig {
        threshold: raw.ranged("lockout.threshold", 3, 10, "failures")? as u32,
        base: Duration::from_secs(raw.ranged("lockout.base_minutes", 1, 60, "minutes")? * 60),
        max: Duration::from_secs(raw.ranged("lockout.max_hours", 1, 72, "hours")? * 3600),
        hard_lock_after: raw.ranged("lockout.hard_lock_after", 10, 100, "failures")? as u32,
    };
    if lockout.hard_lock_after <= lockout.threshold {
        return Err(raw.invalid(
            "lockout.hard_lock_after",
            "more failures than lockout.threshold",
        ));
    }
    let mfa = MfaConfig {
        patients: mfa_policy(raw, "mfa.patients", true)?,
        staff: mfa_policy(raw, "mfa.staff", false)?,
        remember: Duration::from_secs(raw.ranged("mfa.remember_days", 0, 180, "days")? * 86_400),
        allow_email: raw.bool("mfa.allow_email")?,
    };
    let tls = tls(raw, &public_url)?;
    let dev_mode = raw.bool("dev_mode")?;
    // Development mode publishes demo passwords and every code at /dev/outbox: it must not be
    // reachable from another machine, and an https origin means a real deployment.
    if dev_mode && (public_url.starts_with("https://") || !bind.ip().is_loopback()) {
        return Err(raw.invalid(
            "dev_mode",
            "false with an https public_url or a bind address other machines can reach \
             (development mode shows every code at /dev/outbox)",
        ));
    }
    let clinic_region = crate::domain::phone::Region::parse(&raw.get("clinic.region").0)
        .ok_or_else(|| {
            raw.invalid(
                "clinic.region",
                "a region code (ISO 3166) with a phone numbering plan, such as US, CA or GB",
            )
        })?;
    let secret_key_file = match raw.get("secret_key_file").0.trim() {
        "" => data_dir.join("secret.key"),
        p => PathBuf::from(p),
    };
    let audit_key_file = match raw.get("audit_key_file").0.trim() {
        "" => data_dir.join("audit.key"),
        p => PathBuf::from(p),
    };
    if audit_key_file == secret_key_file {
        return Err(raw.invalid(
            "audit_key_file",
            "a file other than secret_key_file (the audit trail has a key of its own)",
        ));
    }
    Ok(Config {
        bind,
        public_url,
        data_dir,
        database_url,
        dist_dir: PathBuf::from(raw.get("dist_dir").0.trim()),
        tls,
        dev_mode,
        clinic_name: raw.get("clinic.name").0,
        clinic_sms_name: sms_name(raw)?,
        clinic_phone: raw.get("clinic.phone").0,
        clinic_address: raw.get("clinic.address").0,
        clinic_region,
        clinic_language_help: language_help(raw)?,
        session_idle: Duration::from_secs(idle * 60),
        session_absolute: Duration::from_secs(absolute * 3600),
        session_warning: Duration::from_secs(warning),
        lockout,
        mfa,
        // 63B-4 §3.1.1.2 sets 15 as the floor for single-factor passwords; clinics may go higher.
        password_min_length: raw.ranged("password.min_length", 15, 64, "characters")? as usize,
        password_require_mix: raw.bool("password.require_mix")?,
        password_history: raw.ranged("password.history", 0, 24, "passwords")? as u32,
        trusted_proxies: trusted_proxies(raw)?,
        secret_key_file,
        audit_key_file,
        recovery: recovery(raw)?,
        smtp: smtp(raw)?,
        twilio: twilio(raw, clinic_region)?,
        delivery_max_attempts: raw.ranged("delivery.max_attempts", 1, 20, "attempts")? as u32,
        // At least 2 s: renewed every third of it, a shorter lease would have renewals racing
        // the database's own latency. At most 10 min: how long a crashed instance's message
        // waits before another instance sends it.
        delivery_lease: Duration::from_secs(raw.ranged(
            "delivery.lease_seconds",
            2,
            600,
            "seconds",
        )?),
        metrics_bind: metrics_bind(raw, bind)?,
        log_format: match raw.get("log.format").0.trim().to_ascii_lowercase().as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            _ => return Err(raw.invalid("log.format", "text or json")),
        },
    })
}

/// `mfa.patients` / `mfa.staff`. Staff sessions reach patients' records: a clinic may make
/// their second step optional, never switch it off.
fn mfa_policy(raw: &Raw, key: &str, may_be_off: bool) -> Result<MfaPolicy, ConfigError> {
    match raw.get(key).0.trim().to_ascii_lowercase().as_str() {
        "off" if may_be_off => Ok(MfaPolicy::Off),
        "optional" => Ok(MfaPolicy::Optional),
        "required" => Ok(MfaPolicy::Required),
        _ if may_be_off => Err(raw.invalid(key, "off, optional or required")),
        _ => Err(raw.invalid(key, "optional or required")),
    }
}

/// `http.trusted_proxies`: addresses or networks, separated by commas or spaces, or as a TOML
/// list (`["10.0.0.0/8", "127.0.0.1"]`). The old `http.trust_forwarded_for = true` trusted
/// whoever connected; it is refused with what to write instead.
fn trusted_proxies(raw: &Raw) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    if raw.bool("http.trust_forwarded_for")? {
        return Err(raw.invalid(
            "http.trust_forwarded_for",
            "false: it is replaced by http.trusted_proxies, the addresses of your own proxies \
             (for example http.trusted_proxies = [\"127.0.0.1\"] for a proxy on this machine)",
        ));
    }
    const ALLOWED: &str = "the addresses or networks of your own proxies, such as 127.0.0.1 or \
                           [\"10.0.0.0/8\", \"::1\"]; empty when clients connect directly";
    let value = raw.get("http.trusted_proxies").0;
    value
        .split(|c: char| c == ',' || c.is_whitespace() || matches!(c, '[' | ']' | '"' | '\''))
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<ipnet::IpNet>()
                .or_else(|_| part.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map(|net| net.trunc())
                .map_err(|_| raw.invalid("http.trusted_proxies", ALLOWED))
        })
        .collect()
}

/// `tls.cert_file` and `tls.key_file` together, or neither. With them the server speaks only
/// HTTPS, so `public_url` must say https: the cookie's `__Host-` prefix, `Secure` flag and HSTS
/// all follow from it, and links in messages must not point at a port that no longer answers
/// plain HTTP.
fn tls(raw: &Raw, public_url: &str) -> Result<Option<TlsConfig>, ConfigError> {
    let cert = raw.get("tls.cert_file").0.trim().to_owned();
    let key = raw.get("tls.key_file").0.trim().to_owned();
    let redirect = raw.get("tls.redirect_bind").0.trim().to_owned();
    match (cert.is_empty(), key.is_empty()) {
        (true, true) => {
            if !redirect.is_empty() {
                return Err(raw.invalid(
                    "tls.redirect_bind",
                    "empty unless tls.cert_file and tls.key_file are set",
                ));
            }
            return Ok(None);
        }
        (false, true) => {
            return Err(raw.invalid(
                "tls.key_file",
                "the PEM private key of tls.cert_file (both are needed for HTTPS)",
            ));
        }
        (true, false) => {
            return Err(raw.invalid(
                "tls.cert_file",
                "the PEM certificate chain for tls.key_file (both are needed for HTTPS)",
            ));
        }
        (false, false) => {}
    }
    if !public_url.starts_with("https://") {
        return Err(raw.invalid(
            "public_url",
            "an https:// origin when tls.cert_file is set (the server then speaks only HTTPS)",
        ));
    }
    let redirect_bind = if redirect.is_empty() {
        None
    } else {
        Some(raw.parse(
            "tls.redirect_bind",
            "an address and port for plain HTTP that redirects to HTTPS, such as 0.0.0.0:80",
        )?)
    };
    Ok(Some(TlsConfig {
        cert_file: PathBuf::from(cert),
        key_file: PathBuf::from(key),
        redirect_bind,
    }))
}

/// `metrics.bind`: an address of its own, or `off`. It may not be the portal's address: the
/// counters (sign-in failures by reason, lockouts) would tell anyone who can reach the portal
/// whether the name they just tried is an account here (SECURITY.md E1), so they are served
/// only where the clinic's monitoring alone can reach them.
fn metrics_bind(raw: &Raw, bind: SocketAddr) -> Result<Option<SocketAddr>, ConfigError> {
    const ALLOWED: &str = "an address and port of its own such as 127.0.0.1:9464 (never the \
                           portal's bind address: the counters would tell visitors whether an \
                           account exists), or off";
    let v = raw.get("metrics.bind").0.trim().to_ascii_lowercase();
    if v.is_empty() || v == "off" {
        return Ok(None);
    }
    let addr: SocketAddr = v
        .parse()
        .map_err(|_| raw.invalid("metrics.bind", ALLOWED))?;
    let overlaps =
        addr.ip() == bind.ip() || addr.ip().is_unspecified() || bind.ip().is_unspecified();
    if addr.port() != 0 && addr.port() == bind.port() && overlaps {
        return Err(raw.invalid("metrics.bind", ALLOWED));
    }
    Ok(Some(addr))
}

fn recovery(raw: &Raw) -> Result<RecoveryConfig, ConfigError> {
    // Development and browser tests only: codes and links that expire in seconds, so the
    // "expired code" path can be walked through without waiting ten minutes.
    let dev_ttl = raw.ranged("dev.recovery_ttl_seconds", 0, 600, "seconds")?;
    if dev_ttl > 0 && !raw.bool("dev_mode")? {
        return Err(raw.invalid("dev.recovery_ttl_seconds", "0 unless dev_mode = true"));
    }
    let mut r = recovery_normal(raw)?;
    if dev_ttl > 0 {
        r.code_ttl = Duration::from_secs(dev_ttl);
        r.link_ttl = Duration::from_secs(dev_ttl);
    }
    // Nobody should wait longer for a new code than the old one lives.
    r.resend_after = r.resend_after.min(r.code_ttl);
    Ok(r)
}

fn recovery_normal(raw: &Raw) -> Result<RecoveryConfig, ConfigError> {
    let identifier = IdentifierMode::parse(raw.get("recovery.identifier").0.trim())
        .ok_or_else(|| raw.invalid("recovery.identifier", "username, email, either or both"))?;
    let per = |key: &str| -> Result<u32, ConfigError> {
        Ok(raw.ranged(key, 1, 100_000, "messages")? as u32)
    };
    Ok(RecoveryConfig {
        identifier,
        security_question: raw.bool("recovery.security_question")?,
        code_ttl: Duration::from_secs(raw.ranged("recovery.code_minutes", 5, 15, "minutes")? * 60),
        link_ttl: Duration::from_secs(
            raw.ranged("recovery.link_minutes", 15, 120, "minutes")? * 60,
        ),
        staff_code_ttl: Duration::from_secs(
            raw.ranged("recovery.staff_code_hours", 1, 72, "hours")? * 3600,
        ),
        resend_after: Duration::from_secs(raw.ranged(
            "recovery.resend_seconds",
            30,
            600,
            "seconds",
        )?),
        limits: SendLimits {
            account_per_hour: per("limits.account_per_hour")?,
            account_per_day: per("limits.account_per_day")?,
            identifier_per_hour: per("limits.identifier_per_hour")?,
            identifier_per_day: per("limits.identifier_per_day")?,
            destination_per_hour: per("limits.destination_per_hour")?,
            destination_per_day: per("limits.destination_per_day")?,
            ip_per_hour: per("limits.ip_per_hour")?,
            phone_per_hour_global: per("limits.texts_and_calls_per_hour")?,
        },
    })
}

fn smtp(raw: &Raw) -> Result<Option<SmtpConfig>, ConfigError> {
    let host = raw.get("smtp.host").0.trim().to_owned();
    if host.is_empty() {
        return Ok(None);
    }
    let tls = match raw.get("smtp.tls").0.trim().to_ascii_lowercase().as_str() {
        "starttls" => SmtpTls::StartTls,
        "tls" => SmtpTls::Tls,
        "none" => SmtpTls::None,
        _ => return Err(raw.invalid("smtp.tls", "starttls, tls or none")),
    };
    let from = raw.get("smtp.from").0.trim().to_owned();
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(raw.invalid(
            "smtp.from",
            "a sender address such as \"Hillside Clinic <portal@hillside.example>\" (required when smtp.host is set)",
        ));
    }
    Ok(Some(SmtpConfig {
        host,
        port: raw.ranged("smtp.port", 1, 65535, "port")? as u16,
        tls,
        username: raw.get("smtp.username").0.trim().to_owned(),
        password: Secret(raw.get("smtp.password").0),
        from,
        timeout: Duration::from_secs(raw.ranged("smtp.timeout_seconds", 1, 120, "seconds")?),
    }))
}

fn twilio(
    raw: &Raw,
    region: crate::domain::phone::Region,
) -> Result<Option<TwilioConfig>, ConfigError> {
    let sid = raw.get("twilio.account_sid").0.trim().to_owned();
    let countries = allowed_countries(raw, region)?;
    if sid.is_empty() {
        return Ok(None);
    }
    if !(sid.starts_with("AC")
        && sid.len() == 34
        && sid[2..].chars().all(|c| c.is_ascii_hexdigit()))
    {
        return Err(raw.invalid(
            "twilio.account_sid",
            "an Account SID: AC followed by 32 hex digits",
        ));
    }
    let token = raw.get("twilio.auth_token").0.trim().to_owned();
    if token.is_empty() {
        return Err(raw.invalid(
            "twilio.auth_token",
            "the account's auth token (required with twilio.account_sid)",
        ));
    }
    let from = raw.get("twilio.from").0.trim().to_owned();
    if !(from.starts_with('+')
        && (8..=16).contains(&from.len())
        && from[1..].chars().all(|c| c.is_ascii_digit()))
    {
        return Err(raw.invalid(
            "twilio.from",
            "the clinic's Twilio number in E.164 form, such as +15035550100",
        ));
    }
    Ok(Some(TwilioConfig {
        account_sid: sid,
        auth_token: Secret(token),
        from,
        allowed_countries: countries,
        timeout: Duration::from_secs(raw.ranged("twilio.timeout_seconds", 1, 60, "seconds")?),
    }))
}

/// The regions whose numbers may receive texts and calls: `twilio.allowed_countries`, or the
/// clinic's own region when it is not set. Each must be a region the phone-number metadata
/// knows, or the allow-list could name a country no number is ever found in (`UK` for `GB`).
fn allowed_countries(
    raw: &Raw,
    region: crate::domain::phone::Region,
) -> Result<Vec<String>, ConfigError> {
    let Some((value, _)) = raw.values.get("twilio.allowed_countries") else {
        return Ok(vec![region.code().to_owned()]);
    };
    let mut countries: Vec<String> = vec![];
    for c in value.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let known = crate::domain::phone::Region::parse(c).ok_or_else(|| {
            raw.invalid(
                "twilio.allowed_countries",
                "a comma-separated list of region codes (ISO 3166) with a phone numbering plan, \
                 such as US, CA or GB",
            )
        })?;
        if !countries.iter().any(|k| k == known.code()) {
            countries.push(known.code().to_owned());
        }
    }
    if countries.is_empty() {
        return Err(raw.invalid(
            "twilio.allowed_countries",
            "at least one region code (ISO 3166), such as US",
        ));
    }
    Ok(countries)
}

/// `https://portal.example.org` or `http://127.0.0.1:3000`, with no path, query or fragment,
/// in the exact form a browser sends as `Origin` (lower case, default port dropped), because
/// the cross-site check compares the two as strings.
fn parse_public_url(v: &str) -> Option<String> {
    let v = v.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, rest) = if let Some(r) = v.strip_prefix("https://") {
        ("https", r)
    } else {
        ("http", v.strip_prefix("http://")?)
    };
    let ok = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !ok {
        return None;
    }
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let host = rest.strip_suffix(default_port).unwrap_or(rest);
    Some(format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_env(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        load(None, false, &move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_are_valid_and_match_the_security_numbers() {
        let c = with_env(&[]).unwrap();
        assert_eq!(c.session_idle, Duration::from_secs(15 * 60));
        assert_eq!(c.session_absolute, Duration::from_secs(12 * 3600));
        assert_eq!(c.lockout, LockoutConfig::default());
        assert_eq!(c.password_min_length, 15);
        assert_eq!(c.password_history, 5, "P5: N = 5");
        assert_eq!(c.database_url, "sqlite://data/carekey.db");
        assert!(!c.dev_mode);
    }

    #[test]
    fn password_history_is_zero_to_twenty_four() {
        let off = with_env(&[("CAREKEY_PASSWORD_HISTORY", "0")]).unwrap();
        assert_eq!(off.password_history, 0);
        let most = with_env(&[("CAREKEY_PASSWORD_HISTORY", "24")]).unwrap();
        assert_eq!(most.password_history, 24);
        let e = with_env(&[("CAREKEY_PASSWORD_HISTORY", "25")]).unwrap_err();
        assert!(
            e.to_string()
                .contains("a whole number of passwords from 0 to 24"),
            "{e}"
        );
    }

    #[test]
    fn bad_value_names_key_value_source_and_what_is_allowed() {
        let e = with_env(&[("CAREKEY_SESSION_IDLE_MINUTES", "0")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "configuration error: session.idle_minutes = \"0\" (from CAREKEY_SESSION_IDLE_MINUTES) \
             is not allowed: a whole number of minutes from 1 to 60"
        );
    }

    #[test]
    fn public_url_must_be_an_origin() {
        for bad in [
            "portal.example.org",
            "https://x.org/path",
            "ftp://x.org",
            "https://x.org?a=1",
        ] {
            let e = with_env(&[("CAREKEY_PUBLIC_URL", bad)]).unwrap_err();
            assert!(e.to_string().contains("public_url"), "{bad}: {e}");
        }
        let c = with_env(&[("CAREKEY_PUBLIC_URL", "https://portal.example.org/")]).unwrap();
        assert_eq!(c.public_url, "https://portal.example.org");
        assert!(c.is_https());
        // Written the way a browser writes Origin, or every API call would be refused.
        let c = with_env(&[("CAREKEY_PUBLIC_URL", "HTTPS://Portal.Example.org:443")]).unwrap();
        assert_eq!(c.public_url, "https://portal.example.org");
        let c = with_env(&[("CAREKEY_PUBLIC_URL", "http://127.0.0.1:3000")]).unwrap();
        assert_eq!(c.public_url, "http://127.0.0.1:3000");
    }

    #[test]
    fn booleans_and_addresses_explain_themselves() {
        let e = with_env(&[("CAREKEY_DEV_MODE", "maybe")]).unwrap_err();
        assert!(
            e.to_string().ends_with("is not allowed: true or false"),
            "{e}"
        );
        let e = with_env(&[("CAREKEY_BIND", "localhost")]).unwrap_err();
        assert!(e.to_string().contains("bind = \"localhost\""), "{e}");
    }

    #[test]
    fn min_length_cannot_go_below_nist_floor() {
        let e = with_env(&[("CAREKEY_PASSWORD_MIN_LENGTH", "8")]).unwrap_err();
        assert!(e.to_string().contains("from 15 to 64"), "{e}");
    }

    #[test]
    fn texts_carry_the_clinic_name_only_when_it_fits_one_segment() {
        let c = with_env(&[("CAREKEY_CLINIC_NAME", "Hillside Family Clinic")]).unwrap();
        assert_eq!(c.clinic_sms_name, "Hillside Family Clinic");
        let e = with_env(&[("CAREKEY_CLINIC_NAME", "Clínica San José")]).unwrap_err();
        assert!(
            e.to_string().contains("clinic.name") && e.to_string().contains("clinic.sms_name"),
            "{e}"
        );
        let c = with_env(&[
            ("CAREKEY_CLINIC_NAME", "Clínica San José"),
            ("CAREKEY_CLINIC_SMS_NAME", "Clinica San Jose"),
        ])
        .unwrap();
        assert_eq!(
            (c.clinic_name.as_str(), c.clinic_sms_name.as_str()),
            ("Clínica San José", "Clinica San Jose")
        );
        let e = with_env(&[("CAREKEY_CLINIC_SMS_NAME", &"x".repeat(41))]).unwrap_err();
        assert!(e.to_string().contains("clinic.sms_name"), "{e}");
    }

    #[test]
    fn the_clinics_own_language_help_lines_are_checked() {
        assert!(with_env(&[]).unwrap().clinic_language_help.is_empty());
        let c = with_env(&[(
            "CAREKEY_CLINIC_LANGUAGE_HELP",
            r#"[{ lang = "vi", text = " Cần trợ giúp bằng ngôn ngữ khác? Miễn phí. " },
                { lang = "zh-Hant", text = "需要其他語言的協助嗎？免費。" }]"#,
        )])
        .unwrap();
        let got: Vec<(&str, &str)> = c
            .clinic_language_help
            .iter()
            .map(|t| (t.lang.as_str(), t.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("vi", "Cần trợ giúp bằng ngôn ngữ khác? Miễn phí."),
                ("zh-Hant", "需要其他語言的協助嗎？免費。")
            ]
        );

        // Each bad line is named by its place in the list and what is wrong with it.
        for (value, says) in [
            (r#"[{ lang = "Vietnamese", text = "Xin chào" }]"#, "line 1"),
            (
                r#"[{ lang = "vi", text = "Xin chào" }, { text = "Xin chào" }]"#,
                "line 2",
            ),
            (r#"[{ lang = "vi", text = "   " }]"#, "text: one line"),
            (r#"[{ lang = "vi" }]"#, "text: one line"),
            (r#"[{ lang = "es-MX", text = "Hola" }]"#, "built in"),
            (
                r#"[{ lang = "vi", text = "a" }, { lang = "VI", text = "b" }]"#,
                "already",
            ),
            (
                r#"[{ lang = "vi", text = "a", phone = "1" }]"#,
                "unknown key \"phone\"",
            ),
            (r#"["vi: Xin chào"]"#, "a table with lang and text"),
        ] {
            let e = with_env(&[("CAREKEY_CLINIC_LANGUAGE_HELP", value)]).unwrap_err();
            assert!(
                matches!(e, ConfigError::LanguageHelp { .. }) && e.to_string().contains(says),
                "{value}: {e}"
            );
            assert!(
                e.to_string()
                    .contains("(from CAREKEY_CLINIC_LANGUAGE_HELP)"),
                "{e}"
            );
        }
        let e = with_env(&[(
            "CAREKEY_CLINIC_LANGUAGE_HELP",
            &format!(r#"[{{ lang = "vi", text = "{}" }}]"#, "x".repeat(201)),
        )])
        .unwrap_err();
        assert!(e.to_string().contains("1 to 200 characters"), "{e}");
        for not_a_list in ["vi", r#"{ lang = "vi", text = "a" }"#, "[1, 2"] {
            let e = with_env(&[("CAREKEY_CLINIC_LANGUAGE_HELP", not_a_list)]).unwrap_err();
            assert!(
                matches!(&e, ConfigError::Invalid { key, .. } if key == "clinic.language_help"),
                "{not_a_list}: {e}"
            );
        }
    }

    #[test]
    fn language_help_lines_are_written_as_tables_in_the_file() {
        let dir = std::env::temp_dir().join(format!("carekey-cfg-lh-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("carekey.toml");
        std::fs::write(
            &f,
            "[clinic]\nname = \"Hillside\"\n\n\
             [[clinic.language_help]]\nlang = \"vi\"\ntext = \"Cần trợ giúp? Miễn phí.\"\n\n\
             [[clinic.language_help]]\nlang = \"ar\"\ntext = \"هل تحتاج إلى مساعدة؟ مجانًا.\"\n",
        )
        .unwrap();
        let c = load(Some(&f), true, &|_| None).unwrap();
        let langs: Vec<&str> = c
            .clinic_language_help
            .iter()
            .map(|t| t.lang.as_str())
            .collect();
        assert_eq!(langs, ["vi", "ar"]);
        assert_eq!(
            c.clinic_language_help[1].text,
            "هل تحتاج إلى مساعدة؟ مجانًا."
        );

        std::fs::write(&f, "[[clinic.language_help]]\nlang = \"vi\"\n").unwrap();
        let e = load(Some(&f), true, &|_| None).unwrap_err();
        assert!(
            e.to_string().contains(&format!("(from {})", f.display())),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn database_url_from_conventional_variable() {
        let c = with_env(&[("DATABASE_URL", "postgres://u@127.0.0.1/test")]).unwrap();
        assert_eq!(c.database_url, "postgres://u@127.0.0.1/test");
        let e = with_env(&[("DATABASE_URL", "mysql://x")]).unwrap_err();
        assert!(e.to_string().contains("(from DATABASE_URL)"), "{e}");
    }

    #[test]
    fn file_values_apply_and_unknown_keys_are_refused() {
        let dir = std::env::temp_dir().join(format!("carekey-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("carekey.toml");
        std::fs::write(
            &f,
            "dev_mode = true\n[clinic]\nname = \"Hillside Family Clinic\"\n",
        )
        .unwrap();
        let c = load(Some(&f), true, &|_| None).unwrap();
        assert!(c.dev_mode);
        assert_eq!(c.clinic_name, "Hillside Family Clinic");

        std::fs::write(&f, "[session]\nidle_minuts = 5\n").unwrap();
        let e = load(Some(&f), true, &|_| None).unwrap_err();
        assert!(
            e.to_string()
                .contains("unknown key \"session.idle_minuts\""),
            "{e}"
        );

        std::fs::write(&f, "[session]\nidle_minutes = 90\n").unwrap();
        let e = load(Some(&f), true, &|_| None).unwrap_err();
        assert!(
            e.to_string().contains(&format!("(from {})", f.display())),
            "{e}"
        );
    }

    #[test]
    fn recovery_defaults_match_security_numbers() {
        let c = with_env(&[]).unwrap();
        assert_eq!(c.recovery.code_ttl, Duration::from_secs(600));
        assert_eq!(c.recovery.link_ttl, Duration::from_secs(3600));
        assert_eq!(c.recovery.staff_code_ttl, Duration::from_secs(24 * 3600));
        assert_eq!(c.recovery.identifier, IdentifierMode::Either);
        assert_eq!(c.recovery.limits.account_per_hour, 5);
        assert_eq!(c.recovery.limits.ip_per_hour, 30);
        assert_eq!(c.recovery.limits.phone_per_hour_global, 500);
        assert!(c.smtp.is_none() && c.twilio.is_none());
        assert_eq!(c.secret_key_file, PathBuf::from("data/secret.key"));
    }

    #[test]
    fn smtp_and_twilio_settings_are_checked_and_secrets_never_printed() {
        let e = with_env(&[("CAREKEY_SMTP_HOST", "mail.example.org")]).unwrap_err();
        assert!(e.to_string().contains("smtp.from"), "{e}");
        let c = with_env(&[
            ("CAREKEY_SMTP_HOST", "mail.example.org"),
            ("CAREKEY_SMTP_FROM", "Hillside <portal@hillside.example>"),
            ("CAREKEY_SMTP_PASSWORD", "hunter2-smtp"),
            (
                "CAREKEY_TWILIO_ACCOUNT_SID",
                "AC0123456789abcdef0123456789abcdef",
            ),
            ("CAREKEY_TWILIO_AUTH_TOKEN", "tok-secret-value"),
            ("CAREKEY_TWILIO_FROM", "+15035550100"),
        ])
        .unwrap();
        let smtp = c.smtp.as_ref().unwrap();
        assert_eq!((smtp.port, smtp.tls), (587, SmtpTls::StartTls));
        let printed = format!("{c:?}");
        assert!(!printed.contains("hunter2-smtp") && !printed.contains("tok-secret-value"));
        let e = with_env(&[("CAREKEY_TWILIO_ALLOWED_COUNTRIES", "US,XX")]).unwrap_err();
        assert!(e.to_string().contains("twilio.allowed_countries"), "{e}");
        let e = with_env(&[
            (
                "CAREKEY_TWILIO_ACCOUNT_SID",
                "AC0123456789abcdef0123456789abcdef",
            ),
            ("CAREKEY_TWILIO_AUTH_TOKEN", "t"),
            ("CAREKEY_TWILIO_FROM", "5035550100"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("twilio.from"), "{e}");
    }

    #[test]
    fn clinic_region_is_one_the_phone_metadata_knows() {
        use crate::domain::phone::Region;
        let c = with_env(&[]).unwrap();
        assert_eq!(c.clinic_region, Region::US);
        let c = with_env(&[("CAREKEY_CLINIC_REGION", " gb ")]).unwrap();
        assert_eq!(c.clinic_region.code(), "GB");
        for bad in ["UK", "USA", "XX", "001", ""] {
            let e = with_env(&[("CAREKEY_CLINIC_REGION", bad)]).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!(
                    "configuration error: clinic.region = \"{bad}\" (from CAREKEY_CLINIC_REGION) \
                     is not allowed: a region code (ISO 3166) with a phone numbering plan, such \
                     as US, CA or GB"
                )
            );
        }
    }

    #[test]
    fn the_allow_list_is_region_codes_and_defaults_to_the_clinics_region() {
        let twilio = [
            (
                "CAREKEY_TWILIO_ACCOUNT_SID",
                "AC0123456789abcdef0123456789abcdef",
            ),
            ("CAREKEY_TWILIO_AUTH_TOKEN", "t"),
            ("CAREKEY_TWILIO_FROM", "+15035550100"),
        ];
        let countries = |extra: &[(&str, &str)]| {
            let mut env = twilio.to_vec();
            env.extend_from_slice(extra);
            with_env(&env).map(|c| c.twilio.unwrap().allowed_countries)
        };
        assert_eq!(countries(&[]).unwrap(), ["US"]);
        assert_eq!(
            countries(&[("CAREKEY_CLINIC_REGION", "CA")]).unwrap(),
            ["CA"]
        );
        assert_eq!(
            countries(&[
                ("CAREKEY_CLINIC_REGION", "GB"),
                ("CAREKEY_TWILIO_ALLOWED_COUNTRIES", "gb, ie,GB, pr")
            ])
            .unwrap(),
            ["GB", "IE", "PR"]
        );
        assert_eq!(
            countries(&[("CAREKEY_TWILIO_ALLOWED_COUNTRIES", "US,")]).unwrap(),
            ["US"]
        );
        for bad in ["UK", "", " , "] {
            let e = countries(&[("CAREKEY_TWILIO_ALLOWED_COUNTRIES", bad)]).unwrap_err();
            assert!(
                e.to_string().contains("twilio.allowed_countries = "),
                "{bad:?}: {e}"
            );
        }
    }

    #[test]
    fn delivery_lease_has_a_default_and_bounds() {
        assert_eq!(
            with_env(&[]).unwrap().delivery_lease,
            Duration::from_secs(120)
        );
        let c = with_env(&[("CAREKEY_DELIVERY_LEASE_SECONDS", "2")]).unwrap();
        assert_eq!(c.delivery_lease, Duration::from_secs(2));
        for bad in ["1", "601", "soon"] {
            let e = with_env(&[("CAREKEY_DELIVERY_LEASE_SECONDS", bad)]).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!(
                    "configuration error: delivery.lease_seconds = \"{bad}\" (from \
                     CAREKEY_DELIVERY_LEASE_SECONDS) is not allowed: a whole number of seconds \
                     from 2 to 600"
                )
            );
        }
    }

    #[test]
    fn metrics_have_an_address_of_their_own_and_logs_a_format() {
        let c = with_env(&[]).unwrap();
        assert_eq!(c.metrics_bind, Some("127.0.0.1:9464".parse().unwrap()));
        assert_eq!(c.log_format, LogFormat::Text);
        for off in ["off", "", "OFF"] {
            let c = with_env(&[("CAREKEY_METRICS_BIND", off)]).unwrap();
            assert_eq!(c.metrics_bind, None, "{off:?}");
        }
        let c = with_env(&[
            ("CAREKEY_METRICS_BIND", "0.0.0.0:9100"),
            ("CAREKEY_LOG_FORMAT", "JSON"),
        ])
        .unwrap();
        assert_eq!(c.metrics_bind, Some("0.0.0.0:9100".parse().unwrap()));
        assert_eq!(c.log_format, LogFormat::Json);
        // The portal's own address, or one that would share its port, is refused by name.
        for same in ["127.0.0.1:3000", "0.0.0.0:3000"] {
            let e = with_env(&[("CAREKEY_METRICS_BIND", same)]).unwrap_err();
            assert!(
                e.to_string().starts_with(&format!(
                    "configuration error: metrics.bind = \"{same}\" (from CAREKEY_METRICS_BIND) \
                     is not allowed: an address and port of its own"
                )),
                "{e}"
            );
        }
        let e = with_env(&[("CAREKEY_METRICS_BIND", "9464")]).unwrap_err();
        assert!(e.to_string().contains("metrics.bind"), "{e}");
        let e = with_env(&[("CAREKEY_LOG_FORMAT", "xml")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "configuration error: log.format = \"xml\" (from CAREKEY_LOG_FORMAT) is not \
             allowed: text or json"
        );
    }

    #[test]
    fn warning_must_come_before_logoff() {
        let e = with_env(&[
            ("CAREKEY_SESSION_IDLE_MINUTES", "1"),
            ("CAREKEY_SESSION_WARNING_SECONDS", "90"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("session.warning_seconds"), "{e}");
    }

    fn key_of(e: ConfigError) -> String {
        match e {
            ConfigError::Invalid { key, .. } => key,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn https_needs_both_files_and_an_https_origin() {
        let both = [
            ("CAREKEY_TLS_CERT_FILE", "/etc/carekey/tls.crt"),
            ("CAREKEY_TLS_KEY_FILE", "/etc/carekey/tls.key"),
            ("CAREKEY_PUBLIC_URL", "https://portal.clinic.example"),
            ("CAREKEY_TLS_REDIRECT_BIND", "0.0.0.0:80"),
        ];
        let tls = with_env(&both).unwrap().tls.unwrap();
        assert_eq!(tls.cert_file, PathBuf::from("/etc/carekey/tls.crt"));
        assert_eq!(tls.redirect_bind, Some("0.0.0.0:80".parse().unwrap()));

        assert_eq!(key_of(with_env(&both[..1]).unwrap_err()), "tls.key_file");
        assert_eq!(key_of(with_env(&both[1..2]).unwrap_err()), "tls.cert_file");
        let plain_origin = [
            both[0],
            both[1],
            ("CAREKEY_PUBLIC_URL", "http://127.0.0.1:3000"),
        ];
        assert_eq!(key_of(with_env(&plain_origin).unwrap_err()), "public_url");
        let bad_redirect = [
            both[0],
            both[1],
            both[2],
            ("CAREKEY_TLS_REDIRECT_BIND", "80"),
        ];
        assert_eq!(
            key_of(with_env(&bad_redirect).unwrap_err()),
            "tls.redirect_bind"
        );
        assert_eq!(
            key_of(with_env(&both[3..]).unwrap_err()),
            "tls.redirect_bind",
            "a redirect without HTTPS would loop"
        );
    }

    #[test]
    fn no_tls_and_the_built_in_apps_by_default() {
        let cfg = with_env(&[]).unwrap();
        assert!(cfg.tls.is_none());
        assert!(cfg.dist_dir.as_os_str().is_empty());
    }

    #[test]
    fn development_mode_stays_on_this_machine() {
        let dev = ("CAREKEY_DEV_MODE", "true");
        assert!(with_env(&[dev]).unwrap().dev_mode);
        assert!(with_env(&[dev, ("CAREKEY_BIND", "[::1]:3000")]).is_ok());
        assert_eq!(
            key_of(with_env(&[dev, ("CAREKEY_BIND", "0.0.0.0:3000")]).unwrap_err()),
            "dev_mode"
        );
        assert_eq!(
            key_of(
                with_env(&[dev, ("CAREKEY_PUBLIC_URL", "https://portal.clinic.example")])
                    .unwrap_err()
            ),
            "dev_mode"
        );
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks_and_the_old_switch_says_so() {
        let cfg = with_env(&[(
            "CAREKEY_HTTP_TRUSTED_PROXIES",
            r#"["10.0.0.0/8", "127.0.0.1", "::1"]"#,
        )])
        .unwrap();
        assert!(cfg.is_trusted_proxy("10.1.2.3".parse().unwrap()));
        assert!(cfg.is_trusted_proxy("127.0.0.1".parse().unwrap()));
        assert!(cfg.is_trusted_proxy("::ffff:127.0.0.1".parse().unwrap()));
        assert!(cfg.is_trusted_proxy("::1".parse().unwrap()));
        assert!(!cfg.is_trusted_proxy("192.0.2.7".parse().unwrap()));
        let plain =
            with_env(&[("CAREKEY_HTTP_TRUSTED_PROXIES", "127.0.0.1, 192.168.1.0/24")]).unwrap();
        assert_eq!(plain.trusted_proxies.len(), 2);
        assert!(with_env(&[]).unwrap().trusted_proxies.is_empty());
        assert_eq!(
            key_of(with_env(&[("CAREKEY_HTTP_TRUSTED_PROXIES", "proxy.local")]).unwrap_err()),
            "http.trusted_proxies"
        );
        assert_eq!(
            key_of(with_env(&[("CAREKEY_HTTP_TRUST_FORWARDED_FOR", "true")]).unwrap_err()),
            "http.trust_forwarded_for"
        );
    }
}
