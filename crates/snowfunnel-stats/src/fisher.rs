//! Fisher's exact test of a 2x2 table, two-sided, exact for counts in the millions.
//!
//! With the margins fixed, the top-left cell `x` follows a hypergeometric distribution. The
//! p-value is the probability of all tables no more likely than the observed one. Computing each
//! table's probability from ln-factorials (ln-gamma) of counts in the millions subtracts values
//! near 1e7 to 1e8, and the rounding left in the differences made p-values 2e-9 to 1e-8 off
//! (relative) on tables of 1 to 10 million keys. Instead this walks out from the mode with the
//! ratio of neighbouring probabilities, each taken in log space from an exact integer
//! difference: the error grows by about one rounding per step, and the sums are normalised by
//! their own total, so no ln-gamma is needed at all (1e-12 on the same tables).

/// Tables whose probability is within this relative tolerance of the observed one count as
/// equally likely, as in R's `fisher.test`: it absorbs rounding between tables that are
/// mathematically tied (scipy uses 1e-14, which the two agree with except on near-ties).
const TIE_TOLERANCE: f64 = 1e-7;

/// A term this far (in natural log) below both the mode and the observed table adds less than
/// e^-64 ≈ 1.6e-28 of either sum, and every term beyond it is smaller still (the
/// hypergeometric distribution is unimodal): the walk stops there.
const NEGLIGIBLE_LOG: f64 = 64.0;

/// ln of the smallest normal f64 (`f64::MIN_POSITIVE`, about 2.2e-308).
const LN_MIN_POSITIVE: f64 = -708.396_418_532_264_1;

/// The two-sided p-value of Fisher's exact test of the table `[[a, b], [c, d]]`.
///
/// Sums the probabilities of all tables with the same margins whose probability is at most the
/// observed table's (within a relative tolerance of 1e-7 for ties), as `scipy.stats.fisher_exact`
/// and R's `fisher.test` do. A table with an empty row or column gives 1. Symmetric under
/// transposing the table and under swapping its rows or its columns. P-values below the
/// smallest normal `f64` (about 2.2e-308) may come out as 0.
///
/// The time grows with the standard deviation of the top-left cell, at most `sqrt(a+b+c+d)`:
/// well under a second for the engine's largest counts (2^32 keys per variant).
#[must_use]
pub fn fisher_exact_two_sided(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let margins = Margins {
        row1: u128::from(a) + u128::from(b),
        row2: u128::from(c) + u128::from(d),
        col1: u128::from(a) + u128::from(c),
    };
    let total = margins.row1 + margins.row2;
    if margins.row1 == 0 || margins.row2 == 0 || margins.col1 == 0 || margins.col1 == total {
        return 1.0;
    }
    let observed = u128::from(a);
    let (low, high) = (margins.col1.saturating_sub(margins.row2), margins.row1.min(margins.col1));
    let mode = margins.mode().clamp(low, high);

    // p <= (tables) * P(observed) <= (tables) * P(observed) / P(mode): below this, p is 0 to
    // f64, and stopping there bounds the walk to some 40 standard deviations of x.
    #[allow(clippy::cast_precision_loss)]
    let underflow = LN_MIN_POSITIVE - ((high - low + 1) as f64).ln();
    // ln P(observed) / P(mode), along the same path (same operations, same order) as below.
    let mut log_observed = 0.0;
    if observed >= mode {
        for k in mode..observed {
            log_observed += margins.log_ratio_up(k);
            if log_observed < underflow {
                return 0.0;
            }
        }
    } else {
        for k in (observed..mode).rev() {
            log_observed -= margins.log_ratio_up(k);
            if log_observed < underflow {
                return 0.0;
            }
        }
    }

    let threshold = log_observed + TIE_TOLERANCE.ln_1p();
    let stop_below = log_observed.min(0.0) - NEGLIGIBLE_LOG;
    // Sums of P(k)/P(mode) over all tables, and of P(k)/P(observed) over the unlikely ones.
    let mut sums = Sums { all: 0.0, unlikely: 0.0, log_observed, threshold };
    sums.add(0.0);
    let mut log_term = 0.0;
    for k in mode..high {
        log_term += margins.log_ratio_up(k);
        if log_term < stop_below {
            break;
        }
        sums.add(log_term);
    }
    log_term = 0.0;
    for k in (low..mode).rev() {
        log_term -= margins.log_ratio_up(k);
        if log_term < stop_below {
            break;
        }
        sums.add(log_term);
    }
    ((log_observed - sums.all.ln()).exp() * sums.unlikely).min(1.0)
}

/// Row and column totals of the table; the top-left cell `x` fixes the other three.
struct Margins {
    row1: u128,
    row2: u128,
    col1: u128,
}

impl Margins {
    /// `floor((row1 + 1)(col1 + 1) / (total + 2))`, the most likely `x`.
    fn mode(&self) -> u128 {
        let total = self.row1 + self.row2;
        match (self.row1 + 1).checked_mul(self.col1 + 1) {
            Some(product) => product / (total + 2),
            #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            None => ((self.row1 as f64 + 1.0) * (self.col1 as f64 + 1.0) / (total as f64 + 2.0)) as u128,
        }
    }

    /// `ln P(x = k + 1) / P(x = k)`, for `low <= k < high`.
    ///
    /// The ratio is `b c / ((a + 1)(d + 1))` for the table `[[a, b], [c, d]]` with `a = k`; its
    /// log is taken as `ln_1p((num - den) / den)` from the exact integer difference, so it stays
    /// accurate when the ratio is close to 1 (near the mode, where the mass is).
    #[allow(clippy::cast_precision_loss)]
    fn log_ratio_up(&self, k: u128) -> f64 {
        let (b, c) = (self.row1 - k, self.col1 - k);
        // d + 1 = row2 - (col1 - k) + 1, never negative because k >= col1 - row2.
        let (a1, d1) = (k + 1, self.row2 + k + 1 - self.col1);
        match (b.checked_mul(c), a1.checked_mul(d1)) {
            (Some(num), Some(den)) => {
                let diff = if num >= den { (num - den) as f64 } else { -((den - num) as f64) };
                (diff / den as f64).ln_1p()
            }
            // Only for tables beyond 2^64 in total; plain floating point is all that is left.
            _ => ((b as f64 * c as f64) / (a1 as f64 * d1 as f64)).ln(),
        }
    }
}

/// The two sums of the walk.
struct Sums {
    all: f64,
    unlikely: f64,
    log_observed: f64,
    threshold: f64,
}

impl Sums {
    /// Adds the table with `ln P(k) / P(mode) = log_term`.
    fn add(&mut self, log_term: f64) {
        self.all += log_term.exp();
        if log_term <= self.threshold {
            self.unlikely += (log_term - self.log_observed).exp();
        }
    }
}
