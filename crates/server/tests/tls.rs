//! HTTPS without a proxy, as a clinic runs it: the real `carekey serve` with a certificate the
//! test makes, a real TLS client that trusts only that certificate's issuer, the plain-HTTP
//! redirect, and a renewed certificate served after SIGHUP without a restart.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("carekey-tls-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A certificate authority of the test's own, and a server certificate for `localhost` that
/// it signed, written to `cert` and `key`. Returns the authority's certificate (PEM), the only
/// root the client will trust.
fn issue(cert: &Path, key: &Path) -> String {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "CareKey test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let server_key = rcgen::KeyPair::generate().unwrap();
    let server = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    std::fs::write(cert, server.pem()).unwrap();
    std::fs::write(key, server_key.serialize_pem()).unwrap();
    ca_cert.pem()
}

struct Serving {
    child: Child,
    https: u16,
    http: u16,
    dir: PathBuf,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Serving {
    fn origin(&self) -> String {
        format!("https://localhost:{}", self.https)
    }
}

/// `carekey serve` over HTTPS on SQLite with the demo accounts, its certificate issued by a
/// fresh authority (returned as PEM).
fn serve(tag: &str) -> (Serving, String) {
    let dir = temp_dir(tag);
    let (cert, key) = (dir.join("tls.crt"), dir.join("tls.key"));
    let ca = issue(&cert, &key);
    let (https, http) = (free_port(), free_port());
    let command = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_carekey"));
        c.args(args)
            .current_dir(&dir)
            .env_remove("DATABASE_URL")
            .env("CAREKEY_DATA_DIR", dir.join("data"))
            .env("CAREKEY_BIND", format!("127.0.0.1:{https}"))
            .env("CAREKEY_PUBLIC_URL", format!("https://localhost:{https}"))
            .env("CAREKEY_TLS_CERT_FILE", &cert)
            .env("CAREKEY_TLS_KEY_FILE", &key)
            .env("CAREKEY_TLS_REDIRECT_BIND", format!("127.0.0.1:{http}"))
            .env("RUST_LOG", "carekey_server=info,warn");
        c
    };
    // The demo accounts need development mode, which refuses an https origin: they are loaded
    // by a plain-HTTP configuration of the same database, and the server runs without it.
    let demo = command(&["demo-data"])
        .env("CAREKEY_DEV_MODE", "true")
        .env("CAREKEY_PUBLIC_URL", "http://127.0.0.1:3000")
        .env_remove("CAREKEY_TLS_CERT_FILE")
        .env_remove("CAREKEY_TLS_KEY_FILE")
        .env_remove("CAREKEY_TLS_REDIRECT_BIND")
        .output()
        .unwrap();
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let child = command(&["serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (
        Serving {
            child,
            https,
            http,
            dir,
        },
        ca,
    )
}

/// A client that trusts only `ca_pem` (not the system's roots) and resolves `localhost` to
/// 127.0.0.1, so the certificate's name is checked as a browser would check it.
fn client(ca_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .resolve("localhost", "127.0.0.1:0".parse().unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn wait_ready(http: &reqwest::Client, s: &Serving) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(format!("{}/readyz", s.origin())).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "carekey serve never became ready"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_signs_in_over_https_with_the_host_cookie() {
    let (s, ca) = serve("signin");
    let http = client(&ca);
    wait_ready(&http, &s).await;
    let res = http
        .post(format!("{}/api/sign_in", s.origin()))
        .header("origin", s.origin())
        .form(&[
            ("portal", "Patient"),
            ("identifier", "maria"),
            ("password", "sunflower-teapot-harbor"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.version(), reqwest::Version::HTTP_11);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("__Host-carekey_session="))
        .expect("the session cookie is __Host- prefixed over https")
        .to_owned();
    assert!(
        cookie.contains("Secure") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Domain="), "{cookie}");
    assert!(
        res.headers()
            .get("strict-transport-security")
            .is_some_and(|v| v.to_str().unwrap().contains("max-age=")),
        "HSTS on every https answer"
    );
    // The session works on the next request, as a browser would send it back.
    let token = cookie.split(';').next().unwrap();
    let me = http
        .post(format!("{}/api/whoami", s.origin()))
        .header("origin", s.origin())
        .header("cookie", token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200, "{}", me.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_is_sent_to_the_https_origin_and_never_elsewhere() {
    let (s, ca) = serve("redirect");
    wait_ready(&client(&ca), &s).await;
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = plain
        .get(format!(
            "http://127.0.0.1:{}/reset-password?from=letter",
            s.http
        ))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 308);
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!("{}/reset-password?from=letter", s.origin())
    );
    // The HTTPS port itself does not answer plain HTTP.
    let refused = plain
        .get(format!("http://127.0.0.1:{}/readyz", s.https))
        .send()
        .await;
    assert!(
        refused.is_err() || refused.unwrap().status() != 200,
        "plain HTTP on the HTTPS port"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_certificate_is_served_after_sighup_without_a_restart() {
    let (s, old_ca) = serve("reload");
    let old = client(&old_ca);
    wait_ready(&old, &s).await;
    let pid = s.child.id();
    // A renewal from a different authority: a client trusting only the new one tells which
    // certificate the server presents.
    let new_ca = issue(&s.dir.join("tls.crt"), &s.dir.join("tls.key"));
    let new = client(&new_ca);
    assert!(
        new.get(format!("{}/readyz", s.origin()))
            .send()
            .await
            .is_err(),
        "the old certificate is served until the reload"
    );
    let hup = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = new.get(format!("{}/readyz", s.origin())).send().await {
            assert_eq!(r.status(), 200);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the renewed certificate was never served"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The connection `old` opened before the reload is still open and still answers: a client
    // that trusts only the old authority could not have made a new one.
    let kept = old
        .get(format!("{}/readyz", s.origin()))
        .send()
        .await
        .expect("the connection opened before the reload was dropped");
    assert_eq!(kept.status(), 200);
    // Same process: the reload was not a restart.
    assert_eq!(s.child.id(), pid);
    assert!(
        Command::new("kill")
            .args(["-0", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    // A broken renewal (key of another certificate) leaves the working one in service.
    let (_, stray_key) = (s.dir.join("x.crt"), s.dir.join("x.key"));
    issue(&s.dir.join("x.crt"), &stray_key);
    std::fs::copy(&stray_key, s.dir.join("tls.key")).unwrap();
    Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let r = new
        .get(format!("{}/readyz", s.origin()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// `systemctl reload` on a server without TLS: SIGHUP must not end it (systemd would count
/// that as a clean exit and not restart it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_http_server_survives_sighup() {
    let dir = temp_dir("plainhup");
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_carekey"))
        .arg("serve")
        .current_dir(&dir)
        .env_remove("DATABASE_URL")
        .env("CAREKEY_DATA_DIR", dir.join("data"))
        .env("CAREKEY_BIND", format!("127.0.0.1:{port}"))
        .env("CAREKEY_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/readyz");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !http.get(&url).send().await.is_ok_and(|r| r.status() == 200) {
        assert!(Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for _ in 0..2 {
        let hup = Command::new("kill")
            .args(["-HUP", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(hup.success());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGHUP ended the server"
    );
    assert_eq!(http.get(&url).send().await.unwrap().status(), 200);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
