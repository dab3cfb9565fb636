use proptest::prelude::*;
use snowfunnel_stats::{
    CompareOptions, compare_funnel, fisher_exact_two_sided, holm_bonferroni, two_proportion_test,
    wilson_interval,
};

/// A count and a number of trials it can come from, small or in the millions.
fn successes_of_trials() -> impl Strategy<Value = (u64, u64)> {
    prop_oneof![1_u64..200, 1_u64..50_000_000].prop_flat_map(|n| (0..=n, Just(n)))
}

proptest! {
    #[test]
    fn wilson_contains_the_estimate_within_0_1(
        (x, n) in successes_of_trials(),
        confidence in 0.5_f64..0.9999,
    ) {
        let (low, high) = wilson_interval(x, n, confidence).unwrap();
        #[allow(clippy::cast_precision_loss)]
        let estimate = x as f64 / n as f64;
        prop_assert!((0.0..=1.0).contains(&low) && (0.0..=1.0).contains(&high));
        prop_assert!(low <= estimate && estimate <= high, "{low} <= {estimate} <= {high}");
    }

    #[test]
    fn p_values_lie_in_0_1((x1, n1) in successes_of_trials(), (x2, n2) in successes_of_trials()) {
        let result = two_proportion_test(x1, n1, x2, n2).unwrap();
        prop_assert!((0.0..=1.0).contains(&result.p_value), "{result:?}");
    }

    #[test]
    fn fisher_lies_in_0_1_and_is_symmetric(
        a in 0_u64..300, b in 0_u64..300, c in 0_u64..300, d in 0_u64..300,
    ) {
        let p = fisher_exact_two_sided(a, b, c, d);
        prop_assert!((0.0..=1.0).contains(&p));
        let transposed = fisher_exact_two_sided(a, c, b, d);
        prop_assert!((p - transposed).abs() <= 1e-12 * p.max(1e-300), "{p} vs {transposed}");
        let swapped = fisher_exact_two_sided(c, d, a, b);
        prop_assert!((p - swapped).abs() <= 1e-12 * p.max(1e-300), "{p} vs {swapped}");
    }

    #[test]
    fn fisher_is_symmetric_in_the_millions(
        a in 0_u64..20, b in 0_u64..5_000_000, c in 0_u64..20, d in 0_u64..5_000_000,
    ) {
        let p = fisher_exact_two_sided(a, b, c, d);
        prop_assert!((0.0..=1.0).contains(&p));
        let transposed = fisher_exact_two_sided(a, c, b, d);
        prop_assert!((p - transposed).abs() <= 1e-12 * p.max(1e-300), "{p} vs {transposed}");
    }

    #[test]
    fn holm_is_at_least_raw_capped_and_order_preserving(
        raw in proptest::collection::vec(0.0_f64..=1.0, 0..40),
    ) {
        let adjusted = holm_bonferroni(&raw);
        prop_assert_eq!(adjusted.len(), raw.len());
        for (i, (&p, &q)) in raw.iter().zip(&adjusted).enumerate() {
            prop_assert!(p <= q && q <= 1.0, "{i}: raw {p}, adjusted {q}");
            for (&p2, &q2) in raw.iter().zip(&adjusted) {
                if p < p2 {
                    prop_assert!(q <= q2, "raw {p} < {p2} but adjusted {q} > {q2}");
                }
            }
        }
    }
}

/// A funnel of up to 4 variants and 5 steps: each step keeps a share of the previous one.
fn funnels() -> impl Strategy<Value = Vec<Vec<u64>>> {
    let variant = (prop_oneof![0_u64..50, 0_u64..5_000_000], proptest::collection::vec(0.0_f64..=1.0, 4));
    (1_usize..=5, proptest::collection::vec(variant, 1..=4)).prop_map(|(steps, variants)| {
        variants
            .into_iter()
            .map(|(first, shares)| {
                let mut keys = vec![first];
                for share in shares.into_iter().take(steps - 1) {
                    let previous = *keys.last().expect("step 1");
                    #[allow(
                        clippy::cast_precision_loss,
                        clippy::cast_possible_truncation,
                        clippy::cast_sign_loss
                    )]
                    keys.push((previous as f64 * share) as u64);
                }
                keys
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn funnel_statistics_are_defined_or_none(keys in funnels(), control in 0_usize..4) {
        let control = (control < keys.len()).then_some(control);
        let rows = compare_funnel(&keys, control, CompareOptions::default()).unwrap();
        for (variant, row) in rows.iter().enumerate() {
            for (step, stats) in row.iter().enumerate() {
                prop_assert_eq!(stats.conversion_from_first.is_some(), keys[variant][0] > 0);
                prop_assert_eq!(stats.ci.is_some(), step > 0 && keys[variant][0] > 0);
                let comparable = step > 0
                    && control.is_some_and(|c| c != variant && keys[c][0] > 0)
                    && keys[variant][0] > 0;
                prop_assert_eq!(stats.comparison.is_some(), comparable);
                if let Some(c) = stats.comparison {
                    prop_assert!((0.0..=1.0).contains(&c.p_value));
                    prop_assert!(c.p_value <= c.p_value_adjusted && c.p_value_adjusted <= 1.0);
                    prop_assert_eq!(c.significant, c.p_value_adjusted < 0.05);
                    prop_assert!(c.lift.is_none_or(f64::is_finite));
                }
            }
        }
    }
}
