//! The schedule dialog of a dataflow, recipe or connection: the form with each frequency's
//! own fields, read into the API's schedule input and checked by the same rules
//! (`Schedule::from_input`, `App::put_schedule`), so the page and the API cannot disagree on
//! what a schedule means or when it runs next. (A connection's syncs are time-based only:
//! its dialog offers no event-driven frequency.)

use crate::input::Fields;
use crate::pages::connections;
use crate::pages::dataflow::{self, Edits};
use crate::session::{CsrfForm, Viewer};
use crate::{BASE, Web};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Utc;
use serde_json::{Map, Value, json};
use swell_app::{Action, ApiError};
use swell_core::{SalesforceId, Schedule};

/// The frequencies the dialog offers, with their words. (A `minutely` schedule set through
/// the API is shown in words and can be replaced, not edited.)
pub const FREQUENCIES: [(&str, &str); 7] = [
    ("none", "Not scheduled"),
    ("hourly", "Hourly"),
    ("daily", "Daily"),
    ("weekly", "Weekly"),
    ("monthly", "Monthly, on days of the month"),
    ("monthlyrelative", "Monthly, on a weekday (the first Monday, the last Friday)"),
    ("eventdriven", "After other runs (event-driven)"),
];

pub const WEEKDAYS: [(&str, &str); 7] = [
    ("monday", "Mon"),
    ("tuesday", "Tue"),
    ("wednesday", "Wed"),
    ("thursday", "Thu"),
    ("friday", "Fri"),
    ("saturday", "Sat"),
    ("sunday", "Sun"),
];

pub const WEEKS: [(&str, &str); 5] =
    [("first", "First"), ("second", "Second"), ("third", "Third"), ("fourth", "Fourth"), ("last", "Last")];

/// The intervals an org offers for hourly schedules.
pub const HOURLY_INTERVALS: [u32; 7] = [1, 2, 3, 4, 6, 8, 12];

/// The dialog on a page (`templates/schedule_dialog.html`): where it posts, its fields (the
/// stored schedule, or the form as sent) and the problems of what was sent.
pub struct Dialog {
    pub action: String,
    pub form: ScheduleForm,
    pub problems: Vec<String>,
    /// Whether it offers the event-driven frequency (not for a connection).
    pub event_driven: bool,
    pub frequencies: &'static [(&'static str, &'static str)],
}

impl Dialog {
    /// The dialog posting to `action`: `sent` when a form came back with problems, else the
    /// fields of `stored`.
    pub fn new(
        action: String,
        stored: Option<&Schedule>,
        sent: Option<(ScheduleForm, Vec<String>)>,
        event_driven: bool,
    ) -> Dialog {
        let (form, problems) = sent.unwrap_or_else(|| (ScheduleForm::of(stored), Vec::new()));
        let frequencies = if event_driven { &FREQUENCIES[..] } else { &FREQUENCIES[..FREQUENCIES.len() - 1] };
        Dialog { action, form, problems, event_driven, frequencies }
    }

    pub fn weekdays(&self) -> &'static [(&'static str, &'static str)] {
        &WEEKDAYS
    }

    pub fn weeks(&self) -> &'static [(&'static str, &'static str)] {
        &WEEKS
    }

    pub fn intervals(&self) -> &'static [u32] {
        &HOURLY_INTERVALS
    }

    pub fn month_days(&self) -> std::ops::RangeInclusive<i32> {
        1..=31
    }

    pub fn hours(&self) -> std::ops::Range<u32> {
        0..24
    }
}

/// What the dialog's fields hold: the current schedule, or what was sent back with its
/// problems. Names are the API's (`hourlyInterval`, `daysOfWeek`, ...).
#[derive(Debug, Clone, Default)]
pub struct ScheduleForm {
    pub frequency: String,
    pub hour: String,
    pub minute: String,
    pub time_zone: String,
    pub hourly_interval: String,
    pub last_hour: String,
    pub days_of_week: Vec<String>,
    pub days_of_month: Vec<String>,
    pub week_in_month: String,
    pub day_in_week: String,
    pub trigger_rule: String,
}

impl ScheduleForm {
    /// The fields of a stored schedule (none: a daily schedule at midnight UTC to start from).
    pub fn of(schedule: Option<&Schedule>) -> ScheduleForm {
        let Some(s) = schedule else {
            return ScheduleForm {
                frequency: "none".into(),
                hour: "0".into(),
                minute: "0".into(),
                time_zone: "UTC".into(),
                hourly_interval: "1".into(),
                ..ScheduleForm::default()
            };
        };
        let out = s.output(Utc::now());
        let text = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
        ScheduleForm {
            frequency: out.frequency.to_string(),
            hour: out.time.as_ref().map(|t| t.hour.to_string()).unwrap_or_else(|| "0".into()),
            minute: out.time.as_ref().map(|t| t.minute.to_string()).unwrap_or_else(|| "0".into()),
            time_zone: s.time.map(|t| t.zone.name().to_string()).unwrap_or_else(|| "UTC".into()),
            hourly_interval: text(out.hourly_interval.or(Some(1))),
            last_hour: text(out.last_hour),
            days_of_week: out.days_of_week.unwrap_or_default().iter().map(|d| d.to_string()).collect(),
            days_of_month: out.days_of_month.unwrap_or_default().iter().map(|d| d.to_string()).collect(),
            week_in_month: out.week_in_month.unwrap_or_default().to_string(),
            day_in_week: out.day_in_week.unwrap_or_default().to_string(),
            trigger_rule: out.trigger_rule.unwrap_or_default(),
        }
    }

    /// The fields of a sent form. The days are repeated keys; any other key sent twice keeps
    /// its first value, as everywhere in the UI's forms.
    fn read(pairs: &[(String, String)]) -> ScheduleForm {
        let mut f = ScheduleForm::default();
        let mut seen = std::collections::HashSet::new();
        for (k, v) in pairs {
            let v = v.trim().to_string();
            if !matches!(k.as_str(), "daysOfWeek" | "daysOfMonth") && !seen.insert(k.as_str()) {
                continue;
            }
            match k.as_str() {
                "frequency" => f.frequency = v,
                "hour" => f.hour = v,
                "minute" => f.minute = v,
                "timeZone" => f.time_zone = v,
                "hourlyInterval" => f.hourly_interval = v,
                "lastHour" => f.last_hour = v,
                "daysOfWeek" => f.days_of_week.push(v),
                "daysOfMonth" => f.days_of_month.push(v),
                "weekInMonth" => f.week_in_month = v,
                "dayInWeek" => f.day_in_week = v,
                "triggerRule" => f.trigger_rule = v,
                _ => {}
            }
        }
        f
    }

    /// The API's schedule input of this form: the chosen frequency's fields only (the others
    /// are on the page too, hidden). Numbers that do not read as numbers are passed on as
    /// text, so that the schedule's own check names them.
    pub fn input(&self) -> Value {
        let number = |s: &str| s.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::from(s));
        let mut o = Map::new();
        o.insert("frequency".into(), Value::from(self.frequency.as_str()));
        let timed = !matches!(self.frequency.as_str(), "none" | "eventdriven" | "");
        if timed {
            o.insert(
                "time".into(),
                json!({"hour": number(&self.hour), "minute": number(&self.minute), "timeZone": self.time_zone}),
            );
        }
        let days = || Value::from(self.days_of_week.clone());
        match self.frequency.as_str() {
            "hourly" => {
                o.insert("hourlyInterval".into(), number(&self.hourly_interval));
                o.insert("daysOfWeek".into(), days());
                if !self.last_hour.is_empty() {
                    o.insert("lastHour".into(), number(&self.last_hour));
                }
            }
            "weekly" => {
                o.insert("daysOfWeek".into(), days());
            }
            "monthly" => {
                o.insert("daysOfMonth".into(), self.days_of_month.iter().map(|d| number(d)).collect());
            }
            "monthlyrelative" => {
                o.insert("weekInMonth".into(), Value::from(self.week_in_month.as_str()));
                o.insert("dayInWeek".into(), Value::from(self.day_in_week.as_str()));
            }
            "eventdriven" => {
                o.insert("triggerRule".into(), Value::from(self.trigger_rule.as_str()));
            }
            _ => {}
        }
        Value::Object(o)
    }

    pub fn has_day(&self, day: &str) -> bool {
        self.days_of_week.iter().any(|d| d.eq_ignore_ascii_case(day))
    }

    /// Whether day `day` of the month (-1: the last) is chosen (templates pass it by value or
    /// by reference).
    pub fn has_month_day(&self, day: impl std::borrow::Borrow<i32>) -> bool {
        self.days_of_month.iter().any(|d| d.parse::<i32>().ok() == Some(*day.borrow()))
    }
}

/// Why a schedule was not saved.
enum Refusal {
    /// What the form holds: each problem named by its field, shown in the dialog.
    Form(Vec<String>),
    /// Anything else (not found, not allowed), answered as such.
    Other(ApiError),
}

/// The role a form needs (removing the schedule, or setting it), checked before anything
/// else is read: a refusal is the role's, and audited, whatever the id or the form holds.
async fn permit(web: &Web, viewer: &Viewer, form: &ScheduleForm) -> Result<(), Response> {
    let action = if form.frequency == "none" { Action::DeleteSchedule } else { Action::PutSchedule };
    web.app().require(&viewer.actor, action).await.map_err(|e| crate::pages::error(&e))
}

/// Saves `form` as the schedule of asset `target` or removes it (`none`); the notice that
/// says what it is now. The dialog has no notification setting: a saved schedule keeps the
/// stored one's `notificationLevel` (the API's PUT replaces it, as an org's does).
async fn apply(web: &Web, viewer: &Viewer, target: &SalesforceId, form: &ScheduleForm) -> Result<String, Refusal> {
    if form.frequency == "none" {
        web.app().delete_schedule(&viewer.actor, target.as_str()).await.map_err(Refusal::Other)?;
        return Ok("Not scheduled any more.".to_string());
    }
    let mut input = form.input();
    let stored = web.app().store.schedule(target).await.map_err(|e| Refusal::Other(e.into()))?;
    if let (Some(rec), Some(fields)) = (stored, input.as_object_mut()) {
        fields.insert("notificationLevel".into(), Value::from(rec.schedule.notification_level.as_str()));
    }
    let schedule = Schedule::from_input(&input)
        .map_err(|errors| Refusal::Form(errors.iter().map(ToString::to_string).collect()))?;
    match web.app().put_schedule(&viewer.actor, target.as_str(), schedule).await {
        Ok(rec) => {
            let next = rec
                .next_run
                .map(|t| format!(" Next run: {}.", crate::format::Time(t)))
                .unwrap_or_else(|| " It runs when its events happen.".to_string());
            Ok(format!("Schedule saved: {}.{next}", rec.schedule.words(|_| None)))
        }
        Err(e) if e.status() == StatusCode::BAD_REQUEST => {
            Err(Refusal::Form(std::iter::once(e.message).chain(e.more).collect()))
        }
        Err(e) => Err(Refusal::Other(e)),
    }
}

/// Saves a dataflow's or recipe's schedule, or answers its page with the form as sent and
/// every problem named by its field.
pub async fn save(
    State(web): State<Web>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Fields { value: csrf, pairs }: Fields<CsrfForm>,
) -> Response {
    if let Some(refused) = viewer.refuse(&csrf.csrf) {
        return refused;
    }
    let form = ScheduleForm::read(&pairs);
    if let Err(refused) = permit(&web, &viewer, &form).await {
        return refused;
    }
    let asset = match dataflow::Asset::load(&web, &id).await {
        Ok(a) => a,
        Err(e) => return crate::pages::error(&e),
    };
    match apply(&web, &viewer, asset.asset_id(), &form).await {
        Ok(notice) => crate::pages::changed(&headers, &notice, &format!("{BASE}/dataflows/{}", asset.dataflow.id)),
        Err(Refusal::Form(problems)) => {
            let edits = Edits { schedule: Some((form, problems)), ..Edits::default() };
            dataflow::render(&web, &viewer, &asset, edits, StatusCode::BAD_REQUEST).await
        }
        Err(Refusal::Other(e)) => crate::pages::error(&e),
    }
}

/// Saves a connection's schedule, or answers its page with the form as sent and its problems.
pub async fn save_connection(
    State(web): State<Web>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Fields { value: csrf, pairs }: Fields<CsrfForm>,
) -> Response {
    if let Some(refused) = viewer.refuse(&csrf.csrf) {
        return refused;
    }
    let form = ScheduleForm::read(&pairs);
    if let Err(refused) = permit(&web, &viewer, &form).await {
        return refused;
    }
    let c = match web.app().connection(&id).await {
        Ok(c) => c,
        Err(e) => return crate::pages::error(&e),
    };
    match apply(&web, &viewer, &c.id, &form).await {
        Ok(notice) => crate::pages::changed(&headers, &notice, &format!("{BASE}/connections/{}", c.id)),
        Err(Refusal::Form(problems)) => {
            let edits = connections::Edits { schedule: Some((form, problems)), ..Default::default() };
            connections::render(&web, &viewer, c.id.as_str(), edits, StatusCode::BAD_REQUEST).await
        }
        Err(Refusal::Other(e)) => crate::pages::error(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_sends_only_its_frequencys_fields_and_reads_back_from_a_schedule() {
        let pairs: Vec<(String, String)> = [
            ("frequency", "weekly"),
            ("hour", "6"),
            ("minute", "30"),
            ("timeZone", "Europe/Paris"),
            ("hourlyInterval", "2"),
            ("daysOfWeek", "monday"),
            ("daysOfWeek", "friday"),
            ("daysOfMonth", "3"),
            ("triggerRule", "x"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let form = ScheduleForm::read(&pairs);
        let input = form.input();
        assert_eq!(
            input,
            json!({"frequency": "weekly", "time": {"hour": 6, "minute": 30, "timeZone": "Europe/Paris"},
                   "daysOfWeek": ["monday", "friday"]})
        );
        let back = ScheduleForm::of(Some(&Schedule::from_input(&input).unwrap()));
        assert_eq!((back.frequency.as_str(), back.time_zone.as_str()), ("weekly", "Europe/Paris"));
        assert!(back.has_day("monday") && back.has_day("friday") && !back.has_day("sunday"));
        // what is not a number reaches the schedule's check as it was typed
        let odd = ScheduleForm { frequency: "daily".into(), hour: "six".into(), ..ScheduleForm::default() };
        let errors = Schedule::from_input(&odd.input()).unwrap_err();
        assert!(errors.iter().any(|e| e.field == "time.hour"), "{errors:?}");
    }
}
