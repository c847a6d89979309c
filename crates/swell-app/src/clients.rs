//! Connected apps: sign-in without a person's password, as an org's connected apps allow.
//!
//! An admin registers a client for one user (`swell user client create NAME`, or
//! `POST /swell/users/{id}/clients`): a client id (consumer key, `3MVG9SW…`) and a secret,
//! shown once and kept as its SHA-256, and optionally the X.509 certificate (PEM) whose RSA
//! key signs JWT assertions. Two OAuth2 grants then sign that user in:
//!
//! - `client_credentials`: `client_id` and `client_secret` (the org's "Run As" user is the
//!   client's user);
//! - `urn:ietf:params:oauth:grant-type:jwt-bearer` (`sf org login jwt`): an RS256 JWT whose
//!   `iss` is the client id, `sub` the client's user's username, `aud` this server or an org's
//!   login host, `exp` at most [`MAX_JWT_LIFE`] ahead, signed by the certificate's key.
//!
//! Both answer a session token of the user ([`crate::SESSION`]), revoked with the client.
//! Failures count toward the same lockouts as passwords (per client id and per address) and
//! are recorded in the audit log; the answer never says which part was wrong.

use crate::error::{ApiError, ApiResult};
use crate::users::{constant_time_eq, from, hash, random_hex};
use crate::{Action, Actor, App, Login, LoginRefused, Subject};
use base64::Engine;
use chrono::{DateTime, Utc};
use swell_store::{ClientRecord, UserRecord};

/// How far ahead a JWT assertion may expire: an org takes three minutes; a little more
/// allows for clocks apart.
pub const MAX_JWT_LIFE: chrono::Duration = chrono::Duration::minutes(5);

/// How long past its `exp` an assertion is still taken: clocks apart, and the Salesforce CLI
/// gives its assertions 300 milliseconds (below).
const JWT_LEEWAY: chrono::Duration = chrono::Duration::minutes(1);

/// The instant of an `exp` claim. RFC 7519 counts seconds; the Salesforce CLI (sfdx-core's
/// `exp: Date.now() + 300`) writes milliseconds, which orgs take. A value past 10^11
/// (the year 5138 in seconds) can only be milliseconds, and is read so.
fn expiry(exp: f64) -> Option<DateTime<Utc>> {
    if exp > 1e11 { DateTime::from_timestamp_millis(exp as i64) } else { DateTime::from_timestamp(exp as i64, 0) }
}

/// The audiences an assertion may name besides this server's own URL: the org login hosts
/// that clients put there by default.
const LOGIN_HOSTS: [&str; 2] = ["https://login.salesforce.com", "https://test.salesforce.com"];

/// A client just made: its record and its secret, shown this once.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub record: ClientRecord,
    pub secret: String,
}

/// The DER of the first certificate of a PEM text, or what is wrong with it.
fn certificate_der(pem: &str) -> Result<Vec<u8>, String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let start = pem.find(BEGIN).ok_or("not a PEM certificate (no -----BEGIN CERTIFICATE----- line)")?;
    let body = &pem[start + BEGIN.len()..];
    let end = body.find(END).ok_or("the certificate has no -----END CERTIFICATE----- line")?;
    let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| format!("the certificate is not base64: {e}"))
}

/// Checks that `pem` holds a certificate whose key verifies RS256 signatures.
fn check_certificate(pem: &str) -> ApiResult<()> {
    let der = certificate_der(pem).map_err(|m| ApiError::bad_request(format!("certificate: {m}")))?;
    let der = rustls_pki_types::CertificateDer::from(der);
    let cert = webpki::EndEntityCert::try_from(&der)
        .map_err(|_| ApiError::bad_request("certificate: not an X.509 certificate swell can read"))?;
    // an RSA key: a signature by nothing verifies as "wrong signature", not "unsupported key"
    match cert.verify_signature(webpki::ring::RSA_PKCS1_2048_8192_SHA256, b"probe", &[0u8; 256]) {
        Err(webpki::Error::InvalidSignatureForPublicKey) => Ok(()),
        Err(_) => Err(ApiError::bad_request(
            "certificate: its key cannot verify RS256 signatures; JWT sign-in needs an RSA key of 2048 bits or more",
        )),
        Ok(()) => Err(ApiError::bad_request("certificate: its key verifies anything")),
    }
}

/// What a JWT assertion says, once its signature is checked.
#[derive(Debug)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<serde_json::Value>,
    exp: Option<f64>,
    nbf: Option<f64>,
}

impl Claims {
    fn of(v: &serde_json::Value) -> Option<Claims> {
        let text = |k: &str| v.get(k).and_then(|s| s.as_str()).map(str::to_string);
        v.is_object().then(|| Claims {
            iss: text("iss"),
            sub: text("sub"),
            aud: v.get("aud").cloned(),
            exp: v.get("exp").and_then(|e| e.as_f64()),
            nbf: v.get("nbf").and_then(|e| e.as_f64()),
        })
    }
}

/// The header and claims of an assertion, with the signed part and the signature.
fn split_jwt(assertion: &str) -> Result<(serde_json::Value, Claims, &str, Vec<u8>), &'static str> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = assertion.trim().splitn(3, '.');
    let (Some(h), Some(c), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("the assertion is not a JWT (header.claims.signature)");
    };
    let header: serde_json::Value = b64
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("the assertion's header is not base64url JSON")?;
    let claims = b64
        .decode(c)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| Claims::of(&v))
        .ok_or("the assertion's claims are not a base64url JSON object")?;
    let signature = b64.decode(sig).map_err(|_| "the assertion's signature is not base64url")?;
    let signed = &assertion.trim()[..h.len() + 1 + c.len()];
    Ok((header, claims, signed, signature))
}

impl App {
    /// Registers a client that signs `user` in; `certificate` (PEM) enables JWT sign-in.
    pub async fn create_client(&self, actor: &Actor, user: &str, certificate: Option<&str>) -> ApiResult<NewClient> {
        self.require(actor, Action::CreateClient).await?;
        let u = self.user(user).await?;
        if let Some(pem) = certificate {
            check_certificate(pem)?;
        }
        let id = format!("3MVG9SW{}", random_hex(20)?);
        let secret = random_hex(32)?;
        let record = self.store.create_client(&id, &u.id, &hash(&secret), certificate).await?;
        let detail = format!("client {id}{}", if certificate.is_some() { " with a certificate" } else { "" });
        self.did(actor, Action::CreateClient, Subject::new(&u.id, &u.username), Some(&detail)).await;
        Ok(NewClient { record, secret })
    }

    pub async fn clients(&self, actor: &Actor, user: &str) -> ApiResult<Vec<ClientRecord>> {
        self.require(actor, Action::ListClients).await?;
        let u = self.user(user).await?;
        Ok(self.store.clients_of(&u.id).await?)
    }

    /// Revokes a client and every token it signed in.
    pub async fn revoke_client(&self, actor: &Actor, id: &str) -> ApiResult<ClientRecord> {
        self.require(actor, Action::RevokeClient).await?;
        let c = self.store.client(id).await?.ok_or_else(|| ApiError::not_found(format!("client {id}")))?;
        let revoked = self.store.revoke_client(&c.id).await?;
        let owner = self.store.user(&c.user_id).await?;
        let detail = format!("client {}", c.id);
        self.did(actor, Action::RevokeClient, Subject::new(&owner.id, &owner.username), Some(&detail)).await;
        Ok(revoked)
    }

    /// The OAuth2 `client_credentials` grant: the client's user, signed in.
    pub async fn login_client(
        &self,
        client_id: &str,
        secret: &str,
        address: Option<&str>,
    ) -> ApiResult<Result<Login, LoginRefused>> {
        self.client_login(client_id, address, "client credentials", None, |c, _| {
            constant_time_eq(hash(secret).as_bytes(), c.secret_hash.as_bytes()).then_some(()).ok_or("wrong secret")
        })
        .await
    }

    /// The JWT bearer grant: the user an assertion names, signed in when a client's certificate
    /// verifies it. `own` is this server's URL (`https://host:port`), an audience it accepts.
    pub async fn login_jwt(
        &self,
        assertion: &str,
        own: &str,
        address: Option<&str>,
    ) -> ApiResult<Result<Login, LoginRefused>> {
        let parsed = split_jwt(assertion);
        let issuer = match &parsed {
            Ok((_, claims, ..)) => claims.iss.clone().unwrap_or_default(),
            Err(_) => String::new(),
        };
        let username = match &parsed {
            Ok((_, claims, ..)) => claims.sub.clone().unwrap_or_default(),
            Err(_) => String::new(),
        };
        let now = Utc::now();
        let unreadable = parsed.as_ref().err().copied();
        self.client_login(&issuer, address, "JWT", unreadable, |c, user| {
            let (header, claims, signed, signature) = parsed.as_ref().map_err(|m| *m)?;
            // the signature first: nothing an unsigned claim says is worth a reason
            if header.get("alg").and_then(|a| a.as_str()) != Some("RS256") {
                return Err("the assertion is not signed with RS256");
            }
            let pem = c.certificate.as_deref().ok_or("the client has no certificate")?;
            let der = rustls_pki_types::CertificateDer::from(certificate_der(pem).map_err(|_| "bad certificate")?);
            let cert = webpki::EndEntityCert::try_from(&der).map_err(|_| "bad certificate")?;
            cert.verify_signature(webpki::ring::RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), signature)
                .map_err(|_| "the signature does not verify")?;
            if header.get("crit").is_some() {
                return Err("the assertion has critical header parameters swell does not know (crit)");
            }
            if !user.username.eq_ignore_ascii_case(username.trim()) {
                return Err("the assertion's sub is not the client's user");
            }
            let exp = claims.exp.ok_or("the assertion has no exp")?;
            let exp = expiry(exp).ok_or("the assertion's exp is not a time")?;
            if let Some(nbf) = claims.nbf {
                let nbf = expiry(nbf).ok_or("the assertion's nbf is not a time")?;
                if nbf > now + JWT_LEEWAY {
                    return Err("the assertion is not valid yet (nbf)");
                }
            }
            if exp + JWT_LEEWAY <= now {
                return Err("the assertion expired");
            }
            if exp > now + MAX_JWT_LIFE {
                return Err("the assertion expires too late (at most 5 minutes ahead)");
            }
            let auds: Vec<&str> = match &claims.aud {
                Some(serde_json::Value::String(a)) => vec![a.as_str()],
                Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str()).collect(),
                _ => Vec::new(),
            };
            let known = |a: &str| {
                let a = a.trim_end_matches('/');
                a.eq_ignore_ascii_case(own) || LOGIN_HOSTS.iter().any(|h| a.eq_ignore_ascii_case(h))
            };
            if !auds.iter().any(|a| known(a)) {
                return Err("the assertion's aud is neither this server nor an org login host");
            }
            Ok(())
        })
        .await
    }

    /// A sign-in by client `client_id`, whose proof `check` verifies (`unreadable`: why the
    /// proof could not even be read): lockouts, the client's state, its user's, the audit log.
    async fn client_login(
        &self,
        client_id: &str,
        address: Option<&str>,
        how: &str,
        unreadable: Option<&'static str>,
        check: impl FnOnce(&ClientRecord, &UserRecord) -> Result<(), &'static str>,
    ) -> ApiResult<Result<Login, LoginRefused>> {
        let client_id = &crate::text::cut(client_id, 100);
        let by_client = format!("client:{client_id}");
        let by_addr = address.map(|a| format!("addr:{a}"));
        let name = format!("client {client_id}");
        let keys: Vec<&str> = std::iter::once(by_client.as_str()).chain(by_addr.as_deref()).collect();
        let (attempt, tally) = self.begin_attempt(&keys).await?;
        if self.locked(&attempt, &tally, None, &name, address).await? {
            return Ok(Err(LoginRefused::LockedOut));
        }
        // an assertion that cannot be read names no client to look up
        let client = if unreadable.is_some() { None } else { self.store.client(client_id).await? };
        let user = match &client {
            Some(c) => Some(self.store.user(&c.user_id).await?),
            None => None,
        };
        let outcome = match (&client, &user) {
            (Some(c), Some(u)) if c.revoked_date.is_none() && u.active => check(c, u),
            (Some(c), _) if c.revoked_date.is_some() => Err("the client is revoked"),
            (Some(_), Some(_)) => Err("the user is deactivated"),
            _ => Err(unreadable.unwrap_or("no such client")),
        };
        match (outcome, user) {
            (Ok(()), Some(user)) => {
                self.store.drop_sign_in_attempt(&attempt).await?;
                self.forget_failures(&by_client).await?;
                Ok(Ok(self.start_session(&user, how, Some(client_id), address).await?))
            }
            (outcome, user) => {
                let reason = outcome.err().unwrap_or("no such user");
                // the attempt stays counted
                tracing::warn!(client_id, address, reason, "sign-in failed");
                let username = user.as_ref().map_or(name.clone(), |u| u.username.clone());
                let detail = format!("{how} of {name}: {reason}{}", from(address));
                self.failed_sign_in(user.as_ref().map(|u| &u.id), &username, &detail).await;
                Ok(Err(LoginRefused::Failed))
            }
        }
    }
}
