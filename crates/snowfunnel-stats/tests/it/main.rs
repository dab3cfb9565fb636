//! Integration tests of snowfunnel-stats: reference values from scipy and statsmodels (and
//! mpmath where those lose digits), embedded as literals so that the tests need no Python.

mod bayes;
mod fisher;
mod funnel;
mod holm;
mod lift;
mod power;
mod properties;
mod proportions;
mod sequential;
mod srm;
mod wilson;

/// Tolerance for every reference comparison unless a case says otherwise.
const REL: f64 = 1e-12;

/// Asserts `actual` is within `rel` of `expected`, relative to `expected` (exactly equal at 0).
#[track_caller]
fn assert_close(actual: f64, expected: f64, rel: f64) {
    let error = (actual - expected).abs();
    assert!(
        error <= rel * expected.abs(),
        "got {actual:e}, expected {expected:e}: relative error {:e} > {rel:e}",
        error / expected.abs()
    );
}
