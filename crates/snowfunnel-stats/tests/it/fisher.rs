use snowfunnel_stats::fisher_exact_two_sided;

use crate::{REL, assert_close};

/// `scipy.stats.fisher_exact([[a, b], [c, d]]).pvalue` (scipy 1.17.1); each agrees with a
/// 60-digit mpmath sum of hypergeometric probabilities to about 4e-16.
const SCIPY_CASES: &[(u64, u64, u64, u64, f64)] = &[
    (8, 2, 1, 5, 0.034965034965034975),
    (0, 5, 5, 0, 0.007936507936507938),
    (3, 1, 1, 3, 0.48571428571428565),
    (0, 10, 0, 10, 1.0),
    (1, 0, 0, 1, 1.0),
    (0, 0, 3, 4, 1.0),
    (100, 0, 0, 100, 2.208760693199503e-59),
    (10, 20, 30, 40, 0.5044757698516285),
    (500, 500, 3, 10, 0.09031637008487359),
    (7, 12345, 0, 54321, 7.480132829994517e-06),
    (12, 5, 3, 9, 0.02532768703367614),
    (1, 9, 11, 3, 0.0027594561852200836),
];

/// Tables in the millions. scipy's hypergeometric probabilities lose digits there (its values,
/// in the comments, are off by 5e-11 to 2.5e-10); the expected values are a 60-digit mpmath
/// sum of `binomial(r1, k) binomial(r2, c1 - k) / binomial(n, c1)` over the tables at most
/// 1 + 1e-7 times as likely as the observed one.
const MILLIONS: &[(u64, u64, u64, u64, f64)] = &[
    // scipy: 0.011718535156468568
    (1, 999_999, 10, 999_990, 0.011718535157109376),
    // scipy: 0.0013122333783470465
    (2, 3_000_000, 15, 2_999_985, 0.001312233378232581),
    // scipy: 0.37499987490754766
    (4, 5_000_000, 1, 5_000_000, 0.37499987500014376),
    // scipy: 0.003906179690823325
    (0, 1_000_000, 9, 1_000_000, 0.0039061796909979885),
];

#[test]
fn matches_scipy() {
    for &(a, b, c, d, p) in SCIPY_CASES {
        assert_close(fisher_exact_two_sided(a, b, c, d), p, REL);
    }
}

#[test]
fn exact_in_the_millions() {
    for &(a, b, c, d, p) in MILLIONS {
        assert_close(fisher_exact_two_sided(a, b, c, d), p, REL);
    }
}

#[test]
fn symmetric_under_transposition_and_swaps() {
    for &(a, b, c, d, p) in SCIPY_CASES.iter().chain(MILLIONS) {
        for (name, value) in [
            ("transposed", fisher_exact_two_sided(a, c, b, d)),
            ("rows swapped", fisher_exact_two_sided(c, d, a, b)),
            ("columns swapped", fisher_exact_two_sided(b, a, d, c)),
        ] {
            assert!((value - p).abs() <= REL * p, "{name} [[{a}, {b}], [{c}, {d}]]: {value} vs {p}");
        }
    }
}

#[test]
fn empty_margins_give_one() {
    assert_eq!(fisher_exact_two_sided(0, 0, 0, 0), 1.0);
    assert_eq!(fisher_exact_two_sided(0, 7, 0, 9), 1.0);
    assert_eq!(fisher_exact_two_sided(4, 0, 6, 0), 1.0);
    assert_eq!(fisher_exact_two_sided(3, 5, 0, 0), 1.0);
}

#[test]
fn the_most_likely_table_gives_one() {
    // [[5, 5], [5, 5]] is the mode of its margins; every other table is less likely.
    assert_close(fisher_exact_two_sided(5, 5, 5, 5), 1.0, REL);
    assert_close(fisher_exact_two_sided(1_000_000, 1_000_000, 1_000_000, 1_000_000), 1.0, REL);
}

#[test]
fn far_tails_underflow_to_zero_quickly() {
    // The probability of this table is far below 1e-308: no NaN, no endless walk.
    let p = fisher_exact_two_sided(3_000_000, 0, 0, 3_000_000);
    assert_eq!(p, 0.0);
    // At the engine's limit of 2^32 keys per variant.
    let p = fisher_exact_two_sided(4_000_000_000, 0, 0, 4_000_000_000);
    assert_eq!(p, 0.0);
}
