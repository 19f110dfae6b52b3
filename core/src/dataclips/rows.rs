//! One typed row per clip, read from a file's cells by header name.
//!
//! Each struct names its columns once, with `#[serde(rename = "...")]` on the export's header;
//! the header row of a file is matched against those names ([`fields_of`]), and each data row is
//! deserialized into the struct ([`RowDeserializer`]): no column is reached by its position in a
//! list. A cell that does not parse fails the row with the column's name and the value.
//!
//! The cell types ([`Day`], [`Number`], ...) parse the exports' text forms; a `&str` field takes
//! the cell as it is, trimmed, empty when the cell is empty.

use std::fmt;

use chrono::NaiveDate;
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, forward_to_deserialize_any};

use super::clip::parse_date;

/// One row of the resource usages export (and its variants).
#[derive(Debug, Deserialize)]
pub(crate) struct UsageRow<'a> {
    #[serde(rename = "Id")]
    pub(crate) id: &'a str,
    #[serde(rename = "Project")]
    pub(crate) project: &'a str,
    #[serde(rename = "Work Date")]
    pub(crate) work_date: Day,
    #[serde(rename = "Resource Role")]
    pub(crate) resource_role: &'a str,
    #[serde(rename = "Work Role Category")]
    pub(crate) work_role_category: &'a str,
    #[serde(rename = "Company")]
    pub(crate) company: &'a str,
    #[serde(rename = "Resource Type")]
    pub(crate) resource_type: &'a str,
    #[serde(rename = "Resource Name")]
    pub(crate) resource_name: &'a str,
    #[serde(rename = "Resource Identifier")]
    pub(crate) resource_identifier: &'a str,
    #[serde(rename = "Work Reference Type")]
    pub(crate) work_reference_type: &'a str,
    #[serde(rename = "Work Reference Code")]
    pub(crate) work_reference_code: &'a str,
    #[serde(rename = "Work Reference Name")]
    pub(crate) work_reference_name: &'a str,
    #[serde(rename = "Discipline")]
    pub(crate) discipline: &'a str,
    #[serde(rename = "Location")]
    pub(crate) location: &'a str,
    #[serde(rename = "Job Number")]
    pub(crate) job_number: &'a str,
    #[serde(rename = "Cost Code")]
    pub(crate) cost_code: &'a str,
    #[serde(rename = "Usage Code")]
    pub(crate) usage_code: &'a str,
    #[serde(rename = "Docket")]
    pub(crate) docket: &'a str,
    #[serde(rename = "Start Time")]
    pub(crate) start_time: &'a str,
    #[serde(rename = "End Time")]
    pub(crate) end_time: &'a str,
    /// Minutes.
    #[serde(rename = "Break Duration")]
    pub(crate) break_duration: WholeOrZero,
    #[serde(rename = "Quantity")]
    pub(crate) quantity: Number,
    #[serde(rename = "Unit of Measure")]
    pub(crate) unit_of_measure: &'a str,
    #[serde(rename = "Rate Code")]
    pub(crate) rate_code: &'a str,
    #[serde(rename = "Approval Status")]
    pub(crate) approval_status: &'a str,
}

/// One row of the attendance export.
#[derive(Debug, Deserialize)]
pub(crate) struct AttendanceRow<'a> {
    #[serde(rename = "Id")]
    pub(crate) id: &'a str,
    #[serde(rename = "Attendance Reference")]
    pub(crate) attendance_reference: &'a str,
    #[serde(rename = "Person")]
    pub(crate) person: &'a str,
    #[serde(rename = "Company")]
    pub(crate) company: &'a str,
    #[serde(rename = "Work Role")]
    pub(crate) work_role: &'a str,
    #[serde(rename = "Supervisor")]
    pub(crate) supervisor: YesNo,
    #[serde(rename = "Start Date")]
    pub(crate) start_date: Day,
    #[serde(rename = "Start Time")]
    pub(crate) start_time: &'a str,
    #[serde(rename = "Start Area")]
    pub(crate) start_area: &'a str,
    #[serde(rename = "Start Location Latitude")]
    pub(crate) start_latitude: OptNumber,
    #[serde(rename = "Start Location Longitude")]
    pub(crate) start_longitude: OptNumber,
    #[serde(rename = "End Date")]
    pub(crate) end_date: OptDayText<'a>,
    #[serde(rename = "End Time")]
    pub(crate) end_time: &'a str,
    #[serde(rename = "End Area")]
    pub(crate) end_area: &'a str,
    #[serde(rename = "End Location Latitude")]
    pub(crate) end_latitude: OptNumber,
    #[serde(rename = "End Location Longitude")]
    pub(crate) end_longitude: OptNumber,
    #[serde(rename = "Time Zone")]
    pub(crate) time_zone: &'a str,
    /// Hours.
    #[serde(rename = "Duration")]
    pub(crate) duration: OptNumber,
}

/// One row of the activity export.
#[derive(Debug, Deserialize)]
pub(crate) struct ActivityRow<'a> {
    #[serde(rename = "Id")]
    pub(crate) id: &'a str,
    #[serde(rename = "Reference Code")]
    pub(crate) reference_code: &'a str,
    #[serde(rename = "Activity Name")]
    pub(crate) name: &'a str,
    #[serde(rename = "WBS Code")]
    pub(crate) wbs_code: &'a str,
    #[serde(rename = "Quantity UOM")]
    pub(crate) quantity_uom: &'a str,
    #[serde(rename = "Work Category")]
    pub(crate) work_category: &'a str,
    #[serde(rename = "Discipline")]
    pub(crate) discipline: &'a str,
    #[serde(rename = "Location")]
    pub(crate) location: &'a str,
    #[serde(rename = "Job Number")]
    pub(crate) job_number: &'a str,
    #[serde(rename = "Cost Code")]
    pub(crate) cost_code: &'a str,
    #[serde(rename = "Original Budget Labour")]
    pub(crate) original_budget_labour: Number,
    #[serde(rename = "Original Budget Quantity")]
    pub(crate) original_budget_quantity: Number,
    #[serde(rename = "Original Budget Cost")]
    pub(crate) original_budget_cost: Number,
    #[serde(rename = "Revised Budget Labour")]
    pub(crate) revised_budget_labour: Number,
    #[serde(rename = "Revised Budget Quantity")]
    pub(crate) revised_budget_quantity: Number,
    #[serde(rename = "Revised Budget Cost")]
    pub(crate) revised_budget_cost: Number,
    #[serde(rename = "Current Estimate Labour")]
    pub(crate) current_estimate_labour: Number,
    #[serde(rename = "Current Estimate Quantity")]
    pub(crate) current_estimate_quantity: Number,
    #[serde(rename = "Current Estimate Cost")]
    pub(crate) current_estimate_cost: Number,
    #[serde(rename = "Original Start")]
    pub(crate) original_start: OptDayText<'a>,
    #[serde(rename = "Original Finish")]
    pub(crate) original_finish: OptDayText<'a>,
    #[serde(rename = "Revised Start")]
    pub(crate) revised_start: OptDayText<'a>,
    #[serde(rename = "Revised Finish")]
    pub(crate) revised_finish: OptDayText<'a>,
    #[serde(rename = "Planned Start")]
    pub(crate) planned_start: OptDayText<'a>,
    #[serde(rename = "Planned Finish")]
    pub(crate) planned_finish: OptDayText<'a>,
    #[serde(rename = "Actual Start")]
    pub(crate) actual_start: OptDayText<'a>,
    #[serde(rename = "Actual Finish")]
    pub(crate) actual_finish: OptDayText<'a>,
    #[serde(rename = "Expected Start")]
    pub(crate) expected_start: OptDayText<'a>,
    #[serde(rename = "Expected Finish")]
    pub(crate) expected_finish: OptDayText<'a>,
    /// Days; empty is none.
    #[serde(rename = "Float")]
    pub(crate) float: OptNumber,
    #[serde(rename = "Earned Value Method")]
    pub(crate) earned_value_method: &'a str,
    #[serde(rename = "Percent Complete")]
    pub(crate) percent_complete: Number,
    #[serde(rename = "Exclude From Mobile")]
    pub(crate) exclude_from_mobile: YesNo,
    #[serde(rename = "Bookable For All")]
    pub(crate) bookable_for_all: YesNo,
    #[serde(rename = "Non Bookable")]
    pub(crate) non_bookable: YesNo,
    #[serde(rename = "Tags")]
    pub(crate) tags: &'a str,
    #[serde(rename = "Updated At")]
    pub(crate) updated_at: &'a str,
}

/// One row of the applicable rates.
#[derive(Debug, Deserialize)]
pub(crate) struct RateRow<'a> {
    #[serde(rename = "Id")]
    pub(crate) id: &'a str,
    #[serde(rename = "Resource Name")]
    pub(crate) resource_name: &'a str,
    #[serde(rename = "Resource Type")]
    pub(crate) resource_type: &'a str,
    #[serde(rename = "Rate Code")]
    pub(crate) rate_code: &'a str,
    #[serde(rename = "Rate")]
    pub(crate) rate: Number,
    #[serde(rename = "Unit of Measure")]
    pub(crate) unit_of_measure: &'a str,
    #[serde(rename = "Effective From")]
    pub(crate) effective_from: Day,
    #[serde(rename = "Effective To")]
    pub(crate) effective_to: OptDayText<'a>,
}

/// A date, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Day(pub(crate) NaiveDate);

/// A date or empty; a date with a time (`2025-03-01 08:00`) keeps its text, checked on its
/// first ten characters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OptDayText<'a>(pub(crate) &'a str);

/// A finite number.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Number(pub(crate) f64);

/// A finite number, or empty.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OptNumber(pub(crate) Option<f64>);

/// A whole number; empty is zero.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WholeOrZero(pub(crate) i32);

/// `Yes`/`No` (or `true`/`false`, any case); empty is no.
#[derive(Debug, Clone, Copy)]
pub(crate) struct YesNo(pub(crate) bool);

/// Implements `Deserialize` for a cell type from a function over the cell's text.
macro_rules! cell_from_text {
    ($ty:ident $(<$lt:lifetime>)?, $expecting:literal, |$raw:ident| $parse:expr) => {
        impl<'de $(: $lt)?, $($lt)?> Deserialize<'de> for $ty$(<$lt>)? {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct CellVisitor$(<$lt>)?(std::marker::PhantomData<$(&$lt)? ()>);
                impl<'de $(: $lt)?, $($lt)?> Visitor<'de> for CellVisitor$(<$lt>)? {
                    type Value = $ty$(<$lt>)?;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_borrowed_str<E: de::Error>(self, $raw: &'de str) -> Result<Self::Value, E> {
                        let result: Result<Self::Value, String> = $parse;
                        result.map_err(E::custom)
                    }
                }
                deserializer.deserialize_str(CellVisitor(std::marker::PhantomData))
            }
        }
    };
}

cell_from_text!(Day, "a date", |raw| parse_date(raw)
    .map(Day)
    .ok_or_else(|| format!("`{raw}` is not a date (YYYY-MM-DD)")));

cell_from_text!(OptDayText<'a>, "a date or nothing", |raw| {
    let day = raw.get(..10).unwrap_or(raw);
    if raw.is_empty() || parse_date(day).is_some() {
        Ok(OptDayText(raw))
    } else {
        Err(format!("`{raw}` is not a date (YYYY-MM-DD)"))
    }
});

cell_from_text!(Number, "a number", |raw| number(raw).map(Number));

cell_from_text!(OptNumber, "a number or nothing", |raw| {
    if raw.is_empty() {
        Ok(OptNumber(None))
    } else {
        number(raw).map(|n| OptNumber(Some(n)))
    }
});

cell_from_text!(WholeOrZero, "a whole number", |raw| {
    if raw.is_empty() {
        Ok(WholeOrZero(0))
    } else {
        raw.parse::<i32>()
            .map(WholeOrZero)
            .map_err(|_| format!("`{raw}` is not a whole number"))
    }
});

cell_from_text!(YesNo, "Yes or No", |raw| {
    if raw.eq_ignore_ascii_case("yes") || raw.eq_ignore_ascii_case("true") {
        Ok(YesNo(true))
    } else if raw.eq_ignore_ascii_case("no") || raw.eq_ignore_ascii_case("false") || raw.is_empty()
    {
        Ok(YesNo(false))
    } else {
        Err(format!("`{raw}` is not Yes or No"))
    }
});

fn number(raw: &str) -> Result<f64, String> {
    match raw.parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(n),
        _ => Err(format!("`{raw}` is not a number")),
    }
}

/// The header names a row struct reads, in its declaration order: what `serde` hands a
/// deserializer for the struct, asked of a deserializer that reads nothing else.
pub(crate) fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct Probe(Option<&'static [&'static str]>);

    impl<'de> Deserializer<'de> for &mut Probe {
        type Error = RowError;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, RowError> {
            Err(RowError("not a struct".to_owned()))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, RowError> {
            self.0 = Some(fields);
            Err(RowError("probed".to_owned()))
        }

        forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }

    let mut probe = Probe(None);
    let _ = T::deserialize(&mut probe);
    probe.0.unwrap_or(&[])
}

/// Why a row could not be read: the column and what was wrong with its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RowError(pub(crate) String);

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RowError {}

impl de::Error for RowError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self(message.to_string())
    }
}

/// Reads one data row as a row struct: `fields[i]` is in `cells[positions[i]]`.
pub(crate) struct RowDeserializer<'r, 'de> {
    pub(crate) fields: &'static [&'static str],
    pub(crate) positions: &'r [usize],
    pub(crate) cells: &'r [Option<&'de str>],
}

impl<'de> Deserializer<'de> for RowDeserializer<'_, 'de> {
    type Error = RowError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        visitor.visit_map(Row { row: self, next: 0 })
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

/// The row as a map from field to cell. Keys go by index (serde's derived field visitor takes
/// a field's index), so no name is compared per row.
struct Row<'r, 'de> {
    row: RowDeserializer<'r, 'de>,
    next: usize,
}

impl<'de> MapAccess<'de> for Row<'_, 'de> {
    type Error = RowError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, RowError> {
        if self.next >= self.row.fields.len() {
            return Ok(None);
        }
        let index = u64::try_from(self.next).unwrap_or(u64::MAX);
        seed.deserialize(index.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, RowError> {
        let index = self.next;
        self.next += 1;
        let raw = self
            .row
            .positions
            .get(index)
            .and_then(|&i| self.row.cells.get(i).copied().flatten())
            .unwrap_or("")
            .trim();
        let name = self.row.fields.get(index).copied().unwrap_or("?");
        seed.deserialize(Cell(raw))
            .map_err(|RowError(why)| RowError(format!("{name}: {why}")))
    }
}

/// One cell's text.
struct Cell<'de>(&'de str);

impl<'de> Deserializer<'de> for Cell<'de> {
    type Error = RowError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        visitor.visit_borrowed_str(self.0)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}
