//! The token issuer: an ES256 key kept beside the CA in the TLS directory (created on first
//! use), the access tokens it signs, their verification and the JWKS document.

use std::path::Path;

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

const KEY_FILE: &str = "token-signing-key.pem";

/// Signs and checks access tokens.
pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: String,
    jwk: serde_json::Value,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub appid: String,
    pub oid: String,
    pub sub: String,
    pub tid: String,
    pub idtyp: String,
    pub ver: String,
}

impl TokenIssuer {
    /// Loads the signing key from `dir`, creating it on first use.
    pub fn load_or_create(dir: &Path) -> Result<Self, String> {
        let path = dir.join(KEY_FILE);
        let key = match std::fs::read_to_string(&path) {
            Ok(pem) => rcgen::KeyPair::from_pem(&pem)
                .map_err(|e| format!("{} is not a valid key: {e}", path.display()))?,
            Err(_) => {
                let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
                std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
                std::fs::write(&path, key.serialize_pem())
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                key
            }
        };
        Self::from_key(&key)
    }

    /// A throw-away key (tests).
    pub fn ephemeral() -> Self {
        let key = rcgen::KeyPair::generate().expect("P-256 key generation");
        Self::from_key(&key).expect("fresh key is usable")
    }

    fn from_key(key: &rcgen::KeyPair) -> Result<Self, String> {
        let encoding =
            EncodingKey::from_ec_pem(key.serialize_pem().as_bytes()).map_err(|e| e.to_string())?;
        let raw = key.public_key_raw();
        if raw.len() != 65 || raw[0] != 4 {
            return Err("token key must be an uncompressed P-256 key".into());
        }
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let x = b64.encode(&raw[1..33]);
        let y = b64.encode(&raw[33..65]);
        let decoding = DecodingKey::from_ec_components(&x, &y).map_err(|e| e.to_string())?;
        let kid = b64.encode(&raw[1..13]);
        let jwk = serde_json::json!({
            "kty": "EC", "use": "sig", "alg": "ES256", "crv": "P-256", "kid": kid, "x": x, "y": y
        });
        Ok(TokenIssuer {
            encoding,
            decoding,
            kid,
            jwk,
        })
    }

    pub fn issue(&self, claims: &Claims) -> Result<String, String> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        header.typ = Some("JWT".into());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(|e| e.to_string())
    }

    /// Verifies the signature; time and audience are checked by the caller on the virtual
    /// clock.
    pub fn verify(&self, token: &str) -> Result<Claims, String> {
        let mut validation = Validation::new(Algorithm::ES256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| e.to_string())
    }

    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": [self.jwk] })
    }
}
