//! Java `SimpleDateFormat`-style patterns, as SAQL's `toDate` / `toString` and date field
//! `format`s use them (`yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`, `MM/dd/yyyy hh:mm:ss a`, ...).
//!
//! Parsing is strict, as in CRM Analytics: the input must match the whole pattern, and a
//! two-letter symbol (`MM`) needs two digits. Times are UTC.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Year4,
    Year2,
    Month { width: usize },
    MonthName { full: bool },
    Day { width: usize },
    DayName { full: bool },
    Hour24 { width: usize },
    Hour12 { width: usize },
    Minute { width: usize },
    Second { width: usize },
    Millis { width: usize },
    AmPm,
    Literal(String),
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat {
    items: Vec<Item>,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

impl DateFormat {
    /// Compiles a pattern; the error names the offending symbol.
    pub fn parse(pattern: &str) -> Result<Self, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut items = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                // quoted literal; '' is a single quote
                let mut j = i + 1;
                let mut lit = String::new();
                loop {
                    match chars.get(j) {
                        None => return Err(format!("unterminated quote in date format '{pattern}'")),
                        Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                            lit.push('\'');
                            j += 2;
                        }
                        Some('\'') => break,
                        Some(ch) => {
                            lit.push(*ch);
                            j += 1;
                        }
                    }
                }
                if lit.is_empty() {
                    lit.push('\'');
                }
                items.push(Item::Literal(lit));
                i = j + 1;
                continue;
            }
            if c.is_ascii_alphabetic() {
                let mut n = 1;
                while chars.get(i + n) == Some(&c) {
                    n += 1;
                }
                let item = match c {
                    'y' if n == 2 => Item::Year2,
                    'y' | 'Y' => Item::Year4,
                    'M' if n >= 4 => Item::MonthName { full: true },
                    'M' if n == 3 => Item::MonthName { full: false },
                    'M' => Item::Month { width: n },
                    'd' => Item::Day { width: n },
                    'E' => Item::DayName { full: n >= 4 },
                    'H' => Item::Hour24 { width: n },
                    'h' => Item::Hour12 { width: n },
                    'm' => Item::Minute { width: n },
                    's' => Item::Second { width: n },
                    'S' => Item::Millis { width: n },
                    'a' => Item::AmPm,
                    // unquoted `T` and `Z`, as in `yyyy-MM-ddTHH:mm:ss.SSSZ` (public definitions
                    // an org ran): the ISO separator and the UTC designator, as written (INFERRED:
                    // Java would refuse the pattern; CRM Analytics evidently reads it so, and
                    // swell's dates are UTC)
                    'T' | 'Z' => Item::Literal(c.to_string().repeat(n)),
                    'Q' | 'q' => return Err(format!("quarter patterns are not supported in date format '{pattern}'")),
                    other => return Err(format!("unsupported symbol '{other}' in date format '{pattern}'")),
                };
                items.push(item);
                i += n;
                continue;
            }
            match items.last_mut() {
                Some(Item::Literal(l)) => l.push(c),
                _ => items.push(Item::Literal(c.to_string())),
            }
            i += 1;
        }
        Ok(DateFormat { items })
    }

    /// Parses `input`, which must match the whole pattern.
    pub fn parse_datetime(&self, input: &str) -> Option<NaiveDateTime> {
        let s = input.as_bytes();
        let mut pos = 0usize;
        let (mut year, mut month, mut day) = (1970i32, 1u32, 1u32);
        let (mut hour, mut minute, mut second, mut millis) = (0u32, 0u32, 0u32, 0u32);
        let mut pm: Option<bool> = None;
        let mut hour12 = false;
        for item in &self.items {
            match item {
                Item::Literal(l) => {
                    if !input[pos..].starts_with(l.as_str()) {
                        return None;
                    }
                    pos += l.len();
                }
                Item::Year4 => year = digits(s, &mut pos, 4, 4)? as i32,
                Item::Year2 => year = 2000 + digits(s, &mut pos, 2, 2)? as i32,
                Item::Month { width } => month = digits(s, &mut pos, *width, 2)?,
                Item::Day { width } => day = digits(s, &mut pos, *width, 2)?,
                Item::Hour24 { width } => hour = digits(s, &mut pos, *width, 2)?,
                Item::Hour12 { width } => {
                    hour = digits(s, &mut pos, *width, 2)?;
                    hour12 = true;
                }
                Item::Minute { width } => minute = digits(s, &mut pos, *width, 2)?,
                Item::Second { width } => second = digits(s, &mut pos, *width, 2)?,
                Item::Millis { width } => {
                    let start = pos;
                    let v = digits(s, &mut pos, *width, (*width).max(3))?;
                    let n = pos - start;
                    millis = match n {
                        1 => v * 100,
                        2 => v * 10,
                        _ => v / 10u32.pow(n as u32 - 3),
                    };
                }
                Item::MonthName { full } => {
                    let idx = match_name(&input[pos..], &MONTHS, *full, &mut pos)?;
                    month = idx as u32 + 1;
                }
                Item::DayName { full } => {
                    match_name(&input[pos..], &DAYS, *full, &mut pos)?;
                }
                Item::AmPm => {
                    let rest = input[pos..].to_ascii_uppercase();
                    if rest.starts_with("AM") {
                        pm = Some(false);
                    } else if rest.starts_with("PM") {
                        pm = Some(true);
                    } else {
                        return None;
                    }
                    pos += 2;
                }
            }
        }
        if pos != s.len() {
            return None;
        }
        if hour12 || pm.is_some() {
            if !(1..=12).contains(&hour) && hour12 {
                return None;
            }
            hour %= 12;
            if pm == Some(true) {
                hour += 12;
            }
        }
        let date = NaiveDate::from_ymd_opt(year, month, day)?;
        let time = NaiveTime::from_hms_milli_opt(hour, minute, second, millis)?;
        Some(NaiveDateTime::new(date, time))
    }

    /// Renders a UTC date-time with this pattern.
    pub fn format(&self, dt: &NaiveDateTime) -> String {
        let mut out = String::new();
        for item in &self.items {
            match item {
                Item::Literal(l) => out.push_str(l),
                Item::Year4 => out.push_str(&format!("{:04}", dt.year())),
                Item::Year2 => out.push_str(&format!("{:02}", dt.year().rem_euclid(100))),
                Item::Month { width } => pad(&mut out, dt.month(), *width),
                Item::MonthName { full } => {
                    let name = MONTHS[dt.month0() as usize];
                    out.push_str(if *full { name } else { &name[..3] });
                }
                Item::Day { width } => pad(&mut out, dt.day(), *width),
                Item::DayName { full } => {
                    let name = DAYS[dt.weekday().num_days_from_sunday() as usize];
                    out.push_str(if *full { name } else { &name[..3] });
                }
                Item::Hour24 { width } => pad(&mut out, dt.hour(), *width),
                Item::Hour12 { width } => {
                    let h = dt.hour() % 12;
                    pad(&mut out, if h == 0 { 12 } else { h }, *width)
                }
                Item::Minute { width } => pad(&mut out, dt.minute(), *width),
                Item::Second { width } => pad(&mut out, dt.second(), *width),
                Item::Millis { width } => {
                    let ms = dt.and_utc().timestamp_subsec_millis();
                    let text = format!("{ms:03}");
                    if *width <= 3 {
                        out.push_str(&text[..*width]);
                    } else {
                        out.push_str(&text);
                        out.push_str(&"0".repeat(width - 3));
                    }
                }
                Item::AmPm => out.push_str(if dt.hour() < 12 { "AM" } else { "PM" }),
            }
        }
        out
    }
}

fn pad(out: &mut String, v: u32, width: usize) {
    out.push_str(&format!("{v:0width$}"));
}

/// Reads between `min` and `max` ASCII digits.
fn digits(s: &[u8], pos: &mut usize, min: usize, max: usize) -> Option<u32> {
    let start = *pos;
    let mut v: u32 = 0;
    while *pos < s.len() && *pos - start < max && s[*pos].is_ascii_digit() {
        v = v * 10 + (s[*pos] - b'0') as u32;
        *pos += 1;
    }
    (*pos - start >= min).then_some(v)
}

fn match_name(rest: &str, names: &[&str], full: bool, pos: &mut usize) -> Option<usize> {
    for (i, name) in names.iter().enumerate() {
        let candidate = if full { *name } else { &name[..3] };
        if rest.len() >= candidate.len() && rest[..candidate.len()].eq_ignore_ascii_case(candidate) {
            *pos += candidate.len();
            return Some(i);
        }
    }
    None
}

/// Milliseconds since the epoch for a UTC date-time.
pub fn to_millis(dt: &NaiveDateTime) -> i64 {
    dt.and_utc().timestamp_millis()
}

pub fn from_millis(ms: i64) -> Option<NaiveDateTime> {
    DateTime::<Utc>::from_timestamp_millis(ms).map(|d| d.naive_utc())
}

/// ISO form used when a date is read as text: `2018-02-25T00:00:03.000Z`.
pub fn iso(dt: &NaiveDateTime) -> String {
    dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(f: &str, s: &str) -> Option<String> {
        DateFormat::parse(f).unwrap().parse_datetime(s).map(|d| iso(&d))
    }

    #[test]
    fn parses_documented_formats() {
        assert_eq!(p("yyyy-MM-dd", "2020-02-29").as_deref(), Some("2020-02-29T00:00:00.000Z"));
        assert_eq!(
            p("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", "2018-02-25T00:00:03.120Z").as_deref(),
            Some("2018-02-25T00:00:03.120Z")
        );
        assert_eq!(p("MM/dd/yyyy hh:mm:ss a", "03/04/2021 12:05:00 AM").as_deref(), Some("2021-03-04T00:05:00.000Z"));
        assert_eq!(p("MM/dd/yyyy hh:mm:ss a", "03/04/2021 01:05:00 PM").as_deref(), Some("2021-03-04T13:05:00.000Z"));
        assert_eq!(p("dd.MM.yyyy HH:mm:ss", "31.12.1999 23:59:59").as_deref(), Some("1999-12-31T23:59:59.000Z"));
        assert_eq!(p("M/d/yyyy", "3/4/2021").as_deref(), Some("2021-03-04T00:00:00.000Z"));
        assert_eq!(p("dd MMM yyyy", "05 Feb 2021").as_deref(), Some("2021-02-05T00:00:00.000Z"));
    }

    #[test]
    fn strict_matching() {
        assert_eq!(p("MM/dd/yyyy", "3/4/2021"), None, "two-letter symbols need two digits");
        assert_eq!(p("yyyy-MM-dd", "2020-02-30"), None, "no such day");
        assert_eq!(p("yyyy-MM-dd", "2020-02-01 10:00"), None, "trailing text");
        assert!(DateFormat::parse("yyyy-QQ").is_err());
        assert!(DateFormat::parse("yyyy-'MM").is_err());
    }

    #[test]
    fn formats() {
        let dt = p("yyyy-MM-dd HH:mm:ss", "2021-03-04 13:05:09").unwrap();
        let dt = NaiveDateTime::parse_from_str(&dt, "%Y-%m-%dT%H:%M:%S%.3fZ").unwrap();
        let f = |pat: &str| DateFormat::parse(pat).unwrap().format(&dt);
        assert_eq!(f("dd/MM/yy hh:mm a"), "04/03/21 01:05 PM");
        assert_eq!(f("EEEE, MMMM d yyyy"), "Thursday, March 4 2021");
        assert_eq!(f("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"), "2021-03-04T13:05:09.000Z");
    }
}
