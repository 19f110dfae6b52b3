//! Lazily generated resource usages.
//!
//! Row `i` of a project is a pure function of `(seed, project, i)`. Rows are ordered by work
//! date (`day(i) = floor(i × days / n)`), so a `from`/`to` window maps to an index range
//! without looking at any row, and ids encode the row index (reversibly scrambled) so a usage
//! can be fetched by id without a table.

use std::ops::Range;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use uuid::Uuid;

use super::rng::{Rng64, Scramble62, hash, round_to};
use crate::model::{ApprovalStatus, ResourceKind, ResourceUsage, WorkReferenceKind};

/// A resource the generator may book.
#[derive(Debug, Clone)]
pub struct PoolResource {
    /// Kind.
    pub kind: ResourceKind,
    /// Position in its own collection (people, equipment or other resources).
    pub position: u32,
    /// Id.
    pub id: Uuid,
    /// Company (index into the project's companies).
    pub company: u32,
    /// Work role (index into the project's work roles).
    pub work_role: u32,
    /// Unit of measure of its usages.
    pub uom: String,
}

/// What a generated row is booked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkRef {
    /// Index into the project's activities.
    Activity(u32),
    /// Index into the project's events.
    Event(u32),
}

/// The cheap, allocation-free part of a generated row: enough to filter on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UsageCore {
    /// Row index.
    pub index: u64,
    /// Day offset from the project's start date.
    pub day: u32,
    /// Index into the generator's resource pool.
    pub resource: u32,
    /// Work reference.
    pub reference: WorkRef,
    /// Index into usage codes.
    pub usage_code: u32,
    /// Index into rate codes.
    pub rate_code: u32,
    /// Index into dockets, for subcontractor usages.
    pub docket: Option<u32>,
    /// Start, minutes after midnight.
    pub start_minute: u32,
    /// Time on the job, minutes (break included).
    pub span_minutes: u32,
    /// Break, minutes.
    pub break_minutes: u32,
    /// Quantity.
    pub quantity: f64,
    /// Approval status.
    pub status: ApprovalStatus,
    /// `created_at`, minutes after the work date's midnight (UTC).
    pub created_minute: u32,
    /// `updated_at`, minutes after the work date's midnight (UTC); below 48 h.
    pub updated_minute: u32,
}

/// The generator of one project's seeded usages.
#[derive(Debug)]
pub struct UsageGen {
    pub(crate) seed: u64,
    pub(crate) project_index: u64,
    pub(crate) project_id: Uuid,
    pub(crate) rows: u64,
    pub(crate) days: u32,
    pub(crate) start: NaiveDate,
    pub(crate) id_high: u64,
    pub(crate) scramble: Scramble62,
    /// Resource pool; people first, then equipment, then other resources.
    pub(crate) resources: Vec<PoolResource>,
    pub(crate) people: u32,
    pub(crate) equipment: u32,
    pub(crate) others: u32,
    /// Bookable activities (indices into activities).
    pub(crate) activities: Vec<u32>,
    pub(crate) activity_ids: Vec<Uuid>,
    pub(crate) event_ids: Vec<Uuid>,
    pub(crate) usage_code_ids: Vec<Uuid>,
    pub(crate) rate_code_ids: Vec<Uuid>,
    pub(crate) company_ids: Vec<Uuid>,
    /// Position among subcontractors, per company.
    pub(crate) subcontractor_of: Vec<Option<u32>>,
    pub(crate) work_role_ids: Vec<Uuid>,
    pub(crate) weeks: u32,
    /// Docket ids, `subcontractor × weeks + week`.
    pub(crate) docket_ids: Vec<Uuid>,
}

impl UsageGen {
    /// Number of rows.
    pub fn len(&self) -> u64 {
        self.rows
    }

    /// True when the project has no seeded usages.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Number of days the rows span.
    pub fn days(&self) -> u32 {
        self.days
    }

    /// The day offset of row `index`.
    pub fn day_of(&self, index: u64) -> u32 {
        if self.rows == 0 {
            return 0;
        }
        (u128::from(index) * u128::from(self.days) / u128::from(self.rows)) as u32
    }

    /// First row index whose day offset is at least `day`.
    fn first_index_on_or_after(&self, day: i64) -> u64 {
        if day <= 0 {
            return 0;
        }
        let day = day as u128;
        if day >= u128::from(self.days) {
            return self.rows;
        }
        // Smallest i with i × days ≥ day × rows.
        let numerator = day * u128::from(self.rows);
        let days = u128::from(self.days);
        numerator.div_ceil(days) as u64
    }

    /// The index range of rows whose work date is in `from..=to` (either side open).
    pub fn index_range(&self, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Range<u64> {
        let lo = from.map_or(0, |d| {
            self.first_index_on_or_after((d - self.start).num_days())
        });
        let hi = to.map_or(self.rows, |d| {
            self.first_index_on_or_after((d - self.start).num_days() + 1)
        });
        lo..hi.max(lo)
    }

    /// The id of row `index`.
    pub fn id_of(&self, index: u64) -> Uuid {
        let low = (1u64 << 63) | self.scramble.forward(index);
        Uuid::from_u64_pair(self.id_high, low)
    }

    /// The row index an id denotes, if it is one of this generator's rows.
    pub fn index_of(&self, id: Uuid) -> Option<u64> {
        let (high, low) = id.as_u64_pair();
        if high != self.id_high || low >> 62 != 0b10 {
            return None;
        }
        let index = self.scramble.backward(low);
        (index < self.rows).then_some(index)
    }

    /// The filterable core of row `index`.
    pub fn core(&self, index: u64) -> UsageCore {
        let mut r = Rng64::at(&[self.seed, 0x05A6E, self.project_index, index]);
        let day = self.day_of(index);
        let roll = r.below(100);
        let resource = if roll < 70 || (self.equipment == 0 && self.others == 0) {
            r.below(u64::from(self.people.max(1))) as u32
        } else if roll < 90 && self.equipment > 0 {
            self.people + r.below(u64::from(self.equipment)) as u32
        } else {
            self.people + self.equipment + r.below(u64::from(self.others.max(1))) as u32
        };
        let resource = resource.min(self.resources.len().saturating_sub(1) as u32);
        let reference = if !self.event_ids.is_empty() && r.chance(0.08) {
            WorkRef::Event(r.below(self.event_ids.len() as u64) as u32)
        } else {
            // Activities around the row's point in the schedule, so bookings move through the
            // programme as the project advances.
            let n = self.activities.len() as u64;
            let centre = u64::from(day) * n / u64::from(self.days.max(1));
            let spread = (n / 6).max(1);
            let offset = r.below(spread * 2);
            let pick = (centre + offset)
                .saturating_sub(spread)
                .min(n.saturating_sub(1));
            WorkRef::Activity(self.activities.get(pick as usize).copied().unwrap_or(0))
        };
        let usage_code = if r.chance(0.85) {
            0
        } else {
            r.below(self.usage_code_ids.len() as u64) as u32
        };
        let rate_code = if r.chance(0.8) {
            0
        } else {
            r.below(self.rate_code_ids.len() as u64) as u32
        };
        let res = &self.resources[resource as usize];
        let docket = self
            .subcontractor_of
            .get(res.company as usize)
            .copied()
            .flatten()
            .map(|sub| sub * self.weeks + (day / 7).min(self.weeks.saturating_sub(1)));
        let (start_minute, span_minutes, break_minutes, quantity) = match res.kind {
            ResourceKind::OtherResource if res.uom != "h" => (0, 0, 0, r.float(0.5, 40.0, 2)),
            _ => {
                let start = 6 * 60 + 30 + 15 * r.below(7) as u32;
                let span = 4 * 60 + 15 * r.below(25) as u32;
                let brk = if span >= 6 * 60 { 30 } else { 0 };
                (start, span, brk, round_to(f64::from(span - brk) / 60.0, 2))
            }
        };
        let progress = f64::from(day) / f64::from(self.days.max(1));
        let s = r.below(100);
        let status = if progress < 0.7 {
            match s {
                0..85 => ApprovalStatus::Approved,
                85..88 => ApprovalStatus::Rejected,
                88..95 => ApprovalStatus::Submitted,
                _ => ApprovalStatus::Unapproved,
            }
        } else if progress < 0.9 {
            match s {
                0..30 => ApprovalStatus::Approved,
                30..80 => ApprovalStatus::Submitted,
                _ => ApprovalStatus::Unapproved,
            }
        } else if s < 30 {
            ApprovalStatus::Submitted
        } else {
            ApprovalStatus::Unapproved
        };
        let created_minute = 16 * 60 + r.below(300) as u32;
        let updated_minute = match status {
            ApprovalStatus::Unapproved => created_minute,
            _ => created_minute + 30 + r.below(1_200) as u32,
        };
        UsageCore {
            index,
            day,
            resource,
            reference,
            usage_code,
            rate_code,
            docket,
            start_minute,
            span_minutes,
            break_minutes,
            quantity,
            status,
            created_minute,
            updated_minute,
        }
    }

    /// The work date of a core.
    pub fn work_date(&self, core: &UsageCore) -> NaiveDate {
        self.start + Duration::days(i64::from(core.day))
    }

    /// The `updated_at` of a core.
    pub fn updated_at(&self, core: &UsageCore) -> DateTime<Utc> {
        midnight(self.work_date(core)) + Duration::minutes(i64::from(core.updated_minute))
    }

    /// The resource of a core.
    pub fn resource(&self, core: &UsageCore) -> &PoolResource {
        &self.resources[core.resource as usize]
    }

    /// The full record of row `index` (`None` past the end).
    pub fn row(&self, index: u64) -> Option<ResourceUsage> {
        (index < self.rows).then(|| self.materialise(&self.core(index)))
    }

    /// The full record of a core.
    pub fn materialise(&self, core: &UsageCore) -> ResourceUsage {
        let res = self.resource(core);
        let work_date = self.work_date(core);
        let (work_reference_id, work_reference_type) = match core.reference {
            WorkRef::Activity(i) => (self.activity_ids[i as usize], WorkReferenceKind::Activity),
            WorkRef::Event(i) => (self.event_ids[i as usize], WorkReferenceKind::Event),
        };
        let timed = core.span_minutes > 0;
        let time = |minute: u32| NaiveTime::from_hms_opt(minute / 60 % 24, minute % 60, 0);
        let created_at = midnight(work_date) + Duration::minutes(i64::from(core.created_minute));
        ResourceUsage {
            id: self.id_of(core.index),
            project_id: self.project_id,
            work_date,
            resource_id: res.id,
            resource_type: res.kind,
            company_id: self.company_ids[res.company as usize],
            work_role_id: self.work_role_ids[res.work_role as usize],
            work_reference_id,
            work_reference_type,
            usage_code_id: self.usage_code_ids[core.usage_code as usize],
            docket_id: core
                .docket
                .and_then(|d| self.docket_ids.get(d as usize).copied()),
            start_time: if timed { time(core.start_minute) } else { None },
            end_time: if timed {
                time(core.start_minute + core.span_minutes)
            } else {
                None
            },
            break_minutes: core.break_minutes,
            quantity: core.quantity,
            uom: res.uom.clone(),
            rate_code_id: self.rate_code_ids[core.rate_code as usize],
            notes: hash(&[self.seed, core.index, 77])
                .is_multiple_of(9)
                .then(|| NOTES[(core.index % NOTES.len() as u64) as usize].to_owned()),
            approval_status: core.status,
            created_at,
            updated_at: self.updated_at(core),
        }
    }
}

const NOTES: [&str; 5] = [
    "Weather stoppage in the afternoon",
    "Waiting on concrete delivery",
    "Access restricted by crane lift",
    "Rework after inspection",
    "Overtime agreed with site manager",
];

/// Midnight UTC of a date.
pub fn midnight(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(NaiveTime::MIN).and_utc()
}

#[cfg(test)]
mod tests {
    use crate::config::{DataSize, SizePreset};
    use chrono::Duration;

    fn generator(usages: u64) -> std::sync::Arc<super::UsageGen> {
        let size = DataSize::preset(SizePreset::Small).with_usages(usages);
        crate::data::seed::generate(11, &size)
            .remove(1)
            .usages
            .generator
    }

    #[test]
    fn a_row_is_a_pure_function_of_its_index() {
        let generator = generator(1_000_000);
        let forwards: Vec<_> = (0..50).map(|i| generator.row(i * 19_997)).collect();
        let backwards: Vec<_> = (0..50).rev().map(|i| generator.row(i * 19_997)).collect();
        assert!(forwards.iter().eq(backwards.iter().rev()));
        let other = self::generator(1_000_000);
        assert_eq!(generator.row(123_456), other.row(123_456));
        assert!(generator.row(1_000_000).is_none());
    }

    #[test]
    fn ids_map_back_to_their_rows() {
        let generator = generator(1_000_000);
        for i in [0, 1, 2, 999_999, 500_000] {
            let id = generator.id_of(i);
            assert_eq!(generator.index_of(id), Some(i));
            assert_eq!(generator.row(i).map(|r| r.id), Some(id));
        }
        assert_eq!(generator.index_of(uuid::Uuid::nil()), None);
        assert_ne!(generator.id_of(1), generator.id_of(2));
    }

    #[test]
    fn rows_are_ordered_by_work_date_and_windows_map_to_index_ranges() {
        let generator = generator(10_000);
        let mut last = None;
        for i in 0..10_000 {
            let day = generator.day_of(i);
            assert!(last.is_none_or(|l| l <= day));
            last = Some(day);
        }
        let from = generator.start + Duration::days(10);
        let to = generator.start + Duration::days(20);
        let range = generator.index_range(Some(from), Some(to));
        assert!(!range.is_empty());
        for i in range.start.saturating_sub(3)..(range.end + 3).min(generator.len()) {
            let date = generator.work_date(&generator.core(i));
            assert_eq!(
                range.contains(&i),
                date >= from && date <= to,
                "row {i} on {date}"
            );
        }
    }
}
