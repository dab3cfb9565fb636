//! The generator proper. The time range is cut into windows of about [`WINDOW_LINES`] lines;
//! each window's lines are made, sorted by collector time (as the S3 loader writes arrivals) and
//! handed out before the next window is started. Only journeys still in progress and
//! duplicates waiting to be re-delivered cross a window, so memory stays small however many
//! lines are asked for. The window count depends on the line count only, so [`generate`] and a
//! streaming run produce the same lines.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::config::GenConfig;
use crate::journey::{Journeys, Planned};
use crate::keys::KeySpace;
use crate::malformed::break_event;
use crate::model::{Event, Line};
use crate::noise::noise_event;
use crate::rng::Rand;

/// Lines per window (except the last).
const WINDOW_LINES: usize = 8192;
/// Rank step between two good events of a window; duplicates and bad lines slot in between.
const SLOT: u64 = 4096;
/// Share of duplicates re-delivered in a later window rather than a few lines later.
const LATE_DUPLICATE_SHARE: f64 = 0.2;

/// Generates all lines of `config`, in output order.
#[must_use]
pub fn generate(config: &GenConfig) -> Vec<Line> {
    Generator::new(config).collect()
}

/// How many lines of each sort a configuration yields (known before generating).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineCounts {
    /// All lines.
    pub lines: usize,
    /// Distinct events with at least one experiment context.
    pub experiment_events: usize,
    /// Distinct events without an experiment context.
    pub noise_events: usize,
    /// Extra copies of events already emitted.
    pub duplicates: usize,
    /// Malformed lines.
    pub malformed: usize,
}

impl LineCounts {
    /// The counts for `config` (shares are clamped into `0..=1`).
    #[must_use]
    pub fn for_config(config: &GenConfig) -> Self {
        let lines = config.events;
        let malformed = portion(lines, config.malformed_share).min(lines);
        let duplicates = portion(lines, config.duplicate_share).min((lines - malformed) / 2);
        let good = lines - malformed - duplicates;
        let experiment_events = if config.experiments.iter().any(|e| e.is_usable()) {
            portion(good, config.experiment_share).min(good)
        } else {
            0
        };
        LineCounts { lines, experiment_events, noise_events: good - experiment_events, duplicates, malformed }
    }

    /// Lines holding a good event, duplicates included.
    #[must_use]
    pub fn event_lines(&self) -> usize {
        self.experiment_events + self.noise_events + self.duplicates
    }
}

fn portion(total: usize, share: f64) -> usize {
    (total as f64 * clamp_share(share)).round() as usize
}

fn clamp_share(share: f64) -> f64 {
    if share.is_nan() { 0.0 } else { share.clamp(0.0, 1.0) }
}

/// Produces the lines of a configuration one window at a time; also an iterator of [`Line`]s.
pub struct Generator {
    counts: LineCounts,
    rand: Rand,
    journeys: Journeys,
    staging_share: f64,
    bare: bool,
    start: i64,
    end: i64,
    windows: usize,
    window: usize,
    planned: usize,
    /// Experiment events planned but not yet emitted, earliest first.
    upcoming: BinaryHeap<Reverse<Planned>>,
    /// Duplicates still to emit (carried when a window had too few events).
    duplicates_owed: usize,
    /// Late duplicates and the window they are due in.
    late: Vec<(usize, Event)>,
    last_good: Option<Event>,
    buffered: std::vec::IntoIter<Line>,
    remaining: usize,
}

impl Generator {
    /// A generator for `config` (see [`GenConfig::validate`] for how odd values are treated).
    #[must_use]
    pub fn new(config: &GenConfig) -> Self {
        let counts = LineCounts::for_config(config);
        let experiments: Vec<_> = config.experiments.iter().filter(|e| e.is_usable()).cloned().collect();
        let keys = KeySpace::new(
            config.seed,
            config.resolved_keys_per_experiment(),
            clamp_share(config.conflict_share),
        )
        .with_other_shapes(clamp_share(config.other_key_share));
        let staging_share = clamp_share(config.staging_share);
        Generator {
            counts,
            rand: Rand::seeded(config.seed),
            journeys: Journeys::new(experiments, keys, staging_share),
            staging_share,
            bare: config.bare_lines,
            start: config.resolved_start_micros(),
            end: config.end_micros(),
            windows: counts.lines.div_ceil(WINDOW_LINES).max(1),
            window: 0,
            planned: 0,
            upcoming: BinaryHeap::new(),
            duplicates_owed: 0,
            late: Vec::new(),
            last_good: None,
            buffered: Vec::new().into_iter(),
            remaining: counts.lines,
        }
    }

    /// What the whole run will contain.
    #[must_use]
    pub fn counts(&self) -> LineCounts {
        self.counts
    }

    /// The next window's lines in output order, or `None` after the last window.
    pub fn next_window(&mut self) -> Option<Vec<Line>> {
        if self.window == self.windows {
            return None;
        }
        let window = self.window;
        self.window += 1;
        let last = self.window == self.windows;
        let (from, to) = (self.boundary(window), self.boundary(window + 1));

        let mut good = self.experiment_events(window, from, to, last);
        for _ in 0..self.share_of(self.counts.noise_events, window) {
            let micros = self.rand.range(from, to);
            good.push(noise_event(&mut self.rand, micros, self.staging_share));
        }
        good.sort_by_key(|event| event.collector_micros);
        for event in &mut good {
            event.bare = self.bare;
        }

        let mut placed = self.duplicates(window, last, &good);
        let span = good.len() as u64 * SLOT + 1;
        for _ in 0..self.share_of(self.counts.malformed, window) {
            let micros = self.rand.range(from, to);
            let mut source = if self.journeys.experiments.is_empty() {
                noise_event(&mut self.rand, micros, self.staging_share)
            } else {
                let planned = self.journeys.random_planned(&mut self.rand, micros);
                self.journeys.materialize(&mut self.rand, &planned)
            };
            source.bare = self.bare;
            let line = break_event(&mut self.rand, &source);
            placed.push((self.rand.below(span), line));
        }
        if let Some(event) = good.last() {
            self.last_good = Some(event.clone());
        }
        placed.extend(good.into_iter().enumerate().map(|(i, event)| (i as u64 * SLOT, Line::Event(event))));
        placed.sort_by_key(|&(rank, _)| rank);
        Some(placed.into_iter().map(|(_, line)| line).collect())
    }

    /// Start of window `window` (the end of the range for `window == windows`).
    fn boundary(&self, window: usize) -> i64 {
        let span = i128::from(self.end - self.start);
        self.start + (span * window as i128 / self.windows as i128) as i64
    }

    /// The part of `total` that falls in `window` when spread evenly.
    fn share_of(&self, total: usize, window: usize) -> usize {
        self.cumulative(total, window + 1) - self.cumulative(total, window)
    }

    /// The part of `total` that falls in the first `windows` windows.
    fn cumulative(&self, total: usize, windows: usize) -> usize {
        (total as u128 * windows as u128 / self.windows as u128) as usize
    }

    /// Plans this window's new journeys and materializes the experiment events due in it.
    fn experiment_events(&mut self, window: usize, from: i64, to: i64, last: bool) -> Vec<Event> {
        let total = self.counts.experiment_events;
        let target = self.cumulative(total, window + 1);
        let mut fresh = Vec::new();
        while self.planned < target {
            let start = self.rand.range(from, to);
            self.planned +=
                self.journeys.plan(&mut self.rand, start, self.end, total - self.planned, &mut fresh);
        }
        self.upcoming.extend(fresh.into_iter().map(Reverse));
        let mut events = Vec::new();
        while let Some(Reverse(next)) = self.upcoming.peek() {
            if !last && next.micros >= to {
                break;
            }
            let next = *next;
            self.upcoming.pop();
            events.push(self.journeys.materialize(&mut self.rand, &next));
        }
        events
    }

    /// Chooses this window's duplicates: ranked lines for the near ones, late ones set aside,
    /// and the late ones now due.
    fn duplicates(&mut self, window: usize, last: bool, good: &[Event]) -> Vec<(u64, Line)> {
        let mut placed = Vec::new();
        self.duplicates_owed += self.share_of(self.counts.duplicates, window);
        let take = if last { self.duplicates_owed } else { self.duplicates_owed.min(good.len()) };
        self.duplicates_owed -= take;
        let len = good.len() as u64;
        let mut order: Vec<usize> = (0..good.len()).collect();
        for n in 0..take {
            let Some(index) = self.pick_original(&mut order, n, len) else {
                // Only the last window can run out of events of its own.
                if let Some(event) = &self.last_good {
                    placed.push((self.rand.below(len * SLOT + 1), Line::Event(event.clone())));
                }
                continue;
            };
            let copy = good[index].clone();
            if !last && self.rand.chance(LATE_DUPLICATE_SHARE) {
                let due = (window + 1 + self.rand.index(3)).min(self.windows - 1);
                self.late.push((due, copy));
            } else {
                let after = (index as u64 + self.rand.below(30)).min(len);
                placed.push((after * SLOT + 1 + self.rand.below(SLOT - 1), Line::Event(copy)));
            }
        }
        let due: Vec<(usize, Event)>;
        (due, self.late) =
            std::mem::take(&mut self.late).into_iter().partition(|&(w, _)| w <= window || last);
        for (_, event) in due {
            placed.push((self.rand.below(len * SLOT + 1), Line::Event(event)));
        }
        placed
    }

    /// Index of the `n`th event to duplicate: distinct while there are enough (a partial
    /// Fisher-Yates shuffle of `order`), then with replacement.
    fn pick_original(&mut self, order: &mut [usize], n: usize, len: u64) -> Option<usize> {
        if len == 0 {
            return None;
        }
        if n < order.len() {
            let pick = n + self.rand.index(order.len() - n);
            order.swap(n, pick);
            return Some(order[n]);
        }
        Some(self.rand.below(len) as usize)
    }
}

impl Iterator for Generator {
    type Item = Line;

    fn next(&mut self) -> Option<Line> {
        loop {
            if let Some(line) = self.buffered.next() {
                self.remaining -= 1;
                return Some(line);
            }
            self.buffered = self.next_window()?.into_iter();
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Generator {}
