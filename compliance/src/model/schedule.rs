//! When a workflow runs: times of day, sync windows and triggers. All times are UTC.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Minutes in a day.
pub const MINUTES_PER_DAY: u32 = 24 * 60;

/// Why a text is not a time of day or a sync window.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// The text is not `hh:mm` with hours 0-23 and minutes 0-59.
    #[error("`{0}` is not a time of day: use hh:mm, 00:00 to 23:59 (UTC)")]
    BadTimeOfDay(String),
    /// The window starts and ends at the same time.
    #[error("a sync window must not start and end at the same time ({0})")]
    EmptyWindow(String),
}

/// A time of day in UTC, to the minute. Written `hh:mm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    /// The time `hour:minute`, or `None` if out of range.
    pub fn new(hour: u8, minute: u8) -> Option<TimeOfDay> {
        (hour < 24 && minute < 60).then(|| TimeOfDay(u16::from(hour) * 60 + u16::from(minute)))
    }

    /// Parses `hh:mm` (or `h:mm`).
    pub fn parse(input: &str) -> Result<TimeOfDay, TimeError> {
        let bad = || TimeError::BadTimeOfDay(input.to_owned());
        let (hour, minute) = input.trim().split_once(':').ok_or_else(bad)?;
        let two_digit_minutes = minute.len() == 2;
        let digits = |s: &str, max_len: usize| {
            (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u8>().ok())
                .flatten()
        };
        match (digits(hour, 2), digits(minute, 2)) {
            (Some(hour), Some(minute)) if two_digit_minutes => {
                TimeOfDay::new(hour, minute).ok_or_else(bad)
            }
            _ => Err(bad()),
        }
    }

    /// Minutes since midnight.
    pub fn minutes_since_midnight(self) -> u32 {
        u32::from(self.0)
    }

    /// The hour, 0-23.
    pub fn hour(self) -> u8 {
        // Fits: self.0 < 1440, so self.0 / 60 < 24.
        u8::try_from(self.0 / 60).unwrap_or(23)
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl FromStr for TimeOfDay {
    type Err = TimeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TimeOfDay::parse(s)
    }
}

impl TryFrom<String> for TimeOfDay {
    type Error = TimeError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        TimeOfDay::parse(&value)
    }
}

impl From<TimeOfDay> for String {
    fn from(value: TimeOfDay) -> Self {
        value.to_string()
    }
}

/// The hours (UTC) in which a workflow moves its data, e.g. 01:00-05:00. A window whose end is
/// before its start wraps past midnight (22:00-04:00). The end is exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawSyncWindow", into = "RawSyncWindow")]
pub struct SyncWindow {
    start: TimeOfDay,
    end: TimeOfDay,
}

/// The serde form of a [`SyncWindow`], validated on the way in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct RawSyncWindow {
    start: TimeOfDay,
    end: TimeOfDay,
}

impl TryFrom<RawSyncWindow> for SyncWindow {
    type Error = TimeError;

    fn try_from(raw: RawSyncWindow) -> Result<Self, Self::Error> {
        SyncWindow::new(raw.start, raw.end)
    }
}

impl From<SyncWindow> for RawSyncWindow {
    fn from(window: SyncWindow) -> Self {
        RawSyncWindow {
            start: window.start,
            end: window.end,
        }
    }
}

impl SyncWindow {
    /// The window from `start` (inclusive) to `end` (exclusive); refused when they are equal.
    pub fn new(start: TimeOfDay, end: TimeOfDay) -> Result<SyncWindow, TimeError> {
        if start == end {
            return Err(TimeError::EmptyWindow(start.to_string()));
        }
        Ok(SyncWindow { start, end })
    }

    /// Parses `hh:mm-hh:mm`.
    pub fn parse(input: &str) -> Result<SyncWindow, TimeError> {
        let (start, end) = input
            .split_once('-')
            .ok_or_else(|| TimeError::BadTimeOfDay(input.to_owned()))?;
        SyncWindow::new(TimeOfDay::parse(start)?, TimeOfDay::parse(end)?)
    }

    /// Where the window starts.
    pub fn start(self) -> TimeOfDay {
        self.start
    }

    /// Where the window ends (exclusive).
    pub fn end(self) -> TimeOfDay {
        self.end
    }

    /// The window's length in minutes (1 to 1439).
    pub fn duration_minutes(self) -> u32 {
        let (start, end) = (
            self.start.minutes_since_midnight(),
            self.end.minutes_since_midnight(),
        );
        (end + MINUTES_PER_DAY - start) % MINUTES_PER_DAY
    }

    /// Whether the minute of the day `minute` (0-1439) lies inside the window.
    pub fn contains_minute(self, minute: u32) -> bool {
        let minute = minute % MINUTES_PER_DAY;
        let start = self.start.minutes_since_midnight();
        (minute + MINUTES_PER_DAY - start) % MINUTES_PER_DAY < self.duration_minutes()
    }

    /// Whether any minute of the hour `hour` (0-23) lies inside the window.
    pub fn overlaps_hour(self, hour: u8) -> bool {
        let first = u32::from(hour) * 60;
        (first..first + 60).any(|minute| self.contains_minute(minute))
    }
}

impl fmt::Display for SyncWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{} UTC", self.start, self.end)
    }
}

/// What starts a run of a workflow, and so how often it runs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    /// Every N minutes (inside the sync window, if one is declared).
    Interval {
        /// Minutes between runs.
        every_minutes: NonZeroU32,
    },
    /// Every day at the listed times (UTC).
    Daily {
        /// The times of the runs.
        at: Vec<TimeOfDay>,
    },
    /// Started by people or events, with an expected count of runs per day.
    OnDemand {
        /// Runs expected on a busy day.
        expected_per_day: u32,
    },
}

impl Trigger {
    /// Runs per day. An interval inside a sync window runs only within the window.
    pub fn runs_per_day(&self, window: Option<SyncWindow>) -> u64 {
        match self {
            Trigger::Interval { every_minutes } => {
                let span = window.map_or(MINUTES_PER_DAY, SyncWindow::duration_minutes);
                u64::from(span.div_ceil(every_minutes.get()))
            }
            Trigger::Daily { at } => at.len() as u64,
            Trigger::OnDemand { expected_per_day } => u64::from(*expected_per_day),
        }
    }

    /// A phrase for people: "every 60 minutes", "daily at 02:00, 14:00", "on demand, about 40
    /// a day".
    pub fn describe(&self) -> String {
        match self {
            Trigger::Interval { every_minutes } => format!("every {every_minutes} minutes"),
            Trigger::Daily { at } => {
                let times: Vec<String> = at.iter().map(ToString::to_string).collect();
                format!("daily at {} UTC", times.join(", "))
            }
            Trigger::OnDemand { expected_per_day } => {
                format!("on demand, about {expected_per_day} a day")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn time(text: &str) -> TimeOfDay {
        TimeOfDay::parse(text).expect("a valid time in the test")
    }

    #[test]
    fn a_time_of_day_parses_and_prints_as_hh_mm() {
        assert_eq!(time("1:05").to_string(), "01:05");
        assert_eq!(time("23:59").minutes_since_midnight(), 1439);
        for bad in ["24:00", "12:60", "12", "ab:cd", "1:5", "", "-1:00"] {
            assert!(TimeOfDay::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_window_past_midnight_contains_the_hours_on_both_sides() {
        let window = SyncWindow::parse("22:00-04:00").expect("a valid window");
        assert_eq!(window.duration_minutes(), 360);
        assert!(window.overlaps_hour(23));
        assert!(window.overlaps_hour(0));
        assert!(window.overlaps_hour(3));
        assert!(!window.overlaps_hour(4));
        assert!(!window.overlaps_hour(12));
    }

    #[test]
    fn a_night_window_contains_its_hours_and_excludes_its_end() {
        let window = SyncWindow::parse("01:00-05:00").expect("a valid window");
        let inside: Vec<u8> = (0..24).filter(|h| window.overlaps_hour(*h)).collect();
        assert_eq!(inside, vec![1, 2, 3, 4]);
        assert_eq!(window.to_string(), "01:00-05:00 UTC");
    }

    #[test]
    fn an_empty_window_is_refused_also_when_deserialised() {
        assert!(SyncWindow::parse("02:00-02:00").is_err());
        let json = r#"{"start":"02:00","end":"02:00"}"#;
        assert!(serde_json::from_str::<SyncWindow>(json).is_err());
    }

    #[test]
    fn an_hourly_interval_runs_24_times_a_day_or_only_inside_its_window() {
        let hourly = Trigger::Interval {
            every_minutes: NonZeroU32::MIN.saturating_add(59),
        };
        assert_eq!(hourly.runs_per_day(None), 24);
        let window = SyncWindow::parse("01:00-05:00").expect("a valid window");
        assert_eq!(hourly.runs_per_day(Some(window)), 4);
    }

    #[test]
    fn a_trigger_serialises_with_a_kind_tag() {
        let trigger = Trigger::Daily {
            at: vec![time("02:00")],
        };
        let json = serde_json::to_string(&trigger).expect("a trigger serialises");
        assert_eq!(json, r#"{"kind":"daily","at":["02:00"]}"#);
        let zero = r#"{"kind":"interval","every_minutes":0}"#;
        assert!(serde_json::from_str::<Trigger>(zero).is_err());
    }

    proptest! {
        #[test]
        fn a_shorter_interval_never_runs_less_often(
            longer in 1u32..3000,
            shorter_by in 0u32..3000,
            start in 0u8..24,
            end in 0u8..24,
        ) {
            let shorter = longer.saturating_sub(shorter_by).max(1);
            let window = TimeOfDay::new(start, 0)
                .zip(TimeOfDay::new(end, 30))
                .and_then(|(s, e)| SyncWindow::new(s, e).ok());
            let runs = |m: u32| Trigger::Interval {
                every_minutes: NonZeroU32::new(m).unwrap_or(NonZeroU32::MIN),
            }
            .runs_per_day(window);
            prop_assert!(runs(shorter) >= runs(longer));
        }
    }

    #[test]
    fn every_time_of_day_round_trips_through_its_text() {
        // Every (hour, minute) pair a u8 can hold: the 1,440 times of a day and every value out
        // of range, which `new` refuses.
        let mut times = 0;
        for hour in 0..=u8::MAX {
            for minute in 0..=u8::MAX {
                let Some(t) = TimeOfDay::new(hour, minute) else {
                    assert!(hour >= 24 || minute >= 60, "{hour}:{minute} refused");
                    continue;
                };
                assert!(hour < 24 && minute < 60, "{hour}:{minute} accepted");
                times += 1;
                let text = t.to_string();
                assert_eq!(text, format!("{hour:02}:{minute:02}"));
                assert_eq!(TimeOfDay::parse(&text), Ok(t));
                assert_eq!(t.hour(), hour);
                assert_eq!(
                    t.minutes_since_midnight(),
                    u32::from(hour) * 60 + u32::from(minute)
                );
            }
        }
        assert_eq!(times, MINUTES_PER_DAY);
    }
}
