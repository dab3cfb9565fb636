use snowfunnel_stats::{CompareOptions, chance_to_win, compare_funnel, expected_loss};

use crate::assert_close;

/// (variant conversions, keys, control conversions, keys, P(variant > control),
/// E[max(control - variant, 0)]) under Beta(1, 1) priors, from two independent
/// computations at 40 digits with mpmath 1.3: numerical integration (`mpmath.quad` with
/// breakpoints at each posterior's mean ± k sd) of `E_C[1 - I_C(a_V, b_V)]` and of `E_C[C
/// I_C(a_V, b_V) - m_V I_C(a_V + 1, b_V)]` with mpmath's `betainc` (the first four and the
/// sixth: betainc does not converge beyond), and Evan Miller's exact sum for `P(B > A)` over
/// all of its terms, the loss as `m_C P(C' > V) - m_V P(C > V')` (every case; both agree to all
/// 20 digits where both ran), rounded to the nearest double.
const REFERENCE: [(u64, u64, u64, u64, f64, f64); 7] = [
    (5, 12, 3, 10, 0.699_892_313_904_967, 0.035_764_603_324_167_19),
    (145, 1_000, 120, 1_000, 0.950_196_907_616_773_3, 0.000_315_838_926_942_978_6),
    (0, 40, 2, 35, 0.097_607_655_502_392_34, 0.059_506_164_769_322_66),
    (30, 100, 2_900, 10_000, 0.609_260_843_005_755_9, 0.011_947_363_303_935_253),
    (12_100, 100_000, 12_000, 100_000, 0.753_912_849_185_430_8, 0.000_212_688_207_778_386_04),
    (999, 1_000, 1_000, 1_000, 0.249_875_062_468_765_62, 0.001_247_131_299_059_395),
    (480_000, 4_000_000, 481_000, 4_010_000, 0.585_977_904_725_935_6, 0.000_068_819_227_725_110_44),
];

#[test]
fn match_the_high_precision_reference() {
    for (x, n, cx, cn, win, loss) in REFERENCE {
        let got_win = chance_to_win(x, n, cx, cn).unwrap();
        let got_loss = expected_loss(x, n, cx, cn).unwrap();
        assert!((got_win - win).abs() < 1e-12, "{x}/{n} vs {cx}/{cn}: {got_win} against {win}");
        assert!((got_loss - loss).abs() < 1e-13, "{x}/{n} vs {cx}/{cn}: {got_loss} against {loss}");
        assert_close(got_loss, loss, 1e-8);
    }
}

#[test]
fn comparisons_carry_them() {
    let rows = compare_funnel(&[[1_000, 120], [1_000, 145]], Some(0), CompareOptions::default()).unwrap();
    let c = rows[1][1].comparison.unwrap();
    assert!((c.chance_to_win.unwrap() - REFERENCE[1].4).abs() < 1e-12);
    assert!((c.expected_loss.unwrap() - REFERENCE[1].5).abs() < 1e-13);
}
