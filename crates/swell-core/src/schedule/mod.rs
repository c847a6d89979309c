//! Schedules of dataflows, recipes and data syncs (`/wave/asset/{assetId}/schedule`).
//!
//! [`Schedule::from_input`] reads a PUT body leniently, as an org does (enum values in any
//! case, `timeZone` or `timezone`, the zone as a string or as the output's zone object) and
//! strictly where a mistake would otherwise pass silently: every wrong field is reported with
//! its JSON path, all at once, including fields that the frequency does not use.
//! [`Schedule::to_json`] writes the output form (lowercase enums, the zone object); the store
//! keeps that form, and it reads back through `from_input` unchanged.
//!
//! When a schedule runs is decided by one pure function, [`Schedule::next_after`] (`next.rs`),
//! which documents the daylight-saving policy.

mod next;
mod words;
mod zone;

use crate::{KeyPrefix, SalesforceId};
use chrono::{DateTime, Utc, Weekday};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;

pub use zone::ZoneInfo;

/// A schedule: when an asset runs, in which zone, and who is told.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub frequency: Frequency,
    /// The local time of day and zone; `None` for `none` and `eventdriven`.
    pub time: Option<TimeOfDay>,
    pub notification_level: NotificationLevel,
}

/// A wall-clock time in a zone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeOfDay {
    pub hour: u32,
    pub minute: u32,
    pub zone: Tz,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Frequency {
    None,
    /// Every `interval` minutes from the start time, on `days`, until `last_hour`:00.
    Minutely {
        interval: u32,
        days: Days,
        last_hour: Option<u32>,
    },
    /// Every `interval` hours from the start time, on `days`, until `last_hour`:00.
    Hourly {
        interval: u32,
        days: Days,
        last_hour: Option<u32>,
    },
    Daily,
    Weekly {
        days: Days,
    },
    Monthly {
        days: MonthDays,
    },
    /// The first..fourth or last of some weekdays in every month.
    MonthlyRelative {
        week: WeekInMonth,
        days: Days,
    },
    EventDriven {
        rule: TriggerRule,
    },
}

impl Frequency {
    /// The wire name (lowercase, as an org writes it).
    pub fn as_str(&self) -> &'static str {
        match self {
            Frequency::None => "none",
            Frequency::Minutely { .. } => "minutely",
            Frequency::Hourly { .. } => "hourly",
            Frequency::Daily => "daily",
            Frequency::Weekly { .. } => "weekly",
            Frequency::Monthly { .. } => "monthly",
            Frequency::MonthlyRelative { .. } => "monthlyrelative",
            Frequency::EventDriven { .. } => "eventdriven",
        }
    }

    /// Whether the schedule runs at times of day (and so needs `time`).
    pub fn is_timed(&self) -> bool {
        !matches!(self, Frequency::None | Frequency::EventDriven { .. })
    }
}

/// A set of weekdays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Days(u8);

/// The order days are written in, as the org's examples list them.
const WEEK: [Weekday; 7] =
    [Weekday::Sun, Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat];

impl Days {
    pub const ALL: Days = Days(0x7f);

    pub fn contains(self, d: Weekday) -> bool {
        self.0 & (1 << d.num_days_from_monday()) != 0
    }

    pub fn insert(&mut self, d: Weekday) {
        self.0 |= 1 << d.num_days_from_monday();
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Weekday> {
        WEEK.into_iter().filter(move |d| self.contains(*d))
    }

    fn names(self) -> Vec<&'static str> {
        self.iter().map(day_name).collect()
    }
}

fn day_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
        Weekday::Sun => "sunday",
    }
}

/// Days of a monthly schedule: some days of the month (a month without the day skips it), or
/// the last day (`-1`, which cannot be combined with other days).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonthDays {
    Last,
    /// Bit `n` set: day `n` (1..=31).
    Days(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeekInMonth {
    First,
    Second,
    Third,
    Fourth,
    Last,
}

impl WeekInMonth {
    const ALL: [(WeekInMonth, &'static str); 5] = [
        (WeekInMonth::First, "first"),
        (WeekInMonth::Second, "second"),
        (WeekInMonth::Third, "third"),
        (WeekInMonth::Fourth, "fourth"),
        (WeekInMonth::Last, "last"),
    ];

    fn as_str(self) -> &'static str {
        WeekInMonth::ALL.iter().find(|(w, _)| *w == self).map(|(_, s)| *s).unwrap_or("first")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationLevel {
    Always,
    Failures,
    Never,
    Warnings,
}

impl NotificationLevel {
    const ALL: [(NotificationLevel, &'static str); 4] = [
        (NotificationLevel::Always, "always"),
        (NotificationLevel::Failures, "failures"),
        (NotificationLevel::Never, "never"),
        (NotificationLevel::Warnings, "warnings"),
    ];

    pub fn as_str(self) -> &'static str {
        NotificationLevel::ALL.iter().find(|(n, _)| *n == self).map(|(_, s)| *s).unwrap_or("never")
    }
}

/// What an event-driven schedule waits for: every term must have happened since the schedule
/// last fired. Written `$ALL_SALESFORCE_OBJECTS AND recipe:05v…` (terms joined by `AND`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerRule {
    pub terms: Vec<TriggerTerm>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriggerTerm {
    /// The local Salesforce connection (`SFDC_LOCAL`) finished a sync successfully.
    AllSalesforceObjects,
    /// A dataflow (02K) or recipe (05v) finished a run successfully.
    Asset(SalesforceId),
}

pub const ALL_SALESFORCE_OBJECTS: &str = "$ALL_SALESFORCE_OBJECTS";

impl TriggerRule {
    pub fn parse(s: &str) -> Result<TriggerRule, String> {
        let mut words = s.split_whitespace();
        let Some(first) = words.next() else {
            return Err(format!(
                "is empty; write {ALL_SALESFORCE_OBJECTS}, optionally followed by AND recipe:<id> or AND dataflow:<id>"
            ));
        };
        let mut terms = vec![TriggerTerm::parse(first)?];
        while let Some(word) = words.next() {
            if !word.eq_ignore_ascii_case("AND") {
                return Err(format!("expected AND between terms, found '{word}'"));
            }
            let term = words.next().ok_or("ends with AND")?;
            terms.push(TriggerTerm::parse(term)?);
        }
        Ok(TriggerRule { terms })
    }

    pub fn to_wire(&self) -> String {
        self.terms.iter().map(TriggerTerm::to_wire).collect::<Vec<_>>().join(" AND ")
    }
}

impl TriggerTerm {
    fn parse(term: &str) -> Result<TriggerTerm, String> {
        if term.eq_ignore_ascii_case(ALL_SALESFORCE_OBJECTS) {
            return Ok(TriggerTerm::AllSalesforceObjects);
        }
        let Some((kind, id)) = term.split_once(':') else {
            return Err(format!(
                "unknown term '{term}': expected {ALL_SALESFORCE_OBJECTS}, recipe:<id> or dataflow:<id>"
            ));
        };
        let prefix = match kind.to_ascii_lowercase().as_str() {
            "recipe" => KeyPrefix::Recipe,
            "dataflow" => KeyPrefix::Dataflow,
            _ => return Err(format!("unknown asset type '{kind}' in '{term}': expected recipe or dataflow")),
        };
        let id = SalesforceId::parse(id).map_err(|e| format!("'{term}': {e}"))?;
        if !id.has_prefix(prefix) {
            return Err(format!("'{term}': a {kind} id starts with {}", prefix.as_str()));
        }
        Ok(TriggerTerm::Asset(id))
    }

    fn to_wire(&self) -> String {
        match self {
            TriggerTerm::AllSalesforceObjects => ALL_SALESFORCE_OBJECTS.to_string(),
            TriggerTerm::Asset(id) if id.has_prefix(KeyPrefix::Recipe) => format!("recipe:{id}"),
            TriggerTerm::Asset(id) => format!("dataflow:{id}"),
        }
    }
}

/// One wrong field of a schedule input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleError {
    /// The JSON path of the field (`time.hour`, `daysOfWeek[2]`).
    pub field: String,
    pub message: String,
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Hourly intervals an org offers: the divisors of 24 up to 12.
pub const HOURLY_INTERVALS: [u32; 7] = [1, 2, 3, 4, 6, 8, 12];
/// Minute intervals an org offers (INFERRED from the scheduler's choices: 15, 20, 30).
pub const MINUTELY_INTERVALS: [u32; 3] = [15, 20, 30];

/// Fields the output carries that a client may send back unchanged.
const OUTPUT_ONLY: [&str; 4] = ["assetId", "nextScheduledDate", "url", "type"];

/// Collects the errors of one input while reading it.
struct Reader<'a> {
    obj: &'a Map<String, Value>,
    errors: Vec<ScheduleError>,
    used: Vec<&'static str>,
}

impl<'a> Reader<'a> {
    fn err(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(ScheduleError { field: field.into(), message: message.into() });
    }

    /// The value of `name`, matched case-insensitively; marks it used.
    fn get(&mut self, name: &'static str) -> Option<&'a Value> {
        self.used.push(name);
        let v = self.obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v);
        v.filter(|v| !v.is_null())
    }

    fn enum_value<T: Copy>(&mut self, field: &str, v: &Value, all: &[(T, &str)]) -> Option<T> {
        match v.as_str().and_then(|s| all.iter().find(|(_, n)| n.eq_ignore_ascii_case(s.trim()))) {
            Some((t, _)) => Some(*t),
            None => {
                let names: Vec<&str> = all.iter().map(|(_, n)| *n).collect();
                self.err(field, format!("must be one of {}, got {v}", names.join(", ")));
                None
            }
        }
    }

    fn int(&mut self, field: &str, v: &Value) -> Option<i64> {
        match v.as_i64() {
            Some(n) => Some(n),
            None => {
                self.err(field, format!("must be a whole number, got {v}"));
                None
            }
        }
    }

    fn days(&mut self, field: &'static str, required: bool) -> Days {
        let mut days = Days::default();
        match self.get(field) {
            None if required => self.err(field, "is required: a list of day names (Monday..Sunday)"),
            None => return Days::ALL,
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    match item.as_str().and_then(parse_day) {
                        Some(d) => days.insert(d),
                        None => self
                            .err(format!("{field}[{i}]"), format!("must be a day name (Monday..Sunday), got {item}")),
                    }
                }
                if items.is_empty() {
                    self.err(field, "must name at least one day");
                }
            }
            Some(other) => self.err(field, format!("must be a list of day names, got {other}")),
        }
        days
    }

    fn last_hour(&mut self, start: Option<TimeOfDay>) -> Option<u32> {
        let v = self.get("lastHour")?;
        let n = self.int("lastHour", v)?;
        if !(1..=23).contains(&n) {
            self.err("lastHour", format!("must be 1 to 23, got {n}"));
            return None;
        }
        if let Some(t) = start
            && n as u32 <= t.hour
        {
            self.err(
                "lastHour",
                format!("is {n}:00, not after the start time {:02}:{:02}: nothing would run", t.hour, t.minute),
            );
        }
        Some(n as u32)
    }

    fn interval(&mut self, field: &'static str, allowed: &[u32]) -> u32 {
        let Some(v) = self.get(field) else {
            self.err(field, format!("is required: one of {allowed:?}"));
            return allowed[0];
        };
        match self.int(field, v) {
            Some(n) if allowed.contains(&(n as u32)) && n > 0 => n as u32,
            Some(n) => {
                self.err(field, format!("must be one of {allowed:?}, got {n}"));
                allowed[0]
            }
            None => allowed[0],
        }
    }

    fn time(&mut self) -> Option<TimeOfDay> {
        let Some(v) = self.get("time") else {
            self.err(
                "time",
                "is required: {\"hour\": 0..23, \"minute\": 0..59, \"timeZone\": \"America/Los_Angeles\"}",
            );
            return None;
        };
        let Some(t) = v.as_object() else {
            self.err("time", format!("must be an object with hour, minute and timeZone, got {v}"));
            return None;
        };
        let field = |name: &str| t.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v);
        let mut ok = true;
        let hour = match field("hour") {
            None => {
                self.err("time.hour", "is required (0 to 23)");
                None
            }
            Some(v) => self.int("time.hour", v),
        };
        if let Some(h) = hour
            && !(0..=23).contains(&h)
        {
            self.err("time.hour", format!("must be 0 to 23, got {h}"));
            ok = false;
        }
        let minute = match field("minute") {
            None => Some(0),
            Some(v) => self.int("time.minute", v),
        };
        if let Some(m) = minute
            && !(0..=59).contains(&m)
        {
            self.err("time.minute", format!("must be 0 to 59, got {m}"));
            ok = false;
        }
        // `timeZone` in the docs, `timezone` in an older example; the output's zone object too
        let zone = match field("timeZone") {
            // INFERRED: an org uses the user's zone; swell's single admin user is on UTC
            None => Some(Tz::UTC),
            Some(Value::String(s)) => self.zone("time.timeZone", s),
            Some(Value::Object(o)) => match o.get("zoneId").and_then(Value::as_str) {
                Some(s) => self.zone("time.timeZone.zoneId", s),
                None => {
                    self.err("time.timeZone.zoneId", "is required in a zone object");
                    None
                }
            },
            Some(other) => {
                self.err("time.timeZone", format!("must be a zone id such as \"America/Los_Angeles\", got {other}"));
                None
            }
        };
        for k in t.keys() {
            if !["hour", "minute", "timezone"].iter().any(|n| k.eq_ignore_ascii_case(n)) {
                self.err(format!("time.{k}"), "is not a field of time (hour, minute, timeZone)");
            }
        }
        match (hour, minute, zone) {
            (Some(h), Some(m), Some(zone)) if ok => Some(TimeOfDay { hour: h as u32, minute: m as u32, zone }),
            _ => None,
        }
    }

    fn zone(&mut self, field: &str, s: &str) -> Option<Tz> {
        match zone::parse(s) {
            Some(z) => Some(z),
            None => {
                self.err(field, format!("unknown time zone '{s}': use an IANA zone id such as America/Los_Angeles"));
                None
            }
        }
    }
}

fn parse_day(s: &str) -> Option<Weekday> {
    let s = s.trim();
    WEEK.into_iter().find(|d| day_name(*d).eq_ignore_ascii_case(s))
}

const FREQUENCIES: [&str; 8] =
    ["none", "minutely", "hourly", "daily", "weekly", "monthly", "monthlyrelative", "eventdriven"];

impl Schedule {
    /// The schedule that never runs (what PUT `{}` sets).
    pub fn none() -> Schedule {
        Schedule { frequency: Frequency::None, time: None, notification_level: NotificationLevel::Never }
    }

    /// Reads a ScheduleInput (already unwrapped from `{"schedule": …}`). Every problem is
    /// returned, each naming its field.
    pub fn from_input(input: &Value) -> Result<Schedule, Vec<ScheduleError>> {
        let Some(obj) = input.as_object() else {
            return Err(vec![ScheduleError {
                field: "$".into(),
                message: format!("must be a JSON object, got {input}"),
            }]);
        };
        let mut r = Reader { obj, errors: Vec::new(), used: Vec::new() };
        let frequency_name = match r.get("frequency") {
            // an empty body clears the schedule, as an org answers PUT {}
            None if obj.is_empty() => "none".to_string(),
            None => {
                r.err("frequency", format!("is required: one of {}", FREQUENCIES.join(", ")));
                String::new()
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                // never read as `none`: a form that lost its frequency must not unschedule
                r.err("frequency", format!("is required: one of {}", FREQUENCIES.join(", ")));
                String::new()
            }
            Some(Value::String(s)) => s.trim().to_ascii_lowercase(),
            Some(other) => {
                r.err("frequency", format!("must be a string, got {other}"));
                String::new()
            }
        };
        let notification_level = match r.get("notificationLevel") {
            None => NotificationLevel::Never,
            Some(v) => {
                r.enum_value("notificationLevel", v, &NotificationLevel::ALL).unwrap_or(NotificationLevel::Never)
            }
        };
        let timed = FREQUENCIES.contains(&frequency_name.as_str())
            && !matches!(frequency_name.as_str(), "none" | "eventdriven");
        let time = if timed { r.time() } else { None };
        let frequency = match frequency_name.as_str() {
            "" => Frequency::None,
            "none" => Frequency::None,
            "daily" => Frequency::Daily,
            "weekly" => Frequency::Weekly { days: r.days("daysOfWeek", true) },
            "hourly" => {
                let interval = r.interval("hourlyInterval", &HOURLY_INTERVALS);
                Frequency::Hourly { interval, days: r.days("daysOfWeek", false), last_hour: r.last_hour(time) }
            }
            "minutely" => {
                let interval = r.interval("minutelyInterval", &MINUTELY_INTERVALS);
                Frequency::Minutely { interval, days: r.days("daysOfWeek", false), last_hour: r.last_hour(time) }
            }
            "monthly" => Frequency::Monthly { days: month_days(&mut r) },
            "monthlyrelative" => {
                let week = match r.get("weekInMonth") {
                    None => {
                        r.err("weekInMonth", "is required: First, Second, Third, Fourth or Last");
                        WeekInMonth::First
                    }
                    Some(v) => r.enum_value("weekInMonth", v, &WeekInMonth::ALL).unwrap_or(WeekInMonth::First),
                };
                // the RAML's single `dayInWeek`, or the docs' `daysOfWeek` list
                let days = match (r.get("dayInWeek"), r.obj.keys().any(|k| k.eq_ignore_ascii_case("daysOfWeek"))) {
                    (Some(v), false) => {
                        let mut days = Days::default();
                        match v.as_str().and_then(parse_day) {
                            Some(d) => days.insert(d),
                            None => r.err("dayInWeek", format!("must be a day name (Monday..Sunday), got {v}")),
                        }
                        days
                    }
                    (Some(_), true) => {
                        r.err("dayInWeek", "give either dayInWeek or daysOfWeek, not both");
                        Days::default()
                    }
                    (None, _) => {
                        if !r.obj.keys().any(|k| k.eq_ignore_ascii_case("daysOfWeek")) {
                            r.err("dayInWeek", "is required: a day name (Monday..Sunday)");
                            Days::default()
                        } else {
                            r.days("daysOfWeek", true)
                        }
                    }
                };
                r.used.push("daysOfWeek");
                Frequency::MonthlyRelative { week, days }
            }
            "eventdriven" => {
                let rule = match r.get("triggerRule") {
                    // the event the docs describe: after the local Salesforce connection syncs
                    None => Some(TriggerRule { terms: vec![TriggerTerm::AllSalesforceObjects] }),
                    Some(Value::String(s)) => match TriggerRule::parse(s) {
                        Ok(rule) => Some(rule),
                        Err(m) => {
                            r.err("triggerRule", m);
                            None
                        }
                    },
                    Some(other) => {
                        r.err("triggerRule", format!("must be a string, got {other}"));
                        None
                    }
                };
                Frequency::EventDriven { rule: rule.unwrap_or(TriggerRule { terms: Vec::new() }) }
            }
            other => {
                r.err("frequency", format!("unknown frequency '{other}': one of {}", FREQUENCIES.join(", ")));
                Frequency::None
            }
        };
        // what a dataflow's scheduleAttributes and a recipe show: read back, it must agree
        if let Some(v) = r.get("scheduleType") {
            let wanted = if frequency_name == "eventdriven" { "eventdriven" } else { "timedriven" };
            if !v.as_str().is_some_and(|t| t.trim().eq_ignore_ascii_case(wanted)) {
                r.err("scheduleType", format!("must be {wanted} for the frequency '{frequency_name}', got {v}"));
            }
        }
        // fields the frequency does not use are mistakes (a misspelt `hourlyInterval` would
        // otherwise leave a schedule that runs at other times than its author meant)
        if !frequency_name.is_empty() && FREQUENCIES.contains(&frequency_name.as_str()) {
            let keys: Vec<String> = obj.keys().cloned().collect();
            for k in keys {
                let known = r.used.iter().any(|u| u.eq_ignore_ascii_case(&k))
                    || k.eq_ignore_ascii_case("time") && timed
                    || OUTPUT_ONLY.iter().any(|o| o.eq_ignore_ascii_case(&k));
                if !known {
                    r.err(k.clone(), format!("is not a field of a {frequency_name} schedule"));
                }
            }
        }
        if r.errors.is_empty() { Ok(Schedule { frequency, time, notification_level }) } else { Err(r.errors) }
    }

    /// The output form (lowercase enums, the zone object with its offset at `at`), without
    /// `assetId` and `nextScheduledDate`, which belong to the resource.
    pub fn output(&self, at: DateTime<Utc>) -> ScheduleOutput {
        let mut out = ScheduleOutput {
            frequency: self.frequency.as_str(),
            notification_level: self.notification_level.as_str(),
            time: self.time.map(|t| TimeOutput { hour: t.hour, minute: t.minute, time_zone: ZoneInfo::of(t.zone, at) }),
            ..ScheduleOutput::default()
        };
        match &self.frequency {
            Frequency::None | Frequency::Daily => {}
            Frequency::Minutely { interval, days, last_hour } => {
                out.minutely_interval = Some(*interval);
                out.days_of_week = Some(days.names());
                out.last_hour = *last_hour;
            }
            Frequency::Hourly { interval, days, last_hour } => {
                out.hourly_interval = Some(*interval);
                out.days_of_week = Some(days.names());
                out.last_hour = *last_hour;
            }
            Frequency::Weekly { days } => out.days_of_week = Some(days.names()),
            Frequency::Monthly { days: MonthDays::Last } => out.days_of_month = Some(vec![-1]),
            Frequency::Monthly { days: MonthDays::Days(bits) } => {
                out.days_of_month = Some((1..=31).filter(|d| bits & (1 << d) != 0).collect())
            }
            Frequency::MonthlyRelative { week, days } => {
                out.week_in_month = Some(week.as_str());
                match days.iter().collect::<Vec<_>>().as_slice() {
                    [one] => out.day_in_week = Some(day_name(*one)),
                    _ => out.days_of_week = Some(days.names()),
                }
            }
            Frequency::EventDriven { rule } => out.trigger_rule = Some(rule.to_wire()),
        }
        out
    }

    /// [`Schedule::output`] as JSON: the form the store keeps.
    pub fn to_json(&self, at: DateTime<Utc>) -> Value {
        serde_json::to_value(self.output(at)).unwrap_or(Value::Null)
    }
}

/// A schedule as the API writes it ([`Schedule::output`]): the fields of its frequency only.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ScheduleOutput {
    #[cfg_attr(feature = "openapi", schema(schema_with = frequencies))]
    pub frequency: &'static str,
    #[cfg_attr(feature = "openapi", schema(schema_with = notification_levels))]
    pub notification_level: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<TimeOutput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minutely_interval: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hourly_interval: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_of_week: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_hour: Option<u32>,
    /// Days 1 to 31, or `[-1]` for the last day of the month.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_of_month: Option<Vec<i32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub week_in_month: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day_in_week: Option<&'static str>,
    /// What an event-driven schedule waits for (`$ALL_SALESFORCE_OBJECTS AND recipe:05v…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_rule: Option<String>,
}

#[cfg(feature = "openapi")]
fn frequencies() -> utoipa::openapi::schema::Object {
    crate::openapi::one_of(FREQUENCIES.iter().copied())
}

#[cfg(feature = "openapi")]
fn notification_levels() -> utoipa::openapi::schema::Object {
    crate::openapi::one_of(NotificationLevel::ALL.iter().map(|(_, s)| *s))
}

/// The local time of a timed schedule, with its zone as shown at one instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TimeOutput {
    pub hour: u32,
    pub minute: u32,
    pub time_zone: ZoneInfo,
}

fn month_days(r: &mut Reader) -> MonthDays {
    let Some(v) = r.get("daysOfMonth") else {
        r.err("daysOfMonth", "is required: days 1 to 31, or [-1] for the last day of the month");
        return MonthDays::Days(0);
    };
    let Some(items) = v.as_array() else {
        r.err("daysOfMonth", format!("must be a list of days 1 to 31, or [-1], got {v}"));
        return MonthDays::Days(0);
    };
    if items.is_empty() {
        r.err("daysOfMonth", "must name at least one day");
    }
    let mut bits = 0u32;
    let mut last = false;
    for (i, item) in items.iter().enumerate() {
        let field = format!("daysOfMonth[{i}]");
        match r.int(&field, item) {
            Some(-1) => last = true,
            Some(n) if (1..=31).contains(&n) => bits |= 1 << n,
            Some(n) => r.err(field, format!("must be 1 to 31, or -1 for the last day, got {n}")),
            None => {}
        }
    }
    if last && bits != 0 {
        r.err("daysOfMonth", "-1 (the last day) cannot be combined with other days");
    }
    if last { MonthDays::Last } else { MonthDays::Days(bits) }
}

#[cfg(test)]
mod tests;
