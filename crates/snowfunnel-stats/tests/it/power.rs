use snowfunnel_stats::{CompareOptions, compare_funnel, keys_needed, minimum_detectable_effect};

use crate::assert_close;

/// Keys per variant: `statsmodels.stats.proportion.samplesize_proportions_2indep_onetail(
/// diff=p * effect, prop2=p, power=0.8, ratio=1, alpha=alpha, alternative="two-sided")`
/// (statsmodels 0.14), rounded up: (p, effect, alpha, statsmodels' n). The second is also the
/// uncorrected sample size of Fleiss, Levin & Paik (ch. 4) for 0.20 against 0.25, worked by hand:
/// (1.95996 sqrt(2 x 0.225 x 0.775) + 0.84162 sqrt(0.2 x 0.8 + 0.25 x 0.75))^2 / 0.05^2 = 1093.7.
const NEEDED: [(f64, f64, f64, f64); 5] = [
    (0.12, 0.05, 0.05, 47_035.849_147_324_04),
    (0.2, 0.25, 0.05, 1_093.739_045_766_165_2),
    (0.03, -0.1, 0.05, 48_291.669_905_267_3),
    (0.5, 0.02, 0.01, 58_387.563_257_713_25),
    (0.12, 0.208_333_333_333_333_3, 0.1, 2_273.021_630_674_031_3),
];

#[test]
fn keys_needed_match_statsmodels() {
    for (p, effect, alpha, n) in NEEDED {
        assert_eq!(keys_needed(p, effect, alpha), Some(n.ceil() as u64), "{p} {effect} {alpha}");
    }
}

/// Relative minimum detectable effects for n1 control keys and n2 variant keys: the root in
/// `diff / p` of `statsmodels.stats.proportion.power_proportions_2indep(diff, prop2=p,
/// nobs1=n2, ratio=n1/n2, alpha=alpha, alternative="two-sided") = 0.8` (scipy's brentq,
/// xtol 1e-15): (p, n1, n2, alpha, MDE). statsmodels adds the power of the far tail (2e-5 at
/// alpha 0.1, 2e-6 at 0.05), which snowfunnel leaves out as the sample sizes do: its MDEs are
/// larger by about as much, relative, hence the tolerance.
const MDE: [(f64, u64, u64, f64, f64); 4] = [
    (0.12, 1_000, 1_000, 0.05, 0.364_056_579_105_118_7),
    (0.12, 100_000, 100_000, 0.05, 0.034_177_419_506_170_724),
    (0.3, 500, 2_000, 0.05, 0.221_071_354_271_200_95),
    (0.05, 20_000, 15_000, 0.1, 0.120_185_546_968_331_43),
];

#[test]
fn minimum_detectable_effects_match_statsmodels() {
    for (p, n1, n2, alpha, mde) in MDE {
        let got = minimum_detectable_effect(p, n1, n2, alpha).unwrap();
        assert!(got >= mde, "{got} {mde}");
        assert_close(got, mde, 5e-5);
    }
}

#[test]
fn comparisons_carry_the_power_of_their_test() {
    // 145/1000 against 120/1000: observed lift 0.2083; statsmodels' sample size for it at
    // alpha 0.05 is 2885.80 (same call as NEEDED), for a planned +5% 47035.85.
    let observed = compare_funnel(&[[1000, 120], [1000, 145]], Some(0), CompareOptions::default()).unwrap();
    let c = observed[1][1].comparison.unwrap();
    assert_close(c.mde_relative.unwrap(), MDE[0].4, 1e-5);
    assert_eq!(c.keys_needed, Some(2886));
    let planned = CompareOptions { mde: Some(0.05), ..CompareOptions::default() };
    let c = compare_funnel(&[[1000, 120], [1000, 145]], Some(0), planned).unwrap()[1][1].comparison.unwrap();
    assert_eq!(c.keys_needed, Some(47_036));
    // No lift, no sample size for it; a control at 0 has no relative effect at all.
    let flat = compare_funnel(&[[1000, 120], [1000, 120]], Some(0), CompareOptions::default()).unwrap();
    assert_eq!(flat[1][1].comparison.unwrap().keys_needed, None);
    let zero = compare_funnel(&[[1000, 0], [1000, 10]], Some(0), planned).unwrap();
    let c = zero[1][1].comparison.unwrap();
    assert_eq!((c.mde_relative, c.keys_needed), (None, None));
}
