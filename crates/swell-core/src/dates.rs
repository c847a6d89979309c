//! Dates on the wire: ISO-8601 UTC with milliseconds (`2026-11-28T10:00:00.000Z`), and the one
//! reader of date literals written as text ([`DateLiteral`]) that every part of swell accepts:
//! API parameters, stored records, digest filters, recipe filters.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};

/// A date or a date-time written as text. The accepted forms:
/// - `2024-01-31`: a day;
/// - `2024-01-31T10:00:00`, with or without a fraction (`.5`, `.000`), and with `Z`, an
///   offset (`+02:00`, `-0500`) or no zone (UTC);
/// - the same with a space instead of the `T` (`2024-01-31 10:00:00`).
///
/// Surrounding spaces are ignored. Numbers (epoch seconds or milliseconds) are not literals:
/// what a number means depends on where it is written, so callers read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateLiteral {
    Day(NaiveDate),
    Instant(DateTime<Utc>),
}

impl DateLiteral {
    pub fn parse(text: &str) -> Option<DateLiteral> {
        let s = text.trim();
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Some(DateLiteral::Day(d));
        }
        let t = s.replacen(' ', "T", 1);
        if let Ok(d) = DateTime::parse_from_rfc3339(&t) {
            return Some(DateLiteral::Instant(d.with_timezone(&Utc)));
        }
        for f in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"] {
            if let Ok(d) = DateTime::parse_from_str(&t, f) {
                return Some(DateLiteral::Instant(d.with_timezone(&Utc)));
            }
        }
        let naive = t.strip_suffix('Z').unwrap_or(&t);
        ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(naive, f).ok())
            .map(|dt| DateLiteral::Instant(dt.and_utc()))
    }

    /// The instant it starts: a day's midnight UTC.
    pub fn start(&self) -> DateTime<Utc> {
        match self {
            DateLiteral::Day(d) => d.and_time(chrono::NaiveTime::MIN).and_utc(),
            DateLiteral::Instant(t) => *t,
        }
    }

    /// [`DateLiteral::start`] in epoch milliseconds.
    pub fn millis(&self) -> i64 {
        self.start().timestamp_millis()
    }
}

pub fn to_wire(d: &DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Serde helpers for `DateTime<Utc>` fields in the wire format.
pub mod wire {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::to_wire(d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        super::DateLiteral::parse(&s)
            .map(|d| d.start())
            .ok_or_else(|| serde::de::Error::custom(format!("'{s}' is not a date or date-time")))
    }
}

#[cfg(test)]
mod tests {
    use super::DateLiteral;

    #[test]
    fn every_literal_form_reads() {
        let at = |s: &str| DateLiteral::parse(s).map(|d| super::to_wire(&d.start()));
        let noon = Some("2024-01-31T12:00:00.000Z".to_string());
        for s in [
            "2024-01-31T12:00:00Z",
            "2024-01-31T12:00:00.000Z",
            "2024-01-31T12:00:00",
            "2024-01-31 12:00:00",
            "2024-01-31 12:00:00.000",
            "2024-01-31T14:00:00+02:00",
            "2024-01-31T07:00:00-0500",
            " 2024-01-31T12:00:00Z ",
        ] {
            assert_eq!(at(s), noon, "{s}");
        }
        assert_eq!(
            DateLiteral::parse("2024-01-31"),
            Some(DateLiteral::Day(chrono::NaiveDate::from_ymd_opt(2024, 1, 31).unwrap()))
        );
        assert_eq!(at("2024-01-31"), Some("2024-01-31T00:00:00.000Z".to_string()));
        for bad in ["", "2024-02-30", "31/01/2024", "1706702400", "2024-01-31T25:00:00Z", "today"] {
            assert_eq!(DateLiteral::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn millis_and_z() {
        let d = chrono::DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z").unwrap().with_timezone(&chrono::Utc);
        assert_eq!(super::to_wire(&d), "2026-11-28T10:00:00.000Z");
    }
}
