//! What a page reads from a request: its query string ([`Params`]) and its form ([`Fields`]),
//! with the UI's own answers for what cannot be read (a page naming the problem, never the
//! framework's plain text).
//!
//! Both read `application/x-www-form-urlencoded` pairs. A key given twice keeps its first
//! value (a link edited by hand, a form with a field twice), as browsers' own
//! `URLSearchParams.get` does; handlers that take repeated keys on purpose (Stop selected)
//! read [`Fields::pairs`].

use crate::pages;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde::de::DeserializeOwned;

/// The largest form body read: a definition pasted into the editor (the largest public
/// dataflow we know is about 1 MB), with room to spare.
pub const MAX_FORM_BYTES: usize = 16 * 1024 * 1024;

/// How long a browser may take to send a form once its headers arrived.
pub const FORM_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A page's query string, read into `T` (whose fields are strings).
#[derive(Debug, Clone)]
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        let pairs = pairs(parts.uri.query().unwrap_or_default());
        read(&pairs).map(Params).map_err(|e| pages::problem(StatusCode::BAD_REQUEST, &format!("The address {e}")))
    }
}

/// A form's fields, read into `T` (whose fields are strings), and every pair as sent.
#[derive(Debug, Clone)]
pub struct Fields<T> {
    pub value: T,
    pub pairs: Vec<(String, String)>,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Fields<T> {
    type Rejection = Response;

    async fn from_request(req: Request, _: &S) -> Result<Self, Response> {
        let kind = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let essence = kind.split(';').next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            let got = if essence.is_empty() { "one with no content type".to_string() } else { format!("'{essence}'") };
            return Err(pages::problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &format!(
                    "This address takes a form sent as application/x-www-form-urlencoded (as the page's own \
                     forms send it), not {got}."
                ),
            ));
        }
        let too_large = || {
            pages::problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("The form is larger than {} MB.", MAX_FORM_BYTES / (1024 * 1024)),
            )
        };
        let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_FORM_BYTES as u64) {
            return Err(too_large());
        }
        let body = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES);
        let bytes = match tokio::time::timeout(FORM_READ_TIMEOUT, body).await {
            Err(_) => {
                return Err(pages::problem(
                    StatusCode::REQUEST_TIMEOUT,
                    &format!("The form did not arrive within {} seconds.", FORM_READ_TIMEOUT.as_secs()),
                ));
            }
            Ok(Err(e)) if e.to_string().contains("length limit") => return Err(too_large()),
            Ok(Err(e)) => {
                return Err(pages::problem(StatusCode::BAD_REQUEST, &format!("The form could not be read: {e}")));
            }
            Ok(Ok(bytes)) => bytes,
        };
        let Ok(body) = std::str::from_utf8(&bytes) else {
            return Err(pages::problem(StatusCode::BAD_REQUEST, "The form is not UTF-8 text."));
        };
        let pairs = pairs(body);
        match read(&pairs) {
            Ok(value) => Ok(Fields { value, pairs }),
            Err(e) => Err(pages::problem(StatusCode::BAD_REQUEST, &format!("The form {e}"))),
        }
    }
}

/// `T` from pairs, the first value of each key. The error completes "The address …" or
/// "The form …".
fn read<T: DeserializeOwned>(pairs: &[(String, String)]) -> Result<T, String> {
    let mut map = serde_json::Map::new();
    for (k, v) in pairs {
        if !map.contains_key(k) {
            map.insert(k.clone(), serde_json::Value::String(v.clone()));
        }
    }
    serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| format!("could not be read: {e}."))
}

/// The pairs of a query string or form body (`a=1&b=2&b=3`), repeated keys kept.
pub fn pairs(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (printable(decode(k)), printable(decode(v)))
        })
        .collect()
}

/// Text without control characters other than tab and line breaks: a NUL or an escape
/// typed into an address or a form would otherwise be written back into the page raw (HTML
/// escaping leaves them). Each becomes U+FFFD, so that what was wrong still shows.
pub fn printable(s: String) -> String {
    if s.chars().any(hidden) { s.chars().map(|c| if hidden(c) { '\u{FFFD}' } else { c }).collect() } else { s }
}

fn hidden(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// What a page shows of a text: [`printable`], and no bidirectional override either (U+202E
/// shows `abc` as `cba`; the API refuses them in labels, but a dataset's label comes from a
/// definition, a cell from the data). Each becomes U+FFFD.
pub fn shown(s: String) -> String {
    let hide = |c: char| hidden(c) || swell_app::is_direction_override(c);
    if s.chars().any(hide) { s.chars().map(|c| if hide(c) { '\u{FFFD}' } else { c }).collect() } else { s }
}

/// The pages' escaper (`askama.toml`): askama's HTML escaping of every value a template
/// writes, and [`shown`] first. Values stored through the API (a dataset's label, a node's
/// message) may hold control characters that HTML escaping leaves as they are.
#[derive(Debug, Clone, Copy)]
pub struct Html;

impl askama::filters::Escaper for Html {
    fn write_escaped_str<W: std::fmt::Write>(&self, dest: W, s: &str) -> std::fmt::Result {
        if s.chars().any(hidden) {
            askama::filters::Html.write_escaped_str(dest, &shown(s.to_string()))
        } else {
            askama::filters::Html.write_escaped_str(dest, s)
        }
    }
}

/// Decodes one `application/x-www-form-urlencoded` value (`+` is a space; a `%` not followed
/// by two hex digits stays as it is).
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_keep_repeated_keys_and_decode_values() {
        let got = pairs("csrf=ab&selected=0eP1&selected=030%2Bx&q=a+b%20c&bad=%zz&end=%4&%41=%42");
        assert_eq!(
            got,
            vec![
                ("csrf".into(), "ab".into()),
                ("selected".into(), "0eP1".into()),
                ("selected".into(), "030+x".into()),
                ("q".into(), "a b c".into()),
                ("bad".into(), "%zz".into()),
                ("end".into(), "%4".into()),
                ("A".into(), "B".into()),
            ]
        );
    }

    #[derive(serde::Deserialize, Debug)]
    struct Two {
        a: String,
        #[serde(default)]
        b: Option<String>,
    }

    #[test]
    fn a_key_given_twice_keeps_its_first_value_and_a_missing_one_is_named() {
        let t: Two = read(&pairs("a=1&a=2&z=9")).unwrap();
        assert_eq!((t.a.as_str(), t.b), ("1", None));
        let e = read::<Two>(&pairs("b=1")).unwrap_err();
        assert!(e.contains("missing field `a`"), "{e}");
    }
}
