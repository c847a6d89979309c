//! The SOAP `login` call (`POST /services/Soap/u/NN.0`), which jsforce, simple-salesforce and
//! other clients use to sign in with a username and password when they have no OAuth2 client
//! id (issue 15). Only `login` is answered: its result carries `sessionId`, `serverUrl`,
//! `userId` and `organizationId` as the partner WSDL writes them; anything else is a SOAP
//! fault. The session is a token of the user, as the OAuth2 password grant makes.
//!
//! Faults are answered with HTTP 400 and the SOAP fault body (an org answers 500; clients read
//! the fault either way, and swell answers no 500 for a client's mistake).

use crate::AppState;
use crate::wire::Verbatim;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use swell_app::LoginRefused;

const ENVELOPE_START: &str = r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body>"#;
const ENVELOPE_END: &str = "</soapenv:Body></soapenv:Envelope>";

fn xml(status: StatusCode, body: String) -> Response {
    let mut r =
        (status, [(header::CONTENT_TYPE, "text/xml;charset=UTF-8")], format!("{ENVELOPE_START}{body}{ENVELOPE_END}"))
            .into_response();
    r.extensions_mut().insert(Verbatim);
    r
}

fn fault(code: &str, message: &str) -> Response {
    xml(
        StatusCode::BAD_REQUEST,
        format!(
            "<soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{code}: {}</faultstring></soapenv:Fault>",
            escape(message)
        ),
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

/// The text of an element as XML means it: CDATA sections as they are, the five named
/// entities and character references (`&#112;`, `&#x70;`) decoded. Anything else after `&`
/// is kept as written.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let end = after.find("]]>").unwrap_or(after.len());
            out.push_str(&after[..end]);
            rest = after.get(end + 3..).unwrap_or_default();
            continue;
        }
        let Some(c) = rest.chars().next() else { break };
        if c == '&'
            && let Some(semi) = rest[1..].find(';').filter(|&i| i <= 10)
        {
            let entity = &rest[1..1 + semi];
            let decoded = match entity {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "amp" => Some('&'),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .map(|h| u32::from_str_radix(h, 16))
                    .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                    .and_then(Result::ok)
                    .and_then(char::from_u32),
            };
            if let Some(d) = decoded {
                out.push(d);
                rest = &rest[2 + semi..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The text of the first element named `name` (any namespace prefix), unescaped.
fn element(body: &str, name: &str) -> Option<String> {
    let mut rest = body;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let tag_end = rest.find('>')?;
        let tag = &rest[..tag_end];
        let local = tag.split_whitespace().next().unwrap_or_default();
        let local = local.rsplit(':').next().unwrap_or_default();
        if local == name && !tag.starts_with('/') && !tag.ends_with('/') {
            let inner = &rest[tag_end + 1..];
            // the element ends at its closing tag, past any CDATA section (which may hold `</`)
            let mut close = 0;
            loop {
                let from = &inner[close..];
                let cdata = from.find("<![CDATA[");
                let end = from.find("</")?;
                match cdata {
                    Some(c) if c < end => close += c + from[c..].find("]]>")? + 3,
                    _ => {
                        close += end;
                        break;
                    }
                }
            }
            return Some(unescape(&inner[..close]));
        }
    }
    None
}

/// The path of the SOAP endpoint: `/services/Soap/u/{version}`.
#[derive(Debug, serde::Deserialize)]
pub struct SoapPath {
    pub version: String,
}

#[utoipa::path(
    post,
    path = "/services/Soap/u/{version}",
    tag = "identity",
    request_body(content = String, content_type = "text/xml", description = "A SOAP envelope with a partner `login` call"),
    responses(
        (status = 200, content_type = "text/xml", description = "loginResponse: sessionId, serverUrl, userId, userInfo.organizationId"),
        (status = 400, content_type = "text/xml", description = "A SOAP fault (INVALID_LOGIN, UNSUPPORTED_API_VERSION, ...)"),
    ),
)]
pub async fn login(
    State(state): State<AppState>,
    Path(path): Path<SoapPath>,
    headers: HeaderMap,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    bytes: Bytes,
) -> Response {
    let Some(version) = crate::parse_version(&format!("v{}", path.version)) else {
        return fault("UNSUPPORTED_API_VERSION", &format!("version {} is not served", path.version));
    };
    let body = String::from_utf8_lossy(&bytes);
    if element(&body, "login").is_none() && !body.contains(":login") && !body.contains("<login") {
        return fault("INVALID_OPERATION", "only the login call is answered");
    }
    let (Some(username), Some(password)) = (element(&body, "username"), element(&body, "password")) else {
        return fault("INVALID_LOGIN", "Invalid username, password, security token; or user locked out.");
    };
    let address = peer.map(|c| c.0.0.ip().to_string());
    let login = match state.login(username.trim(), &password, address.as_deref()).await {
        Ok(Ok(login)) => login,
        Ok(Err(LoginRefused::Failed | LoginRefused::LockedOut)) => {
            return fault("INVALID_LOGIN", "Invalid username, password, security token; or user locked out.");
        }
        Err(e) => return e.into_response(),
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let base = format!("{}://{host}", if state.https { "https" } else { "http" });
    let org = crate::resources::identity::org_id(&state);
    let a = &login.actor;
    let valid_seconds = swell_app::SESSION.num_seconds();
    xml(
        StatusCode::OK,
        format!(
            "<loginResponse><result><metadataServerUrl>{base}/services/Soap/m/{version}/{org}</metadataServerUrl>\
             <passwordExpired>false</passwordExpired><sandbox>false</sandbox>\
             <serverUrl>{base}/services/Soap/u/{version}/{org}</serverUrl><sessionId>{}</sessionId>\
             <userId>{}</userId><userInfo><organizationId>{org}</organizationId><organizationName>swell</organizationName>\
             <sessionSecondsValid>{valid_seconds}</sessionSecondsValid><userEmail>{}</userEmail>\
             <userFullName>{}</userFullName><userId>{}</userId><userName>{}</userName></userInfo></result></loginResponse>",
            escape(&login.token.text),
            a.id,
            escape(&a.username),
            escape(&a.name),
            a.id,
            escape(&a.username),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_are_read_with_any_prefix_and_unescaped() {
        let body = r#"<se:Envelope><se:Body><login xmlns="urn:partner.soap.sforce.com"><username>a&amp;b@x.com</username><n1:password>p&lt;w</n1:password></login></se:Body></se:Envelope>"#;
        assert_eq!(element(body, "username").as_deref(), Some("a&b@x.com"));
        assert_eq!(element(body, "password").as_deref(), Some("p<w"));
        assert_eq!(element(body, "nothing"), None);
        assert_eq!(element("<a><username/></a>", "username"), None);
        assert_eq!(element("<unclosed", "unclosed"), None);
        // character references and CDATA, as XML writers send non-ASCII text (probe, session 11)
        let refs =
            "<login><username>a&#64;x.com</username><password>p&#x61;&#115;s<![CDATA[</x>&amp;]]></password></login>";
        assert_eq!(element(refs, "username").as_deref(), Some("a@x.com"));
        assert_eq!(element(refs, "password").as_deref(), Some("pass</x>&amp;"));
        assert_eq!(unescape("&#xZZ; &bogus; & &#1114112;"), "&#xZZ; &bogus; & &#1114112;");
    }
}
