//! `carekey`: serve the portal, run migrations, load demo data, create the first administrator,
//! back up and restore.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use carekey_server::backup::{self, ServingLock};
use carekey_server::clock::SystemClock;
use carekey_server::config::{self, Config, LogFormat};
use carekey_server::domain::accounts::NewAccount;
use carekey_server::domain::audit::{self, AuditKey, Verification};
use carekey_server::domain::patients::RowOutcome;
use carekey_server::domain::secrets::ServerKey;
use carekey_server::domain::{ClientMeta, DomainError};
use carekey_server::store::entities::account;
use carekey_server::{app, check, demo, store, telemetry};

#[derive(Parser)]
#[command(
    name = "carekey",
    version,
    about = "Patient-portal sign-in and credential recovery"
)]
struct Cli {
    /// Configuration file (default: ./carekey.toml if present; or CAREKEY_CONFIG).
    #[arg(long, global = true, env = "CAREKEY_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (migrations run first).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Test what the configuration names (database, server key, public address, email relay,
    /// text and call settings, built apps) without changing or sending anything: one line per
    /// item, and a non-zero exit if any failed.
    Check,
    /// Add the demonstration patients and staff (development only: needs dev_mode = true).
    DemoData,
    /// Create an administrator. The password is prompted for, or read from standard input
    /// when it is not a terminal; never from the command line, where `ps` would show it.
    CreateAdmin {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: Option<String>,
    },
    /// Add the patients in a CSV file (columns: mrn, first_name, last_name, date_of_birth, zip,
    /// and optionally email, phone, phone_type = mobile | landline). Prints what became of
    /// each row; patients already on file (same MRN) are left as they are, so a second run
    /// adds nobody twice.
    ImportPatients { file: PathBuf },
    /// Copy the database to FILE (SQLite: a consistent copy while the server runs, readable by
    /// this user only, its audit chain checked; PostgreSQL: prints the pg_dump command). The
    /// key file (secret_key_file) is not in it: back that up separately.
    Backup { file: PathBuf },
    /// Put a backup in place of the database (SQLite; PostgreSQL: prints the pg_restore
    /// command), migrate it and check its audit chain. Stop the server first.
    Restore {
        file: PathBuf,
        /// Replace a database that already holds accounts.
        #[arg(long)]
        force: bool,
        /// A backup made before the audit key (an older CareKey): chain its audit trail under
        /// the key. Only for a file you trust: its old chain is unkeyed.
        #[arg(long)]
        adopt_unkeyed_audit: bool,
    },
    /// Measure this machine's password hashing at CareKey's parameters (argon2id, 19 MiB, two
    /// passes): milliseconds per hash on one core, and hashes a second on every core, which is
    /// about how many password sign-ins a second the server can check; and the portable code's
    /// time beside it. Needs no configuration. Takes three times SECONDS.
    BenchHashing {
        /// Seconds for each of the two measurements.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
    /// The audit trail (SECURITY.md S7).
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every audit row under the audit key (audit_key_file) and against the chain's
    /// head: prints the head to keep, and exits non-zero if a row was altered, deleted or
    /// cut off. Read-only; safe while the server runs.
    Verify {
        /// A head printed by an earlier run (SEQ:MAC): also proves the trail was not rewound
        /// to before it.
        #[arg(long)]
        anchor: Option<audit::Anchor>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::BenchHashing { seconds } = cli.command {
        return match bench_hashing(seconds) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        };
    }
    let explicit = cli.config.is_some();
    let file = cli.config.unwrap_or_else(|| PathBuf::from("carekey.toml"));
    let cfg = match config::load(Some(&file), explicit, &|k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    // After the configuration, which says how lines are written (`log.format`); a bad
    // configuration is reported on stderr above, before any logging.
    telemetry::init_logging(cfg.log_format);
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli.command, cfg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("{msg}");
            ExitCode::FAILURE
        }
    }
}

fn bench_hashing(seconds: u64) -> Result<(), String> {
    use carekey_server::domain::rules::hashing;
    let each = std::time::Duration::from_secs(seconds.clamp(1, 600));
    let s = hashing::measure(each).map_err(|e| e.to_string())?;
    println!(
        "argon2id m={} KiB t={} p={} ({}):",
        hashing::M_COST_KIB,
        hashing::T_COST,
        hashing::P_COST,
        s.code
    );
    println!(
        "  one core:  {:.2} ms per hash, {:.1} hashes/s",
        s.one_core_ms, s.one_core_per_s
    );
    println!(
        "  {} cores:   {:.1} hashes/s ({:.1} per core)",
        s.cores,
        s.all_cores_per_s,
        s.all_cores_per_s / s.cores as f64
    );
    println!(
        "  for comparison, the argon2 crate's portable code on one core: {:.2} ms per hash",
        s.portable_one_core_ms
    );
    println!(
        "RESULT one_core_ms={:.2} one_core_per_s={:.1} all_cores_per_s={:.1} cores={} portable_one_core_ms={:.2}",
        s.one_core_ms, s.one_core_per_s, s.all_cores_per_s, s.cores, s.portable_one_core_ms
    );
    Ok(())
}

async fn run(command: Command, cfg: Config) -> Result<(), String> {
    match command {
        Command::Serve => {
            let bind = cfg.bind;
            let public = cfg.public_url.clone();
            let db = store::redact(&cfg.database_url);
            let dev = cfg.dev_mode;
            let apps = carekey_server::http::apps::Apps::from_config(&cfg.dist_dir);
            // A certificate that does not load stops the start, naming the file: serving
            // plain HTTP instead would send patients' passwords in the clear.
            let tls = match &cfg.tls {
                Some(t) => Some(carekey_server::tls::load(t).map_err(|e| format!("tls: {e}"))?),
                None => None,
            };
            let redirect = cfg.tls.as_ref().and_then(|t| t.redirect_bind);
            // An https origin served as plain HTTP means a proxy ends TLS in front; unless it
            // is trusted, every patient then shares the proxy's address and its limits.
            if cfg.is_https() && cfg.tls.is_none() && cfg.trusted_proxies.is_empty() {
                tracing::warn!(
                    "public_url is https but this server speaks plain HTTP and trusts no proxy: \
                     if a proxy ends TLS in front, set http.trusted_proxies to its address, or \
                     every patient shares its address (and its per-address limits)"
                );
            }
            let metrics_bind = cfg.metrics_bind;
            let json_logs = cfg.log_format == LogFormat::Json;
            // Held until the process ends: `carekey restore` refuses while it is.
            let _serving = ServingLock::acquire(&cfg).map_err(|e| e.to_string())?;
            let services = app::services(cfg, Arc::new(SystemClock))
                .await
                .map_err(|e| e.to_string())?;
            let listener = app::bind(bind).await.map_err(|e| e.to_string())?;
            let metrics = app::metrics_listener(metrics_bind).await;
            let metrics_url = metrics
                .as_ref()
                .map(|m| format!("http://{}/metrics", m.addr()));
            let redirect_line = redirect.map(|addr| format!("http://{addr} → {public}"));
            if json_logs {
                // Log shippers read stdout line by line: the banner is a log line too.
                tracing::info!(
                    patient_portal = %format!("{public}/"),
                    staff_console = %format!("{public}/staff"),
                    database = %db,
                    browser_apps = %apps.describe(),
                    http_redirect = redirect_line.as_deref().unwrap_or("off"),
                    metrics = metrics_url.as_deref().unwrap_or("off"),
                    dev_mode = dev,
                    "CareKey is running"
                );
            } else {
                println!("CareKey is running.");
                println!("  Patient portal: {public}/");
                println!("  Staff console:  {public}/staff");
                println!("  Database:       {db}");
                println!("  Browser apps:   {}", apps.describe());
                if let Some(line) = &redirect_line {
                    println!("  HTTP redirect:  {line}");
                }
                if let Some(url) = &metrics_url {
                    println!("  Metrics:        {url}");
                }
                if dev {
                    println!("  Development mode: on (never use in a clinic)");
                }
            }
            let missing = apps.missing();
            if !missing.is_empty() {
                tracing::warn!(
                    from = %apps.describe(),
                    missing = %missing.join(", "),
                    "browser apps missing: visitors get 404 (build them with scripts/build-client.sh before the release build, or set dist_dir)"
                );
            }
            // Serves until dropped, with the main server.
            let _metrics = metrics.map(|m| m.spawn(services.clone()));
            match tls {
                Some(tls) => {
                    app::serve_https(listener, services, tls, app::shutdown_signal()).await
                }
                None => app::serve(listener, services, app::shutdown_signal()).await,
            }
            .map_err(|e| e.to_string())
        }
        Command::Migrate => {
            let db = store::connect(&cfg.database_url)
                .await
                .map_err(|e| e.to_string())?;
            store::migrate(&db).await.map_err(|e| e.to_string())?;
            println!("Migrations applied to {}", store::redact(&cfg.database_url));
            Ok(())
        }
        Command::Check => {
            let lines = check::run(&cfg).await;
            for line in &lines {
                println!("{line}");
            }
            let failed = lines
                .iter()
                .filter(|l| matches!(l.outcome, check::Outcome::Failed(_)))
                .count();
            if failed == 0 {
                println!("All checks passed.");
                Ok(())
            } else {
                Err(format!("{failed} check(s) failed."))
            }
        }
        Command::DemoData => {
            if !cfg.dev_mode {
                return Err(
                    "demo-data only runs with dev_mode = true (CAREKEY_DEV_MODE=true): \
                            it creates accounts with published passwords"
                        .into(),
                );
            }
            let cfg_staff_required = cfg.mfa.staff == config::MfaPolicy::Required;
            let services = app::services(cfg, Arc::new(SystemClock))
                .await
                .map_err(|e| e.to_string())?;
            let added = demo::load(&services).await.map_err(|e| e.to_string())?;
            println!("Demo data ready ({added} accounts added). Demo accounts:");
            for d in demo::ACCOUNTS {
                println!(
                    "  {:<8} {:<10} {:<26} {}",
                    d.kind, d.username, d.password, d.note
                );
            }
            println!(
                "Two-step demo ({}): authenticator key {} (6 digits, 30 s); recovery codes {}",
                demo::TWO_STEP_USERNAME,
                demo::two_step_key(),
                demo::two_step_codes().join(" ")
            );
            if cfg_staff_required {
                println!(
                    "Staff: this clinic requires a second step of staff (mfa.staff = required): \
                     at their first sign-in each staff account adds an authenticator app \
                     (any TOTP app on a phone; the page shows a QR code and the key)."
                );
            }
            Ok(())
        }
        Command::ImportPatients { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let services = app::services(cfg, Arc::new(SystemClock))
                .await
                .map_err(|e| e.to_string())?;
            let meta = ClientMeta {
                ip: "127.0.0.1".into(),
                user_agent: "carekey import-patients".into(),
                flow: None,
            };
            let outcomes = services
                .import_patients(&text, &meta)
                .await
                .map_err(|e| e.to_string())?;
            let (mut imported, mut skipped, mut refused) = (0, 0, 0);
            for (i, o) in outcomes.iter().enumerate() {
                // Row 1 is the header, so data rows are numbered as a spreadsheet shows them.
                let row = i + 2;
                match o {
                    RowOutcome::Imported => {
                        imported += 1;
                        println!("row {row}: imported");
                    }
                    RowOutcome::AlreadyOnFile => {
                        skipped += 1;
                        println!("row {row}: already on file (same MRN), left as it was");
                    }
                    RowOutcome::Refused(fields) => {
                        refused += 1;
                        println!("row {row}: refused, check: {}", fields.join(", "));
                    }
                }
            }
            println!("{imported} imported, {skipped} already on file, {refused} refused");
            Ok(())
        }
        Command::Backup { file } => {
            let done = backup::backup(&cfg, &file)
                .await
                .map_err(|e| e.to_string())?;
            println!("{done}");
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Verify { anchor },
        } => verify_audit(&cfg, anchor.as_ref()).await,
        // Runs in `main`, before any configuration is read.
        Command::BenchHashing { seconds } => bench_hashing(seconds),
        Command::Restore {
            file,
            force,
            adopt_unkeyed_audit,
        } => {
            let done = backup::restore(&cfg, &file, force, adopt_unkeyed_audit)
                .await
                .map_err(|e| e.to_string())?;
            println!("{done}");
            Ok(())
        }
        Command::CreateAdmin { username, email } => {
            let password = read_password()?;
            let services = app::services(cfg, Arc::new(SystemClock))
                .await
                .map_err(|e| e.to_string())?;
            let meta = ClientMeta {
                ip: "local".into(),
                user_agent: "carekey create-admin".into(),
                flow: None,
            };
            let account = NewAccount {
                kind: account::Kind::Admin,
                display_name: username.clone(),
                username,
                patient_id: None,
                email,
                must_change_password: false,
            };
            match services
                .create_account(account, &password, None, &meta)
                .await
            {
                Ok(a) => {
                    println!("Administrator {} created.", a.username);
                    Ok(())
                }
                Err(DomainError::PasswordRejected(issues)) => Err(format!(
                    "That password does not meet the policy ({issues:?}). Use at least {} characters.",
                    services.cfg.password_min_length
                )),
                Err(e) => Err(e.to_string()),
            }
        }
    }
}

fn read_password() -> Result<String, String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New administrator password: ")
            .map_err(|e| e.to_string())?;
        let again = rpassword::prompt_password("Repeat it: ").map_err(|e| e.to_string())?;
        if first != again {
            return Err("The two passwords differ; nothing was created.".into());
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

/// `carekey audit verify`: the key is read, never created (a new key would verify nothing).
async fn verify_audit(cfg: &Config, anchor: Option<&audit::Anchor>) -> Result<(), String> {
    let key = match ServerKey::read(&cfg.audit_key_file).map_err(|e| e.to_string())? {
        Some(k) => AuditKey::new(k),
        None => {
            return Err(format!(
                "no audit key at {} (audit_key_file): the trail cannot be checked without the \
                 key it was written with",
                cfg.audit_key_file.display()
            ));
        }
    };
    // Read as it is: no migration (a live database under another version is not touched),
    // and no SQLite file made where none is (an empty one would "verify").
    if let Some(p) = store::sqlite_path(&cfg.database_url)
        && !p.exists()
    {
        return Err(format!("there is no database at {}", p.display()));
    }
    let db = store::connect(&cfg.database_url)
        .await
        .map_err(|e| e.to_string())?;
    let read_err = |e: sea_orm::DbErr| {
        format!("cannot read the audit trail (is the database migrated to this version?): {e}")
    };
    if !audit::is_keyed(&db).await.map_err(read_err)? {
        let v = audit::verify_any(&db, &key).await.map_err(read_err)?;
        return match v {
            Verification::Intact { rows, .. } => Err(format!(
                "The audit trail ({rows} rows) is not yet chained under the audit key; as it \
                 was chained before, it is whole. Only the start that creates a key file brings \
                 a trail under it: with this key file already in place the server will not \
                 re-chain it (that could launder a rewritten trail). Take a backup and restore \
                 it with `carekey restore --adopt-unkeyed-audit`, which checks it first."
            )),
            Verification::Broken { at_seq, damage, .. } => Err(format!(
                "Audit trail (not yet under the audit key) DAMAGED at row {at_seq}: {}.",
                damage.describe()
            )),
        };
    }
    match audit::verify(&db, &key, anchor).await.map_err(read_err)? {
        Verification::Intact {
            rows,
            head_seq,
            head_mac,
        } => {
            println!("Audit trail intact: {rows} rows, each checked under the audit key.");
            if let Some(a) = anchor {
                println!("The checkpoint at row {} is in it as recorded.", a.seq);
            }
            println!("Head: {head_seq}:{head_mac}");
            println!(
                "Keep the head line elsewhere: `carekey audit verify --anchor <head>` later \
                 proves the trail was not cut back to before it."
            );
            Ok(())
        }
        Verification::Broken {
            at_seq,
            damage,
            head_seq,
        } => Err(format!(
            "Audit trail DAMAGED at row {at_seq}: {}. The chain head says {head_seq} rows.",
            damage.describe()
        )),
    }
}
