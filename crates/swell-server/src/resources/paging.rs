//! Paging of collections (wave-api.md 1.3): `page` and `pageSize` (1..200, default 25) in,
//! `url`, `nextPageUrl` (server-relative, absent on the last page) and `totalSize` out. The
//! page token is the page number: clients treat it as opaque.

use std::collections::HashMap;
use swell_app::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// 1-based.
    pub number: i64,
    pub size: i64,
}

impl Page {
    pub fn from_query(q: &HashMap<String, String>) -> ApiResult<Page> {
        let size = match q.get("pageSize") {
            None => 25,
            Some(s) => match s.parse::<i64>() {
                Ok(n) if (1..=200).contains(&n) => n,
                _ => return Err(ApiError::bad_request(format!("pageSize: '{s}' must be a number from 1 to 200"))),
            },
        };
        let number = match q.get("page") {
            None => 1,
            Some(s) => s
                .parse::<i64>()
                .ok()
                .filter(|p| *p >= 1)
                .ok_or_else(|| ApiError::bad_request(format!("page: '{s}' is not a page token of this server")))?,
        };
        Ok(Page { number, size })
    }

    pub fn offset(&self) -> i64 {
        (self.number - 1) * self.size
    }

    /// The collection's `url` (the query without `page`) and its `nextPageUrl`.
    pub fn links(&self, base: &str, q: &HashMap<String, String>, total: i64) -> (String, Option<String>) {
        let next = (self.number * self.size < total).then(|| (self.number + 1).to_string());
        links(base, q, "page", next)
    }
}

/// A collection's `url` (its query without the `token` parameter, which names a page) and,
/// when `next` is a further page's token, its `nextPageUrl`: by page number (`page`) or by
/// key (`before`, the audit log's).
pub fn links(base: &str, q: &HashMap<String, String>, token: &str, next: Option<String>) -> (String, Option<String>) {
    let mut query: Vec<(String, String)> =
        q.iter().filter(|(k, _)| k.as_str() != token).map(|(k, v)| (k.clone(), v.clone())).collect();
    query.sort();
    let link = |pairs: &[(String, String)]| {
        if pairs.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish())
        }
    };
    let url = link(&query);
    let next = next.map(|n| {
        query.push((token.to_string(), n));
        link(&query)
    });
    (url, next)
}

/// Whether a name or label matches the `q` of a collection: every term (spaces apart) is
/// found, case-insensitively; quotes and wildcards are ignored, as the org strips them.
pub fn matches_q(q: &str, texts: &[&str]) -> bool {
    let clean: String = q.chars().filter(|c| !"\"'*%?".contains(*c)).collect();
    clean.split_whitespace().all(|term| {
        let term = term.to_lowercase();
        texts.iter().any(|t| t.to_lowercase().contains(&term))
    })
}
