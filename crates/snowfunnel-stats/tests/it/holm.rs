use snowfunnel_stats::holm_bonferroni;

use crate::{REL, assert_close};

/// `statsmodels.stats.multitest.multipletests(p, method="holm")[1]` (statsmodels 0.15.0).
#[test]
fn matches_statsmodels() {
    // The 20 p-values: numpy.random.default_rng(7).uniform(0, 0.2, 20), rounded to 6 digits.
    let twenty = [
        0.125019, 0.179443, 0.155137, 0.0450414, 0.0600333, 0.174711, 0.00105306, 0.164246, 0.159414,
        0.093587, 0.0606065, 0.0556851, 0.0509739, 0.0890153, 0.10091, 0.110699, 0.1991, 0.158532, 0.124436,
        0.197792,
    ];
    let twenty_adjusted = [
        1.0,
        1.0,
        1.0,
        0.8557866000000001,
        0.9605328,
        1.0,
        0.0210612,
        1.0,
        1.0,
        1.0,
        0.9605328,
        0.9466467000000001,
        0.9175302000000001,
        1.0,
        1.0,
        1.0,
        1.0,
        1.0,
        1.0,
        1.0,
    ];
    let cases: &[(&[f64], &[f64])] = &[
        (&[0.01, 0.04, 0.03, 0.005], &[0.03, 0.06, 0.06, 0.02]),
        (&[0.5], &[0.5]),
        (&[0.02, 0.02, 0.02], &[0.06, 0.06, 0.06]),
        (&[0.3, 0.6, 0.9], &[0.8999999999999999, 1.0, 1.0]),
        (&[0.001, 0.013, 0.014, 0.5, 0.02], &[0.005, 0.052, 0.052, 0.5, 0.052]),
        (&[1e-300, 1e-10, 0.049], &[3e-300, 2e-10, 0.049]),
        (&[1.0, 1.0], &[1.0, 1.0]),
        (&[0.0, 1.0, 0.5], &[0.0, 1.0, 1.0]),
        (&[0.04, 0.01, 0.012, 0.2, 0.03, 0.011], &[0.09, 0.06, 0.06, 0.2, 0.09, 0.06]),
        (&twenty, &twenty_adjusted),
    ];
    for (raw, expected) in cases {
        let adjusted = holm_bonferroni(raw);
        assert_eq!(adjusted.len(), expected.len());
        for (&a, &e) in adjusted.iter().zip(expected.iter()) {
            assert_close(a, e, REL);
        }
    }
}

#[test]
fn empty_family() {
    assert!(holm_bonferroni(&[]).is_empty());
}

#[test]
fn nan_is_left_out_of_the_family() {
    let adjusted = holm_bonferroni(&[0.01, f64::NAN, 0.04]);
    assert_close(adjusted[0], 0.02, REL);
    assert!(adjusted[1].is_nan());
    assert_close(adjusted[2], 0.04, REL);
}
