//! The browser half of a passkey ceremony (issue 12), through WebAuthn Level 3's JSON methods:
//! the server's options go to `PublicKeyCredential.parse…OptionsFromJSON` as they came, and
//! the credential comes back through its own `toJSON()`. Reached through `js_sys::Reflect`, so
//! the apps carry no WebAuthn types and no web-sys features for them (the first page's bundle
//! stays within its budget).

use js_sys::{Function, JSON, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Why a ceremony gave no credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasskeyError {
    /// This browser has no passkeys (or not the JSON methods): the password form is all.
    Unsupported,
    /// The person closed the browser's window, or no passkey was chosen in time.
    Cancelled,
    /// The browser or authenticator refused (for example a passkey already on the account).
    Failed,
}

fn prop(o: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(o, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn method(o: &JsValue, key: &str) -> Option<Function> {
    prop(o, key).and_then(|f| f.dyn_into::<Function>().ok())
}

fn credential_class() -> Option<JsValue> {
    prop(&js_sys::global(), "PublicKeyCredential")
}

/// Whether this browser can make and use passkeys the way these pages ask (Chrome 129,
/// Safari 18.4, Firefox 119 and later).
pub fn supported() -> bool {
    // The server draws the sign-in page before any browser is known: it draws the passkey
    // button as most browsers will keep it, so the app's first frame does not move the page.
    if cfg!(not(target_arch = "wasm32")) {
        return true;
    }
    credential_class().is_some_and(|c| {
        method(&c, "parseCreationOptionsFromJSON").is_some()
            && method(&c, "parseRequestOptionsFromJSON").is_some()
    })
}

/// Whether the username field's autofill can offer passkeys (conditional mediation).
pub async fn autofill_available() -> bool {
    if !supported() {
        return false;
    }
    let Some(c) = credential_class() else {
        return false;
    };
    let Some(f) = method(&c, "isConditionalMediationAvailable") else {
        return false;
    };
    let Ok(p) = f.call0(&c).and_then(|p| p.dyn_into::<Promise>()) else {
        return false;
    };
    JsFuture::from(p)
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// Cancels a ceremony still waiting (the autofill's, before a button starts another: a
/// browser runs one at a time).
pub struct Abort(JsValue);

impl Abort {
    pub fn new() -> Option<Abort> {
        let class = prop(&js_sys::global(), "AbortController")?
            .dyn_into::<Function>()
            .ok()?;
        Reflect::construct(&class, &js_sys::Array::new())
            .ok()
            .map(Abort)
    }

    pub fn signal(&self) -> Option<JsValue> {
        prop(&self.0, "signal")
    }

    pub fn abort(&self) {
        if let Some(f) = method(&self.0, "abort") {
            let _ = f.call0(&self.0);
        }
    }
}

/// Whether an `Abort`'s signal has fired (the request it was for was called off).
pub fn aborted(signal: Option<&JsValue>) -> bool {
    signal
        .and_then(|s| prop(s, "aborted"))
        .and_then(|a| a.as_bool())
        .unwrap_or(false)
}

#[derive(Clone, Copy)]
enum Ceremony {
    Create,
    Get { autofill: bool },
}

async fn run(
    ceremony: Ceremony,
    options: &str,
    signal: Option<JsValue>,
) -> Result<String, PasskeyError> {
    let class = credential_class().ok_or(PasskeyError::Unsupported)?;
    let (parse, call) = match ceremony {
        Ceremony::Create => ("parseCreationOptionsFromJSON", "create"),
        Ceremony::Get { .. } => ("parseRequestOptionsFromJSON", "get"),
    };
    let parse = method(&class, parse).ok_or(PasskeyError::Unsupported)?;
    let wrapped = JSON::parse(options).map_err(|_| PasskeyError::Failed)?;
    let public_key = prop(&wrapped, "publicKey").ok_or(PasskeyError::Failed)?;
    let public_key = parse
        .call1(&class, &public_key)
        .map_err(|_| PasskeyError::Failed)?;
    let request = Object::new();
    let set = |k: &str, v: &JsValue| Reflect::set(&request, &JsValue::from_str(k), v).is_ok();
    let mut ok = set("publicKey", &public_key);
    if let Ceremony::Get { autofill: true } = ceremony {
        ok &= set("mediation", &JsValue::from_str("conditional"));
    }
    if let Some(signal) = signal {
        ok &= set("signal", &signal);
    }
    if !ok {
        return Err(PasskeyError::Failed);
    }
    let navigator: JsValue = web_sys::window()
        .ok_or(PasskeyError::Unsupported)?
        .navigator()
        .into();
    let credentials = prop(&navigator, "credentials").ok_or(PasskeyError::Unsupported)?;
    let start = method(&credentials, call).ok_or(PasskeyError::Unsupported)?;
    let promise = start
        .call1(&credentials, &request)
        .and_then(|p| p.dyn_into::<Promise>())
        .map_err(|_| PasskeyError::Failed)?;
    let credential = JsFuture::from(promise).await.map_err(|e| {
        // The person said no, closed the window, or let it time out: not a failure of theirs.
        match prop(&e, "name").and_then(|n| n.as_string()).as_deref() {
            Some("NotAllowedError" | "AbortError") => PasskeyError::Cancelled,
            _ => PasskeyError::Failed,
        }
    })?;
    if credential.is_null() || credential.is_undefined() {
        return Err(PasskeyError::Cancelled);
    }
    let to_json = method(&credential, "toJSON").ok_or(PasskeyError::Unsupported)?;
    let json = to_json
        .call0(&credential)
        .map_err(|_| PasskeyError::Failed)?;
    JSON::stringify(&json)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or(PasskeyError::Failed)
}

/// Makes a passkey with the server's creation options; the credential's JSON text.
pub async fn create(options: &str) -> Result<String, PasskeyError> {
    run(Ceremony::Create, options, None).await
}

/// Signs with a passkey the person picks (`autofill`: from the username field's suggestions,
/// waiting until they pick one; otherwise in the browser's own window). `signal`: an
/// `Abort`'s, to cancel it.
pub async fn get(
    options: &str,
    autofill: bool,
    signal: Option<JsValue>,
) -> Result<String, PasskeyError> {
    run(Ceremony::Get { autofill }, options, signal).await
}
