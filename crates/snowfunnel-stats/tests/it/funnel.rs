use snowfunnel_stats::{CompareOptions, Method, StatsError, StepStats, compare_funnel};

use crate::{REL, assert_close};

/// A funnel of four variants, with the expected values of the `ci` and comparison columns
/// computed in Python per (variant, step):
/// `statsmodels.stats.proportion.proportion_confint(keys, first, alpha=0.05, method="wilson")`;
/// `statsmodels.stats.proportion.proportions_ztest` or, when an expected cell is below 5,
/// `scipy.stats.fisher_exact`; `statsmodels.stats.multitest.multipletests(method="holm")` over
/// the four comparisons.
const CONTROL: [u64; 3] = [1000, 400, 100];
const CANDIDATE: [u64; 3] = [1000, 450, 90];
const SMALL: [u64; 3] = [30, 4, 1];
const EMPTY: [u64; 3] = [0, 0, 0];

fn assert_ci(stats: &StepStats, low: f64, high: f64) {
    let (l, h) = stats.ci.expect("an interval");
    assert_close(l, low, REL);
    assert_close(h, high, REL);
}

#[test]
fn worked_example_matches_scipy() {
    let rows =
        compare_funnel(&[CONTROL, CANDIDATE, SMALL, EMPTY], Some(0), CompareOptions::default()).unwrap();
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|row| row.len() == 3));

    // Step 1: conversion 1, no interval, no comparison.
    for row in &rows[..3] {
        assert_eq!(row[0], StepStats { conversion_from_first: Some(1.0), ci: None, comparison: None });
    }
    // The control: intervals only.
    assert_ci(&rows[0][1], 0.37007478121137727, 0.4306905704857338);
    assert_ci(&rows[0][2], 0.08290944359309571, 0.1201519631953484);
    assert!(rows[0].iter().all(|s| s.comparison.is_none()));

    // (variant, step, ci low, ci high, lift, method, p, adjusted, significant)
    let expected = [
        (
            1,
            1,
            0.4194153840742968,
            0.4809672917742588,
            0.125,
            Method::ZTest,
            0.023718642632191457,
            0.07115592789657438,
            false,
        ),
        (
            1,
            2,
            0.07379614931508309,
            0.1093417926430721,
            -0.1,
            Method::ZTest,
            0.4456997753528069,
            0.7024903380691668,
            false,
        ),
        (
            2,
            1,
            0.05309655484054743,
            0.296813266820363,
            -2.0 / 3.0,
            Method::ZTest,
            0.0032024008138362794,
            0.012809603255345118,
            true,
        ),
        (
            2,
            2,
            0.005908590381612455,
            0.16670390991409176,
            -2.0 / 3.0,
            Method::FisherExact,
            0.3512451690345834,
            0.7024903380691668,
            false,
        ),
    ];
    for (variant, step, low, high, lift, method, p, adjusted, significant) in expected {
        let stats = &rows[variant][step];
        assert_ci(stats, low, high);
        let comparison = stats.comparison.unwrap();
        assert_close(comparison.lift.unwrap(), lift, REL);
        assert_eq!(comparison.method, method);
        assert_close(comparison.p_value, p, 1e-11);
        assert_close(comparison.p_value_adjusted, adjusted, 1e-11);
        assert_eq!(comparison.significant, significant, "variant {variant} step {step}");
    }

    // A variant with no key at step 1: nothing is defined, and it is not in the Holm family
    // (which has four members, as the adjusted values above show).
    for stats in &rows[3] {
        assert_eq!(*stats, StepStats { conversion_from_first: None, ci: None, comparison: None });
    }
}

#[test]
fn alpha_decides_significance() {
    let options = CompareOptions { alpha: 0.10, ..CompareOptions::default() };
    let rows = compare_funnel(&[CONTROL, CANDIDATE], Some(0), options).unwrap();
    // Alone with the candidate's step 3, the step 2 test is adjusted to 2 * 0.0237 < 0.10.
    let comparison = rows[1][1].comparison.unwrap();
    assert_close(comparison.p_value_adjusted, 2.0 * 0.023718642632191457, 1e-11);
    assert!(comparison.significant);
}

#[test]
fn control_need_not_come_first() {
    let first = compare_funnel(&[CONTROL, CANDIDATE, SMALL], Some(0), CompareOptions::default()).unwrap();
    let last = compare_funnel(&[CANDIDATE, SMALL, CONTROL], Some(2), CompareOptions::default()).unwrap();
    assert_eq!(first[0], last[2]);
    assert_eq!(first[1], last[0]);
    assert_eq!(first[2], last[1]);
}

#[test]
fn without_control_only_intervals() {
    let rows = compare_funnel(&[CANDIDATE, SMALL], None, CompareOptions::default()).unwrap();
    assert!(rows.iter().flatten().all(|s| s.comparison.is_none()));
    assert_ci(&rows[0][1], 0.4194153840742968, 0.4809672917742588);
}

#[test]
fn single_variant_and_single_step() {
    let rows = compare_funnel(&[CONTROL], Some(0), CompareOptions::default()).unwrap();
    assert!(rows[0].iter().all(|s| s.comparison.is_none()));
    let rows = compare_funnel(&[[10], [12]], Some(0), CompareOptions::default()).unwrap();
    assert_eq!(rows[1][0], StepStats { conversion_from_first: Some(1.0), ci: None, comparison: None });
    let rows = compare_funnel::<[u64; 0]>(&[], None, CompareOptions::default()).unwrap();
    assert!(rows.is_empty());
}

#[test]
fn control_without_keys_gives_no_comparison() {
    let rows = compare_funnel(&[EMPTY, CANDIDATE], Some(0), CompareOptions::default()).unwrap();
    assert!(rows.iter().flatten().all(|s| s.comparison.is_none()));
    assert!(rows[1][1].ci.is_some());
}

#[test]
fn control_without_conversions_has_no_lift() {
    let rows = compare_funnel(&[[1000, 0], [1000, 10]], Some(0), CompareOptions::default()).unwrap();
    let comparison = rows[1][1].comparison.unwrap();
    assert_eq!(comparison.lift, None);
    // Expected successes (10 / 2) per row are 5, not below: the z-test.
    assert_eq!(comparison.method, Method::ZTest);
    assert!(comparison.p_value < 0.01);
}

#[test]
fn nobody_converting_anywhere_gives_one() {
    let rows = compare_funnel(&[[500, 0, 0], [400, 0, 0]], Some(0), CompareOptions::default()).unwrap();
    for stats in &rows[1][1..] {
        let comparison = stats.comparison.unwrap();
        assert_eq!((comparison.p_value, comparison.p_value_adjusted), (1.0, 1.0));
        assert_eq!(comparison.lift, None);
        assert!(!comparison.significant);
        assert_eq!(stats.ci.unwrap().0, 0.0);
    }
}

#[test]
fn everyone_converting_gives_one() {
    let rows = compare_funnel(&[[500, 500], [400, 400]], Some(0), CompareOptions::default()).unwrap();
    let comparison = rows[1][1].comparison.unwrap();
    assert_eq!(comparison.p_value, 1.0);
    assert_eq!(comparison.lift, Some(0.0));
    assert_eq!(rows[1][1].ci.unwrap().1, 1.0);
}

#[test]
fn millions_of_keys_stay_finite() {
    let control = [40_000_000, 12_000_000, 3_000_000];
    let candidate = [40_100_000, 12_100_000, 3_010_000];
    let rows = compare_funnel(&[control, candidate], Some(0), CompareOptions::default()).unwrap();
    for stats in rows.iter().flatten() {
        let (low, high) = stats.ci.unwrap_or((0.0, 1.0));
        assert!(low.is_finite() && high.is_finite());
        if let Some(c) = stats.comparison {
            assert!(c.lift.unwrap().is_finite() && (0.0..=1.0).contains(&c.p_value_adjusted));
        }
    }
    // (12_100_000 / 40_100_000) / (12_000_000 / 40_000_000) - 1 = 2.8 / 481.2, from exact products.
    let step2 = rows[1][1].comparison.unwrap();
    assert_close(step2.lift.unwrap(), 28.0 / 4812.0, 1e-15);
    // statsmodels.stats.proportion.proportions_ztest([12_100_000, 12_000_000],
    // [40_100_000, 40_000_000]) gives 4.742600353157056e-65; mpmath at 50 digits (the value
    // here) shows statsmodels' digits after the 11th are rounding.
    assert_close(step2.p_value, 4.742600353185178e-65, REL);
    // proportions_ztest([3_010_000, 3_000_000], [40_100_000, 40_000_000]): 0.28959857750986806;
    // mpmath: 0.2895985775099239.
    assert_close(rows[1][2].comparison.unwrap().p_value, 0.2895985775099239, REL);
    // proportion_confint(3_010_000, 40_100_000, alpha=0.05, method="wilson")
    assert_ci(&rows[1][2], 0.07498083122990741, 0.07514393846487315);
}

#[test]
fn bad_input_is_an_error() {
    let options = CompareOptions::default();
    assert_eq!(
        compare_funnel(&[&[10_u64, 5][..], &[10, 5, 1][..]], Some(0), options),
        Err(StatsError::StepCountMismatch { variant: 1, expected: 2, found: 3 })
    );
    assert_eq!(
        compare_funnel(&[[10, 5], [10, 11]], Some(0), options),
        Err(StatsError::KeysAboveFirstStep { variant: 1, step: 2, keys: 11, first: 10 })
    );
    assert_eq!(
        compare_funnel(&[[10, 5]], Some(1), options),
        Err(StatsError::ControlOutOfRange { control: 1, variants: 1 })
    );
    for alpha in [0.0, 1.0, f64::NAN] {
        let error = compare_funnel(&[[10, 5]], None, CompareOptions { alpha, ..options }).unwrap_err();
        assert!(matches!(error, StatsError::LevelOutOfRange { name: "alpha", .. }));
    }
    let error = compare_funnel(&[[10, 5]], None, CompareOptions { confidence: 1.5, ..options }).unwrap_err();
    assert!(matches!(error, StatsError::LevelOutOfRange { name: "confidence", .. }));
}
