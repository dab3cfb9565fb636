//! The progress line of a long run, for a terminal.

use std::time::Duration;

use crate::number::bytes;

/// How far a run has got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Inputs read to the end.
    pub inputs_done: u64,
    /// Inputs in all.
    pub inputs: u64,
    /// Stored (compressed) bytes read so far.
    pub stored_read: u64,
    /// Stored bytes in all.
    pub stored_total: u64,
    /// Lines (one event each) read so far.
    pub lines: u64,
    /// Time since the run started.
    pub elapsed: Duration,
}

/// `12/340 inputs, 1.2 GB of 20.5 GB, 2.3M events/s, ETA 1m 20s`: the ETA assumes the rest
/// goes at the average speed so far.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn progress_line(p: &Progress) -> String {
    let secs = p.elapsed.as_secs_f64();
    let rate = if secs > 0.0 { p.lines as f64 / secs } else { 0.0 };
    let eta = if p.stored_read > 0 && p.stored_total >= p.stored_read {
        let left = secs * (p.stored_total - p.stored_read) as f64 / p.stored_read as f64;
        duration(left)
    } else {
        "?".to_owned()
    };
    format!(
        "{}/{} inputs, {} of {}, {} events/s, ETA {eta}",
        p.inputs_done,
        p.inputs,
        bytes(p.stored_read),
        bytes(p.stored_total),
        si(rate)
    )
}

/// `2.3M`, `850k`, `12`.
fn si(value: f64) -> String {
    match value {
        v if v >= 1e9 => format!("{:.1}G", v / 1e9),
        v if v >= 1e6 => format!("{:.1}M", v / 1e6),
        v if v >= 1e3 => format!("{:.0}k", v / 1e3),
        v => format!("{v:.0}"),
    }
}

/// `45s`, `1m 20s`, `2h 05m`.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn duration(secs: f64) -> String {
    let s = secs.round().max(0.0) as u64;
    match s {
        s if s >= 3600 => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{}m {:02}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_how_far_how_fast_and_how_long() {
        let p = Progress {
            inputs_done: 12,
            inputs: 340,
            stored_read: 1_200_000_000,
            stored_total: 4_800_000_000,
            lines: 46_000_000,
            elapsed: Duration::from_secs(20),
        };
        assert_eq!(progress_line(&p), "12/340 inputs, 1.2 GB of 4.8 GB, 2.3M events/s, ETA 1m 00s");
        let start = Progress { inputs: 3, stored_total: 10, ..Progress::default() };
        assert_eq!(progress_line(&start), "0/3 inputs, 0 B of 10 B, 0 events/s, ETA ?");
        assert_eq!(duration(7322.0), "2h 02m");
        assert_eq!(si(850_400.0), "850k");
    }
}
