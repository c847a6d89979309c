//! Relative dates of the recipe language: `{"type", "argument"}` bounds that count whole
//! periods from the run's clock (0 the current period, -1 the previous one), in range buckets
//! (`Days`, `Weeks`, `Months`, `Quarters`, `Years`, `AbsoluteDate`: the Recipe REST API's
//! spelling) and in filter operands (`N_DAYS`, `N_WEEKS`, `N_MONTHS`, `N_QUARTERS`, `N_YEARS`:
//! the recipe editor's, 150 operands of the public recipes). Weeks start on Sunday, as the
//! engine's other weeks.

use super::enum_eq;
use chrono::{Datelike, Duration, Months, NaiveDate};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Grain {
    Absolute,
    Days,
    Weeks,
    Months,
    Quarters,
    Years,
}

const GRAINS: &[(&str, Grain)] = &[
    ("AbsoluteDate", Grain::Absolute),
    ("Days", Grain::Days),
    ("Weeks", Grain::Weeks),
    ("Months", Grain::Months),
    ("Quarters", Grain::Quarters),
    ("Years", Grain::Years),
    ("N_DAYS", Grain::Days),
    ("N_WEEKS", Grain::Weeks),
    ("N_MONTHS", Grain::Months),
    ("N_QUARTERS", Grain::Quarters),
    ("N_YEARS", Grain::Years),
];

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DateBound {
    pub grain: Grain,
    pub argument: i64,
}

impl DateBound {
    /// The first day of the period this bound names, counted from `today`.
    pub fn period_start(&self, today: NaiveDate) -> Option<NaiveDate> {
        use crate::saql::functions::{add_months_signed, month_start, quarter_start, week_start};
        let n = self.argument;
        Some(match self.grain {
            Grain::Absolute => crate::dateformat::from_millis(n)?.date(),
            Grain::Days => today.checked_add_signed(Duration::try_days(n)?)?,
            Grain::Weeks => week_start(today).checked_add_signed(Duration::try_weeks(n)?)?,
            Grain::Months => add_months_signed(month_start(today), n)?,
            Grain::Quarters => add_months_signed(quarter_start(today), n.checked_mul(3)?)?,
            Grain::Years => add_months_signed(NaiveDate::from_ymd_opt(today.year(), 1, 1)?, n.checked_mul(12)?)?,
        })
    }

    /// The first day after the period this bound names.
    pub fn period_end(&self, today: NaiveDate) -> Option<NaiveDate> {
        let start = self.period_start(today)?;
        match self.grain {
            Grain::Absolute | Grain::Days => start.succ_opt(),
            Grain::Weeks => start.checked_add_signed(Duration::days(7)),
            Grain::Months => start.checked_add_months(Months::new(1)),
            Grain::Quarters => start.checked_add_months(Months::new(3)),
            Grain::Years => start.checked_add_months(Months::new(12)),
        }
    }
}

pub fn date_bound(v: &Option<Value>) -> Result<Option<DateBound>, String> {
    let Some(v) = v.as_ref().filter(|v| !v.is_null()) else { return Ok(None) };
    let ty = v.get("type").and_then(Value::as_str).ok_or("needs a type (AbsoluteDate, Days, Weeks, ...)")?;
    let argument = match v.get("argument") {
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| format!("argument {n} is not a whole number"))?,
        Some(Value::String(s)) => s.trim().parse().map_err(|_| format!("argument '{s}' is not a whole number"))?,
        _ => return Err("needs an argument (a number)".into()),
    };
    if enum_eq(ty, "FiscalQuarters") || enum_eq(ty, "FiscalYears") {
        return Err(format!("'{ty}' ranges are not supported: a recipe names no fiscal calendar swell can read"));
    }
    let grain = GRAINS
        .iter()
        .find(|(n, _)| enum_eq(n, ty))
        .map(|(_, g)| *g)
        .ok_or_else(|| format!("'{ty}' is not one of AbsoluteDate, Days, Weeks, Months, Quarters, Years"))?;
    Ok(Some(DateBound { grain, argument }))
}
