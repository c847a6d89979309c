//! A schedule in words, as the web UI shows it beside its next run ("Every 2 hours from 06:00
//! until 18:00, Monday to Friday (Europe/Paris)"). Written here, beside the schedule's rules,
//! so that the words cannot drift from what the schedule does.

use super::{Days, Frequency, MonthDays, Schedule, TimeOfDay, TriggerTerm, WeekInMonth, day_name};
use chrono::Weekday;

impl Schedule {
    /// The schedule in one English sentence, with its zone. Assets an event waits for are
    /// named by `name` (their id when it answers `None`).
    pub fn words(&self, name: impl Fn(&crate::SalesforceId) -> Option<String>) -> String {
        let at = |t: &Option<TimeOfDay>| match t {
            Some(t) => format!(" at {:02}:{:02} ({})", t.hour, t.minute, t.zone.name()),
            None => String::new(),
        };
        match &self.frequency {
            Frequency::None => "Not scheduled".to_string(),
            Frequency::Minutely { interval, days, last_hour } => {
                repeating(*interval, "minute", days, *last_hour, &self.time)
            }
            Frequency::Hourly { interval, days, last_hour } => {
                repeating(*interval, "hour", days, *last_hour, &self.time)
            }
            Frequency::Daily => format!("Daily{}", at(&self.time)),
            Frequency::Weekly { days } => format!("Weekly on {}{}", day_list(*days), at(&self.time)),
            Frequency::Monthly { days: MonthDays::Last } => format!("Monthly on the last day{}", at(&self.time)),
            Frequency::Monthly { days: MonthDays::Days(bits) } => {
                let days: Vec<String> = (1..=31).filter(|d| bits & (1 << d) != 0).map(|d: u32| d.to_string()).collect();
                let which = if days.len() == 1 { "day" } else { "days" };
                format!("Monthly on {which} {}{}", and_list(&days), at(&self.time))
            }
            Frequency::MonthlyRelative { week, days } => {
                let week = match week {
                    WeekInMonth::First => "first",
                    WeekInMonth::Second => "second",
                    WeekInMonth::Third => "third",
                    WeekInMonth::Fourth => "fourth",
                    WeekInMonth::Last => "last",
                };
                let names: Vec<String> = days.iter().map(|d| title(day_name(d))).collect();
                format!("Monthly on the {week} {}{}", and_list(&names), at(&self.time))
            }
            Frequency::EventDriven { rule } => {
                let terms: Vec<String> = rule
                    .terms
                    .iter()
                    .map(|t| match t {
                        TriggerTerm::AllSalesforceObjects => "the local Salesforce connection syncs".to_string(),
                        TriggerTerm::Asset(id) => {
                            let kind = if id.has_prefix(crate::KeyPrefix::Recipe) { "recipe" } else { "dataflow" };
                            format!("{kind} {} runs", name(id).unwrap_or_else(|| id.to_string()))
                        }
                    })
                    .collect();
                format!("After {}", and_list(&terms))
            }
        }
    }
}

/// "Every 2 hours from 06:00 until 18:00, Monday to Friday (UTC)".
fn repeating(interval: u32, unit: &str, days: &Days, last_hour: Option<u32>, time: &Option<TimeOfDay>) -> String {
    let every = if interval == 1 { format!("Every {unit}") } else { format!("Every {interval} {unit}s") };
    let (from, zone) = match time {
        Some(t) => (format!(" from {:02}:{:02}", t.hour, t.minute), format!(" ({})", t.zone.name())),
        None => (String::new(), String::new()),
    };
    let until = last_hour.map(|h| format!(" until {h:02}:00")).unwrap_or_default();
    format!("{every}{from}{until}, {}{zone}", day_list(*days))
}

/// "every day", "Monday to Friday", "weekends", or the days named.
fn day_list(days: Days) -> String {
    let weekdays = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri];
    let only = |list: &[Weekday]| days.iter().count() == list.len() && list.iter().all(|d| days.contains(*d));
    if days == Days::ALL {
        "every day".to_string()
    } else if only(&weekdays) {
        "Monday to Friday".to_string()
    } else if only(&[Weekday::Sat, Weekday::Sun]) {
        "weekends".to_string()
    } else {
        // Monday first, as people read a week
        let mut names: Vec<Weekday> = days.iter().collect();
        names.sort_by_key(Weekday::num_days_from_monday);
        and_list(&names.into_iter().map(|d| title(day_name(d))).collect::<Vec<_>>())
    }
}

fn title(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// "a", "a and b", "a, b and c".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn words(input: serde_json::Value) -> String {
        Schedule::from_input(&input).unwrap().words(|id| (id.as_str().starts_with("05v")).then(|| "Pipeline".into()))
    }

    #[test]
    fn each_frequency_reads_as_a_sentence_with_its_zone() {
        let t = json!({"hour": 6, "minute": 5, "timeZone": "Europe/Paris"});
        assert_eq!(words(json!({"frequency": "none"})), "Not scheduled");
        assert_eq!(words(json!({"frequency": "daily", "time": t})), "Daily at 06:05 (Europe/Paris)");
        assert_eq!(
            words(json!({"frequency": "hourly", "hourlyInterval": 2, "lastHour": 18, "time": t,
                "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"]})),
            "Every 2 hours from 06:05 until 18:00, Monday to Friday (Europe/Paris)"
        );
        assert_eq!(
            words(json!({"frequency": "hourly", "hourlyInterval": 1, "time": t,
                "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]})),
            "Every hour from 06:05, every day (Europe/Paris)"
        );
        assert_eq!(
            words(json!({"frequency": "weekly", "daysOfWeek": ["friday", "monday"], "time": t})),
            "Weekly on Monday and Friday at 06:05 (Europe/Paris)"
        );
        assert_eq!(
            words(json!({"frequency": "weekly", "daysOfWeek": ["saturday", "sunday"], "time": t})),
            "Weekly on weekends at 06:05 (Europe/Paris)"
        );
        assert_eq!(
            words(json!({"frequency": "monthly", "daysOfMonth": [15, 1, 28], "time": t})),
            "Monthly on days 1, 15 and 28 at 06:05 (Europe/Paris)"
        );
        assert_eq!(
            words(json!({"frequency": "monthly", "daysOfMonth": [-1], "time": t})),
            "Monthly on the last day at 06:05 (Europe/Paris)"
        );
        assert_eq!(
            words(json!({"frequency": "monthlyrelative", "weekInMonth": "last", "dayInWeek": "friday", "time": t})),
            "Monthly on the last Friday at 06:05 (Europe/Paris)"
        );
        let flow = crate::SalesforceId::parse("02KSw0000000001").unwrap();
        assert_eq!(
            words(json!({"frequency": "eventdriven",
                "triggerRule": format!("$ALL_SALESFORCE_OBJECTS AND recipe:05vSw0000000001 AND dataflow:{flow}")})),
            format!("After the local Salesforce connection syncs, recipe Pipeline runs and dataflow {flow} runs")
        );
    }
}
