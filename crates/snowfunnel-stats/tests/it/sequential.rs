//! Sequential testing: the boundary against values computed independently, and the simulation
//! that shows why it exists (A/A experiments looked at every day).

use proptest::prelude::*;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use snowfunnel_stats::{
    CompareOptions, ConfidenceSequence, Inference, Method, StatsError, compare_funnel, lift_interval,
    sequential_lift_test,
};

use crate::assert_close;

const SEQUENTIAL: Inference = Inference::Sequential { tuning: 5_000.0 };

fn sequence() -> ConfidenceSequence {
    ConfidenceSequence::new(5_000.0, 0.05).expect("a valid tuning and alpha")
}

// The reference values below were computed with Python's standard library (`math.log`,
// `math.sqrt`, `math.exp`, `math.expm1`) from the closed forms of Waudby-Smith et al. (2024),
// arXiv:2103.06476v7, eq. (9) (the half-width) and GrowthBook's reparameterisation of its
// always-valid p-value (gbstats `SequentialTwoSidedTTest.p_value`), written out independently:
//
//   rho2 = (-2*log(a) + log(-2*log(a) + 1)) / t
//   half = sqrt(2*(n*rho2 + 1) / (n*n*rho2) * log(sqrt(n*rho2 + 1) / a)) * sqrt(n)
//   p    = min(1, sqrt(n*rho2 + 1) * exp(-z*z*n*rho2 / (2*(n*rho2 + 1))))
//
// with a = 0.05, t = 5000; for the lift, theta = log(x/n) - log(xc/nc),
// V = 1/x - 1/n + 1/xc - 1/nc, z = theta / sqrt(V), n = n + nc, and the sequence
// expm1(theta -+ half * sqrt(V)).

#[test]
fn the_mixing_parameter_and_the_half_width() {
    assert_close(sequence().rho_squared(), 0.001_587_230_920_347_513, 1e-14);
    for (n, half) in [
        (100.0, 6.694_388_617_066_039),
        (1_000.0, 3.363_887_725_782_780_6),
        (5_000.0, 3.035_208_990_376_253_4),
        (20_000.0, 3.127_114_143_687_990_6),
    ] {
        assert_close(sequence().half_width(n, 0.05).unwrap(), half, 1e-13);
    }
    // Always wider than the fixed-horizon 1.959964 (scipy.stats.norm.ppf(0.975)), tightest
    // near the tuning.
    let widths: Vec<f64> = [1_000.0, 4_000.0, 5_000.0, 6_000.0, 50_000.0]
        .iter()
        .map(|&n| sequence().half_width(n, 0.05).unwrap())
        .collect();
    assert!(widths.iter().all(|&w| w > 1.96), "{widths:?}");
    assert!(widths[2] < widths[0] && widths[2] < widths[4], "{widths:?}");
    assert_eq!(ConfidenceSequence::new(0.0, 0.05), None);
    assert_eq!(ConfidenceSequence::new(f64::INFINITY, 0.05), None);
    assert_eq!(ConfidenceSequence::new(5_000.0, 1.0), None);
    assert_eq!(sequence().half_width(0.0, 0.05), None);
    assert_eq!(sequence().p_value(3.0, 0.0), 1.0);
}

#[test]
fn the_lift_sequence_and_its_p_value_match_the_closed_form() {
    // (x, n, xc, nc), sequence low, high, always-valid p; fixed p for comparison (pooled or
    // not, the fixed test is far smaller).
    for (x, n, xc, nc, low, high, p) in [
        (145, 1_000, 120, 1_000, -0.156_384_904_936_168, 0.730_729_396_602_331_3, 0.729_969_960_811_102_1),
        (
            1_300,
            10_000,
            1_200,
            10_000,
            -0.036_391_598_023_883_844,
            0.217_933_663_409_672_05,
            0.625_094_843_963_842,
        ),
        (
            5_000,
            50_000,
            4_700,
            50_000,
            -0.002_546_550_010_783_575_3,
            0.134_623_190_905_463_99,
            0.076_805_787_246_715_7,
        ),
    ] {
        let got = sequential_lift_test(x, n, xc, nc, sequence(), 0.95).unwrap();
        let (got_low, got_high) = got.lift_cs.unwrap();
        assert_close(got_low, low, 1e-11);
        assert_close(got_high, high, 1e-11);
        assert_close(got.p_value, p, 1e-11);
        // The sequence holds the fixed interval at the same level.
        let (fixed_low, fixed_high) = lift_interval(x, n, xc, nc, 0.95).unwrap();
        assert!(got_low < fixed_low && fixed_high < got_high);
    }
}

#[test]
fn zero_conversions_get_a_corrected_p_value_and_no_sequence() {
    // 0 of 1000 against 30 of 1000, half a key added to every cell: theta = log(0.5/1001) -
    // log(30.5/1001), V = 1000.5/(0.5*1001) + 970.5/(30.5*1001), n = 2000 (Python, as above).
    let got = sequential_lift_test(0, 1_000, 30, 1_000, sequence(), 0.95).unwrap();
    assert_eq!(got.lift_cs, None);
    assert_close(got.p_value, 0.086_331_920_506_447_6, 1e-11);
    let none = sequential_lift_test(0, 1_000, 0, 1_000, sequence(), 0.95).unwrap();
    assert_eq!((none.p_value, none.lift_cs), (1.0, None));
    let all = sequential_lift_test(500, 500, 400, 400, sequence(), 0.95).unwrap();
    assert_eq!((all.p_value, all.lift_cs), (1.0, Some((0.0, 0.0))));
    assert_eq!(sequential_lift_test(1, 0, 1, 10, sequence(), 0.95), None);
    assert_eq!(sequential_lift_test(11, 10, 1, 10, sequence(), 0.95), None);
    assert_eq!(sequential_lift_test(1, 10, 1, 10, sequence(), 1.0), None);
}

#[test]
fn compare_funnel_carries_the_sequential_values() {
    let fixed = compare_funnel(&[[1_000, 120], [1_000, 145]], Some(0), CompareOptions::default()).unwrap();
    let options = CompareOptions { inference: SEQUENTIAL, ..CompareOptions::default() };
    let rows = compare_funnel(&[[1_000, 120], [1_000, 145]], Some(0), options).unwrap();
    let (f, s) = (fixed[1][1].comparison.unwrap(), rows[1][1].comparison.unwrap());
    assert_eq!(s.method, Method::ConfidenceSequence);
    assert_eq!(s.method.as_str(), "confidence_sequence");
    assert_eq!(s.lift, f.lift);
    assert_close(s.p_value, 0.729_969_960_811_102_1, 1e-11);
    assert_eq!((s.p_value_adjusted, s.significant), (s.p_value, false));
    assert!(s.p_value > f.p_value);
    let (low, high) = s.lift_ci.unwrap();
    assert_close(low, -0.156_384_904_936_168, 1e-11);
    assert_close(high, 0.730_729_396_602_331_3, 1e-11);
    // The conversions' Wilson intervals do not change.
    assert_eq!(rows[1][1].ci, fixed[1][1].ci);
    assert_eq!(rows[0], fixed[0]);

    let bad =
        CompareOptions { inference: Inference::Sequential { tuning: -1.0 }, ..CompareOptions::default() };
    assert_eq!(
        compare_funnel(&[[10, 1], [10, 2]], Some(0), bad),
        Err(StatsError::TuningOutOfRange { value: -1.0 })
    );
}

proptest! {
    /// The p-value is the smallest alpha at which the sequence excludes no change: the sequence
    /// at confidence 1 - alpha excludes a lift of 0 exactly when the p-value is below alpha (up
    /// to rounding at the edge).
    #[test]
    fn the_p_value_and_the_sequence_agree(
        n in 1u64..200_000, nc in 1u64..200_000, x in 1u64..200_000, xc in 1u64..200_000,
        alpha in 0.001f64..0.5, tuning in 10.0f64..1e6,
    ) {
        let (x, xc) = (x.min(n), xc.min(nc));
        let sequence = ConfidenceSequence::new(tuning, alpha).unwrap();
        let got = sequential_lift_test(x, n, xc, nc, sequence, 1.0 - alpha).unwrap();
        let (low, high) = got.lift_cs.unwrap();
        prop_assert!(low <= high);
        prop_assert!((0.0..=1.0).contains(&got.p_value));
        if (got.p_value - alpha).abs() > 1e-9 {
            prop_assert_eq!(got.p_value < alpha, low > 0.0 || high < 0.0, "{:?}", got);
        }
    }
}

/// `Binomial(trials, p)` by inverting its CDF with one uniform: exact up to rounding, and one
/// random number per draw, which keeps the simulation quick in a debug build.
struct Binomial {
    cdf: Vec<f64>,
}

impl Binomial {
    #[allow(clippy::cast_precision_loss)]
    fn new(trials: u64, p: f64) -> Self {
        let mut pmf = (1.0 - p).powi(i32::try_from(trials).expect("a small number of trials"));
        let mut total = 0.0;
        let mut cdf = Vec::new();
        for k in 0..=trials {
            total += pmf;
            cdf.push(total);
            pmf *= (trials - k) as f64 / (k + 1) as f64 * p / (1.0 - p);
        }
        Self { cdf }
    }

    #[allow(clippy::cast_precision_loss)]
    fn draw(&self, rng: &mut ChaCha8Rng) -> u64 {
        let unit = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        self.cdf.iter().position(|&c| unit < c).unwrap_or(self.cdf.len() - 1) as u64
    }
}

/// Share of A/A experiments (both variants convert at the same rate) that some look declared
/// significant, for looks after each day in `looks` (1-based) and each inference.
#[allow(clippy::cast_precision_loss)]
fn false_positive_rates(experiments: usize, looks: &[usize], inferences: &[Inference]) -> Vec<f64> {
    const DAYS: usize = 30;
    const KEYS_PER_DAY: u64 = 100; // new keys per variant per day
    let binomial = Binomial::new(KEYS_PER_DAY, 0.1);
    let mut rng = ChaCha8Rng::seed_from_u64(18);
    let mut false_positives = vec![0usize; inferences.len()];
    for _ in 0..experiments {
        let mut found = vec![false; inferences.len()];
        let (mut control, mut candidate) = ([0u64; 2], [0u64; 2]);
        for day in 1..=DAYS {
            for counts in [&mut control, &mut candidate] {
                counts[0] += KEYS_PER_DAY;
                counts[1] += binomial.draw(&mut rng);
            }
            if !looks.contains(&day) {
                continue;
            }
            for (i, &inference) in inferences.iter().enumerate() {
                let options = CompareOptions { inference, ..CompareOptions::default() };
                let rows = compare_funnel(&[control, candidate], Some(0), options).expect("valid counts");
                found[i] |= rows[1][1].comparison.expect("both variants have keys").significant;
            }
        }
        for (count, found) in false_positives.iter_mut().zip(found) {
            *count += usize::from(found);
        }
    }
    false_positives.iter().map(|&f| f as f64 / experiments as f64).collect()
}

#[test]
fn daily_looks_at_a_a_experiments_keep_sequential_false_positives_below_alpha() {
    // 2,000 A/A experiments, each 30 days of 100 new keys per variant per day converting at 10%
    // (6,000 keys in all on day 30, about the default tuning), looked at after every day, at
    // alpha 0.05: an experiment is a false positive when any look is significant. Seeded, so the
    // rates are the same on every run: fixed 0.2760, sequential 0.0100 (and fixed looked at once,
    // on day 30, 0.0520: the test alone is calibrated). The Monte Carlo standard error of a rate r
    // over 2,000 experiments is sqrt(r (1 - r) / 2000): 0.010 at 0.28, 0.0049 at 0.05, 0.0022 at
    // 0.01. Each bound is at least 4 of them away from the rate measured, so a change of seed (or
    // of the random stream) would not fail it, while a fixed test that kept its level under daily
    // looks, or a sequential one that lost it, would.
    let every_day: Vec<usize> = (1..=30).collect();
    let rates = false_positive_rates(2_000, &every_day, &[Inference::Fixed, SEQUENTIAL]);
    let (fixed, sequential) = (rates[0], rates[1]);
    let once = false_positive_rates(2_000, &[30], &[Inference::Fixed])[0];
    println!(
        "false positive rates: fixed daily {fixed:.4}, sequential daily {sequential:.4}, fixed once {once:.4}"
    );
    assert!((0.025..=0.075).contains(&once), "fixed, one look: {once}");
    assert!(fixed > 0.15, "fixed, daily looks: {fixed}");
    assert!(sequential <= 0.05, "sequential, daily looks: {sequential}");
    assert!(fixed > 4.0 * sequential);
}
