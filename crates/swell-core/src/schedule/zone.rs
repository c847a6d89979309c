//! Time zones as the schedule API shows them: `{"gmtOffset": -8.0, "name": "Pacific Standard
//! Time", "zoneId": "America/Los_Angeles"}`.
//!
//! The org writes Java's long zone names. The tz database has only abbreviations, so the
//! common ones are spelled out here; any other zone shows its abbreviation or offset (INFERRED:
//! clients read `zoneId`, the name is for people).

use chrono::{DateTime, Offset, TimeZone, Utc};
use chrono_tz::{OffsetName, Tz};

/// Reads an IANA zone id, case-insensitively (`america/los_angeles` is accepted).
pub fn parse(s: &str) -> Option<Tz> {
    let s = s.trim();
    s.parse::<Tz>().ok().or_else(|| chrono_tz::TZ_VARIANTS.iter().copied().find(|z| z.name().eq_ignore_ascii_case(s)))
}

/// A zone as shown at one instant (the offset and name change with daylight saving time).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ZoneInfo {
    /// Hours from UTC (`-8.0`, `5.5`, `-3.5`).
    pub gmt_offset: f64,
    pub name: String,
    pub zone_id: String,
}

impl ZoneInfo {
    pub fn of(tz: Tz, at: DateTime<Utc>) -> ZoneInfo {
        let offset = tz.offset_from_utc_datetime(&at.naive_utc());
        let seconds = offset.fix().local_minus_utc();
        let abbreviation = offset.abbreviation().unwrap_or_default();
        let name = long_name(abbreviation, seconds).map(str::to_string).unwrap_or_else(|| {
            if abbreviation.is_empty() || abbreviation.starts_with(['+', '-']) {
                let (sign, s) = if seconds < 0 { ('-', -seconds) } else { ('+', seconds) };
                format!("GMT{sign}{:02}:{:02}", s / 3600, s % 3600 / 60)
            } else {
                abbreviation.to_string()
            }
        });
        ZoneInfo { gmt_offset: seconds as f64 / 3600.0, name, zone_id: tz.name().to_string() }
    }
}

/// A long name for an abbreviation; the offset tells apart the abbreviations that several
/// zones use (IST in India and Ireland, CST in America and China).
fn long_name(abbreviation: &str, offset_seconds: i32) -> Option<&'static str> {
    Some(match abbreviation {
        "IST" if offset_seconds == 3600 => "Irish Standard Time",
        "CST" if offset_seconds == 8 * 3600 => "China Standard Time",
        "UTC" => "Coordinated Universal Time",
        "GMT" => "Greenwich Mean Time",
        "PST" => "Pacific Standard Time",
        "PDT" => "Pacific Daylight Time",
        "MST" => "Mountain Standard Time",
        "MDT" => "Mountain Daylight Time",
        "CST" => "Central Standard Time",
        "CDT" => "Central Daylight Time",
        "EST" => "Eastern Standard Time",
        "EDT" => "Eastern Daylight Time",
        "AKST" => "Alaska Standard Time",
        "AKDT" => "Alaska Daylight Time",
        "HST" => "Hawaii-Aleutian Standard Time",
        "NST" => "Newfoundland Standard Time",
        "NDT" => "Newfoundland Daylight Time",
        "AST" => "Atlantic Standard Time",
        "ADT" => "Atlantic Daylight Time",
        "BST" => "British Summer Time",
        "IST" => "India Standard Time",
        "CET" => "Central European Standard Time",
        "CEST" => "Central European Summer Time",
        "EET" => "Eastern European Standard Time",
        "EEST" => "Eastern European Summer Time",
        "WET" => "Western European Standard Time",
        "WEST" => "Western European Summer Time",
        "JST" => "Japan Standard Time",
        "KST" => "Korean Standard Time",
        "AEST" => "Australian Eastern Standard Time",
        "AEDT" => "Australian Eastern Daylight Time",
        "ACST" => "Australian Central Standard Time",
        "ACDT" => "Australian Central Daylight Time",
        "AWST" => "Australian Western Standard Time",
        "NZST" => "New Zealand Standard Time",
        "NZDT" => "New Zealand Daylight Time",
        _ => return None,
    })
}
