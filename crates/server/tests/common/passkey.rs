//! A software passkey for the HTTP tests: they need real, signed WebAuthn ceremonies (ES256,
//! "none" attestation) without a browser or a hardware authenticator. `SoftPasskey` reads the
//! options the server sends for `navigator.credentials.create` / `.get` and returns the JSON a
//! browser would post back, the output of Chromium's `PublicKeyCredential.prototype.toJSON()`.

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Reads base64url with or without padding; everything this module writes has none.
const B64URL_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

const FLAG_UP: u8 = 0x01;
const FLAG_UV: u8 = 0x04;
const FLAG_AT: u8 = 0x40;
/// COSE algorithm ES256 (ECDSA P-256 with SHA-256).
const ES256: i64 = -7;

pub struct SoftPasskey {
    cred_id: Vec<u8>,
    key: SigningKey,
    rp_id: String,
    user_handle: Vec<u8>,
    counter: u32,
    /// Sets the UV flag in authenticator data (true by default, as for a platform passkey).
    pub user_verified: bool,
}

impl SoftPasskey {
    /// `options` is the JSON the server sent for `navigator.credentials.create`, either wrapped as
    /// `{"publicKey": {...}}` or the inner object. Returns the authenticator and the JSON the
    /// browser would send (`credential.toJSON()`).
    pub fn register(options: &Value, origin: &str) -> (SoftPasskey, Value) {
        let options = unwrap_public_key(options);
        let rp_id = options["rp"]["id"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| host_of(origin));
        let user_handle = b64_decode(
            options["user"]["id"]
                .as_str()
                .expect("creation options without user.id"),
        );
        let challenge = options["challenge"]
            .as_str()
            .expect("creation options without challenge");
        if let Some(params) = options["pubKeyCredParams"].as_array() {
            assert!(
                params.iter().any(|p| p["alg"].as_i64() == Some(ES256)),
                "pubKeyCredParams does not offer ES256 (-7): {params:?}"
            );
        }

        let passkey = SoftPasskey {
            cred_id: random_bytes::<16>().to_vec(),
            key: random_signing_key(),
            rp_id,
            user_handle,
            counter: 0,
            user_verified: true,
        };

        let client_data = client_data_json("webauthn.create", challenge, origin);
        let auth_data = passkey.authenticator_data(true);
        let attestation_object = Cbor::Map(vec![
            (Cbor::text("fmt"), Cbor::text("none")),
            (Cbor::text("attStmt"), Cbor::Map(Vec::new())),
            (Cbor::text("authData"), Cbor::Bytes(auth_data.clone())),
        ])
        .encode();
        let spki = passkey
            .key
            .verifying_key()
            .to_public_key_der()
            .expect("SubjectPublicKeyInfo of a P-256 key");

        let id = passkey.credential_id_b64();
        let credential = json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(&client_data),
                "attestationObject": URL_SAFE_NO_PAD.encode(&attestation_object),
                "transports": ["internal"],
                "authenticatorData": URL_SAFE_NO_PAD.encode(&auth_data),
                "publicKeyAlgorithm": ES256,
                "publicKey": URL_SAFE_NO_PAD.encode(spki.as_bytes()),
            },
        });
        (passkey, credential)
    }

    /// `options` as sent for `navigator.credentials.get` (wrapped or not). None when the browser
    /// would find no credential: `rpId` names another relying party, or `allowCredentials` is
    /// non-empty and does not list this one. Each assertion counts one more signature.
    pub fn assert(&mut self, options: &Value, origin: &str) -> Option<Value> {
        let options = unwrap_public_key(options);
        let rp_id = options["rpId"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| host_of(origin));
        if rp_id != self.rp_id {
            return None;
        }
        if let Some(allowed) = options["allowCredentials"].as_array() {
            let listed = allowed.iter().any(|c| {
                c["id"]
                    .as_str()
                    .is_some_and(|id| b64_decode(id) == self.cred_id)
            });
            if !allowed.is_empty() && !listed {
                return None;
            }
        }
        let challenge = options["challenge"]
            .as_str()
            .expect("request options without challenge");

        self.counter += 1;
        let client_data = client_data_json("webauthn.get", challenge, origin);
        let auth_data = self.authenticator_data(false);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let signature: Signature = self.key.sign(&signed);

        let id = self.credential_id_b64();
        Some(json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(&client_data),
                "authenticatorData": URL_SAFE_NO_PAD.encode(&auth_data),
                "signature": URL_SAFE_NO_PAD.encode(signature.to_der().as_bytes()),
                "userHandle": URL_SAFE_NO_PAD.encode(&self.user_handle),
            },
        }))
    }

    pub fn credential_id_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.cred_id)
    }

    /// rpIdHash | flags | signCount, then on registration the attested credential data: AAGUID
    /// (zeros) | credential id length | credential id | COSE public key.
    fn authenticator_data(&self, attested: bool) -> Vec<u8> {
        let mut flags = FLAG_UP;
        if self.user_verified {
            flags |= FLAG_UV;
        }
        if attested {
            flags |= FLAG_AT;
        }
        let mut data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend_from_slice(&self.counter.to_be_bytes());
        if attested {
            data.extend_from_slice(&[0; 16]);
            let id_len = u16::try_from(self.cred_id.len()).expect("credential id length");
            data.extend_from_slice(&id_len.to_be_bytes());
            data.extend_from_slice(&self.cred_id);
            data.extend_from_slice(&self.cose_key());
        }
        data
    }

    /// COSE_Key {1 (kty): 2 (EC2), 3 (alg): -7 (ES256), -1 (crv): 1 (P-256), -2: x, -3: y}.
    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_encoded_point(false);
        // Uncompressed SEC1: 0x04 | x (32) | y (32).
        let (x, y) = point.as_bytes()[1..].split_at(32);
        Cbor::Map(vec![
            (Cbor::Int(1), Cbor::Int(2)),
            (Cbor::Int(3), Cbor::Int(ES256)),
            (Cbor::Int(-1), Cbor::Int(1)),
            (Cbor::Int(-2), Cbor::Bytes(x.to_vec())),
            (Cbor::Int(-3), Cbor::Bytes(y.to_vec())),
        ])
        .encode()
    }
}

/// The options object itself, whether or not it comes wrapped in `{"publicKey": ...}`.
fn unwrap_public_key(options: &Value) -> &Value {
    options.get("publicKey").unwrap_or(options)
}

/// clientDataJSON with Chromium's member order. The challenge is re-encoded from its bytes, as
/// the browser does after `parse*OptionsFromJSON`.
fn client_data_json(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
    let challenge = URL_SAFE_NO_PAD.encode(b64_decode(challenge));
    let origin = serde_json::to_string(origin).expect("JSON string");
    format!(
        r#"{{"type":"{kind}","challenge":"{challenge}","origin":{origin},"crossOrigin":false}}"#
    )
    .into_bytes()
}

/// The host of an origin such as `https://localhost:8443`, for a missing rp.id / rpId.
fn host_of(origin: &str) -> String {
    let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    let authority = authority.split('/').next().unwrap_or(authority);
    if let Some(bracketed) = authority.strip_prefix('[') {
        // An IPv6 literal: the host is everything up to the closing bracket.
        return bracketed.split(']').next().unwrap_or(bracketed).to_owned();
    }
    authority.split(':').next().unwrap_or(authority).to_owned()
}

fn b64_decode(s: &str) -> Vec<u8> {
    B64URL_LENIENT
        .decode(s)
        .unwrap_or_else(|e| panic!("not base64url: {s:?}: {e}"))
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    getrandom::fill(&mut bytes).expect("OS random numbers");
    bytes
}

/// A P-256 key from 32 random bytes; `from_slice` rejects zero and values not below the group
/// order, so draw again in that (astronomically unlikely) case.
fn random_signing_key() -> SigningKey {
    loop {
        if let Ok(key) = SigningKey::from_slice(&random_bytes::<32>()) {
            return key;
        }
    }
}

/// The few CBOR items WebAuthn needs (RFC 8949 definite-length encodings only).
enum Cbor {
    /// Major type 0 when non-negative, 1 when negative.
    Int(i64),
    /// Major type 2.
    Bytes(Vec<u8>),
    /// Major type 3.
    Text(String),
    /// Major type 5; entries are written in the order given.
    Map(Vec<(Cbor, Cbor)>),
}

impl Cbor {
    fn text(s: &str) -> Cbor {
        Cbor::Text(s.to_owned())
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Cbor::Int(n) if *n >= 0 => write_head(out, 0, n.unsigned_abs()),
            // -1 - n, computed without overflow for i64::MIN.
            Cbor::Int(n) => write_head(out, 1, !(*n as u64)),
            Cbor::Bytes(b) => {
                write_head(out, 2, b.len() as u64);
                out.extend_from_slice(b);
            }
            Cbor::Text(s) => {
                write_head(out, 3, s.len() as u64);
                out.extend_from_slice(s.as_bytes());
            }
            Cbor::Map(entries) => {
                write_head(out, 5, entries.len() as u64);
                for (key, value) in entries {
                    key.write(out);
                    value.write(out);
                }
            }
        }
    }
}

/// The initial byte (major type, additional info) and any following argument bytes, in the
/// shortest form.
fn write_head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let major = major << 5;
    if arg < 24 {
        out.push(major | arg as u8);
    } else if let Ok(a) = u8::try_from(arg) {
        out.extend_from_slice(&[major | 24, a]);
    } else if let Ok(a) = u16::try_from(arg) {
        out.push(major | 25);
        out.extend_from_slice(&a.to_be_bytes());
    } else if let Ok(a) = u32::try_from(arg) {
        out.push(major | 26);
        out.extend_from_slice(&a.to_be_bytes());
    } else {
        out.push(major | 27);
        out.extend_from_slice(&arg.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier;
    use p256::pkcs8::DecodePublicKey;

    fn b64(v: &Value) -> Vec<u8> {
        URL_SAFE_NO_PAD
            .decode(v.as_str().expect("a string"))
            .expect("base64url without padding")
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn cbor_known_encodings() {
        let bytes32 = format!("5820{}", "ab".repeat(32));
        let cases: Vec<(Cbor, &str)> = vec![
            (Cbor::Int(0), "00"),
            (Cbor::Int(23), "17"),
            (Cbor::Int(24), "1818"),
            (Cbor::Int(255), "18ff"),
            (Cbor::Int(256), "190100"),
            (Cbor::Int(65_536), "1a00010000"),
            (Cbor::Int(4_294_967_296), "1b0000000100000000"),
            (Cbor::Int(-1), "20"),
            (Cbor::Int(-7), "26"),
            (Cbor::Int(-24), "37"),
            (Cbor::Int(-25), "3818"),
            (Cbor::Int(-500), "3901f3"),
            (Cbor::Bytes(vec![]), "40"),
            (Cbor::Bytes(vec![0xab; 32]), &bytes32),
            (Cbor::text("fmt"), "63666d74"),
            (Cbor::Map(vec![]), "a0"),
            (
                Cbor::Map(vec![
                    (Cbor::Int(1), Cbor::Int(2)),
                    (Cbor::Int(3), Cbor::Int(-7)),
                ]),
                "a201020326",
            ),
        ];
        for (item, expected) in cases {
            assert_eq!(hex(&item.encode()), expected);
        }
    }

    #[test]
    fn registration_has_the_webauthn_layout() {
        let options = json!({"publicKey": {
            "rp": {"id": "localhost", "name": "CareKey"},
            "user": {"id": "AQID", "name": "a", "displayName": "A"},
            "challenge": "Y2hhbGxlbmdl",
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        }});
        let (passkey, cred) = SoftPasskey::register(&options, "https://localhost:8443");
        assert_eq!(passkey.user_handle, [1, 2, 3]);
        assert_eq!(cred["id"], passkey.credential_id_b64());
        assert_eq!(b64(&cred["rawId"]).len(), 16);

        let client_data = b64(&cred["response"]["clientDataJSON"]);
        assert_eq!(
            std::str::from_utf8(&client_data).unwrap(),
            r#"{"type":"webauthn.create","challenge":"Y2hhbGxlbmdl","origin":"https://localhost:8443","crossOrigin":false}"#
        );

        let auth_data = b64(&cred["response"]["authenticatorData"]);
        assert_eq!(auth_data.len(), 37 + 16 + 2 + 16 + 77);
        assert_eq!(auth_data[..32], Sha256::digest(b"localhost")[..]);
        assert_eq!(auth_data[32], FLAG_UP | FLAG_UV | FLAG_AT);
        assert_eq!(auth_data[33..37], [0, 0, 0, 0]);
        assert_eq!(auth_data[37..53], [0; 16]);
        assert_eq!(auth_data[53..55], [0, 16]);
        assert_eq!(auth_data[55..71], passkey.cred_id[..]);

        // The COSE key names the same public key as the SubjectPublicKeyInfo.
        let cose = &auth_data[71..];
        assert_eq!(hex(&cose[..10]), "a5010203262001215820");
        assert_eq!(hex(&cose[42..45]), "225820");
        let mut sec1 = vec![0x04];
        sec1.extend_from_slice(&cose[10..42]);
        sec1.extend_from_slice(&cose[45..77]);
        let from_cose = VerifyingKey::from_sec1_bytes(&sec1).unwrap();
        let spki = b64(&cred["response"]["publicKey"]);
        let from_spki = VerifyingKey::from_public_key_der(&spki).unwrap();
        assert_eq!(from_cose, from_spki);
        assert_eq!(&from_cose, passkey.key.verifying_key());

        // {"fmt": "none", "attStmt": {}, "authData": h'…' (148 bytes)}.
        let att = b64(&cred["response"]["attestationObject"]);
        let mut expected = hex(b"\xa3\x63fmt\x64none\x67attStmt\xa0\x68authData\x58\x94");
        expected.push_str(&hex(&auth_data));
        assert_eq!(hex(&att), expected);
    }

    #[test]
    fn assertion_signature_verifies_and_counts() {
        let options = json!({
            "user": {"id": "dXNlcg"},
            "challenge": "AAAA",
        });
        let origin = "http://127.0.0.1:3000";
        let (mut passkey, _) = SoftPasskey::register(&options, origin);
        assert_eq!(passkey.rp_id, "127.0.0.1");
        let key = *passkey.key.verifying_key();

        let get = json!({
            "challenge": "c2lnbi1pbg",
            "rpId": "127.0.0.1",
            "allowCredentials": [{"type": "public-key", "id": passkey.credential_id_b64()}],
        });
        for expected_count in 1..=2u32 {
            let cred = passkey.assert(&get, origin).expect("an assertion");
            let response = &cred["response"];
            assert_eq!(response["userHandle"], "dXNlcg");
            let client_data = b64(&response["clientDataJSON"]);
            let auth_data = b64(&response["authenticatorData"]);
            assert_eq!(auth_data.len(), 37);
            assert_eq!(auth_data[32], FLAG_UP | FLAG_UV);
            assert_eq!(auth_data[33..37], expected_count.to_be_bytes());

            let mut signed = auth_data.clone();
            signed.extend_from_slice(&Sha256::digest(&client_data));
            let signature = Signature::from_der(&b64(&response["signature"])).unwrap();
            key.verify(&signed, &signature).unwrap();
        }

        passkey.user_verified = false;
        let cred = passkey.assert(&json!({"publicKey": get}), origin).unwrap();
        assert_eq!(b64(&cred["response"]["authenticatorData"])[32], FLAG_UP);

        let other = json!({
            "challenge": "AAAA",
            "allowCredentials": [{"type": "public-key", "id": "b3RoZXI"}],
        });
        assert!(passkey.assert(&other, origin).is_none());
        let elsewhere = json!({"challenge": "AAAA", "rpId": "example.com"});
        assert!(passkey.assert(&elsewhere, origin).is_none());
    }
}
