//! Breakdowns: each funnel split by the value an enriched field had on each key's first step-1
//! event (`--breakdown geo_country`).
//!
//! Recording keeps, per funnel and field, each step-1 key's earliest `(time, value)`: the
//! value is identified by a 64-bit hash of its bytes (the first 8 bytes of their SHA-256, the
//! same on every platform and version, as state files store it), so a tie in time goes to the
//! smallest hash, and merging takes the minimum pair: the result does not depend on the order
//! of events, threads, files, shards or state files. The values themselves (clipped to
//! [`MAX_BREAKDOWN_VALUE_BYTES`]) are kept once per field, at most
//! [`MAX_KEPT_BREAKDOWN_VALUES`] of them: past that, those of the smallest hashes, a choice
//! that does not depend on the order either. A report shows the
//! [`MAX_BREAKDOWN_VALUES`] values with the most step-1 keys; the keys of the others count
//! under [`OTHER_VALUE`].

use std::collections::BTreeMap;

use hashbrown::HashMap;
use sha2::{Digest, Sha256};
use snowfunnel_parse::fields;

/// The values a report shows per breakdown field (those with the most step-1 keys); the keys
/// of the others count under [`OTHER_VALUE`].
pub const MAX_BREAKDOWN_VALUES: usize = 1_000;

/// The distinct values a state keeps per breakdown field: past it, those whose hash is the
/// smallest (a choice independent of the order of the events); keys of a value not kept count
/// under [`OTHER_VALUE`].
pub const MAX_KEPT_BREAKDOWN_VALUES: usize = 100_000;

/// Values longer than this many bytes are cut there (at a UTF-8 character boundary) before
/// anything else: two values that differ only after it are one.
pub const MAX_BREAKDOWN_VALUE_BYTES: usize = 256;

/// The label of the empty value.
pub const EMPTY_VALUE: &str = "(empty)";

/// The label of the keys whose value is not shown (see [`MAX_BREAKDOWN_VALUES`]).
pub const OTHER_VALUE: &str = "(other)";

/// An enriched field funnels can be broken down by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BreakdownField {
    name: String,
    pub(crate) index: usize,
}

impl BreakdownField {
    /// The field called `name` in the enriched format (`geo_country`, `br_family`, ...; see
    /// [`snowfunnel_parse::fields::NAMES`]).
    ///
    /// # Errors
    /// [`UnknownField`] naming it, with the closest field names.
    pub fn parse(name: &str) -> Result<Self, UnknownField> {
        match fields::index_of(name) {
            Some(index) => Ok(BreakdownField { name: fields::NAMES[index].to_owned(), index }),
            None => {
                let wanted = name.to_lowercase();
                let mut close: Vec<(f64, &str)> = fields::NAMES
                    .iter()
                    .map(|n| (strsim::jaro_winkler(&wanted, n), *n))
                    .filter(|(score, _)| *score >= 0.8)
                    .collect();
                close.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
                Err(UnknownField {
                    name: name.to_owned(),
                    suggestions: close.into_iter().take(3).map(|(_, n)| n.to_owned()).collect(),
                })
            }
        }
    }

    /// Its name in the enriched format.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A breakdown field that is not a field of the enriched format.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "--breakdown {name}: no such enriched field{}",
    if suggestions.is_empty() {
        " (app_id, platform, os_family, br_family, geo_country, dvce_type, ...: any of the 131 field names)".to_owned()
    } else {
        format!("; did you mean {}?", suggestions.join(", "))
    }
)]
pub struct UnknownField {
    /// The name given.
    pub name: String,
    /// The closest field names (Jaro-Winkler similarity of at least 0.8), closest first.
    pub suggestions: Vec<String>,
}

/// `value` cut to at most [`MAX_BREAKDOWN_VALUE_BYTES`], not inside a UTF-8 character.
pub(crate) fn clip(value: &[u8]) -> &[u8] {
    if value.len() <= MAX_BREAKDOWN_VALUE_BYTES {
        return value;
    }
    let mut end = MAX_BREAKDOWN_VALUE_BYTES;
    // Back over continuation bytes (0b10xx_xxxx) to the start of the character cut.
    while end > 0 && value[end] & 0xc0 == 0x80 {
        end -= 1;
    }
    &value[..end]
}

/// The identity of a (clipped) value: the first 8 bytes of its SHA-256, little-endian.
pub(crate) fn value_hash(value: &[u8]) -> u64 {
    let digest = Sha256::digest(value);
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// The values of one field, by hash: at most [`MAX_KEPT_BREAKDOWN_VALUES`], those of the
/// smallest hashes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ValueNames(pub(crate) BTreeMap<u64, Box<[u8]>>);

impl ValueNames {
    pub(crate) fn insert(&mut self, hash: u64, value: &[u8]) {
        if self.0.contains_key(&hash) {
            return;
        }
        if self.0.len() >= MAX_KEPT_BREAKDOWN_VALUES {
            match self.0.last_key_value() {
                Some((&largest, _)) if largest > hash => {
                    self.0.pop_last();
                }
                _ => return,
            }
        }
        self.0.insert(hash, value.into());
    }

    pub(crate) fn union(&mut self, other: ValueNames) {
        for (hash, value) in other.0 {
            self.insert(hash, &value);
        }
    }

    /// The value of `hash`, if kept.
    pub(crate) fn get(&self, hash: u64) -> Option<&[u8]> {
        self.0.get(&hash).map(|v| &**v)
    }
}

/// Per key id: the time and value hash of its first step-1 event (the smallest pair).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FirstValues(pub(crate) HashMap<u32, (i64, u64)>);

impl FirstValues {
    #[inline]
    pub(crate) fn push(&mut self, id: u32, time: i64, hash: u64) {
        self.0.entry(id).and_modify(|first| *first = (*first).min((time, hash))).or_insert((time, hash));
    }

    pub(crate) fn union(&mut self, other: FirstValues) {
        let (mut into, from) = if other.0.len() > self.0.len() {
            (other, std::mem::take(self))
        } else {
            (std::mem::take(self), other)
        };
        for (id, (time, hash)) in from.0 {
            into.push(id, time, hash);
        }
        *self = into;
    }

    pub(crate) fn union_remapped(&mut self, other: FirstValues, remap: &[u32]) {
        for (id, (time, hash)) in other.0 {
            self.push(remap[id as usize], time, hash);
        }
    }

    /// The hash of the value of `id`'s first step-1 event.
    #[inline]
    pub(crate) fn get(&self, id: u32) -> Option<(i64, u64)> {
        self.0.get(&id).copied()
    }
}

/// The label a report shows for a value.
pub(crate) fn label(value: &[u8]) -> String {
    if value.is_empty() { EMPTY_VALUE.to_owned() } else { String::from_utf8_lossy(value).into_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_by_name_and_close_names() {
        assert_eq!(BreakdownField::parse("geo_country").unwrap().index, 18);
        assert_eq!(BreakdownField::parse("refr_device_tstamp").unwrap().name(), "refr_dvce_tstamp");
        let e = BreakdownField::parse("geo_contry").unwrap_err();
        assert_eq!(e.suggestions[0], "geo_country");
        assert_eq!(
            e.to_string(),
            format!(
                "--breakdown geo_contry: no such enriched field; did you mean {}?",
                e.suggestions.join(", ")
            )
        );
        assert!(BreakdownField::parse("zzz").unwrap_err().to_string().contains("any of the 131 field names"));
    }

    #[test]
    fn values_are_clipped_at_a_character() {
        let long = "é".repeat(200);
        let clipped = clip(long.as_bytes());
        assert_eq!(clipped.len(), MAX_BREAKDOWN_VALUE_BYTES);
        assert!(std::str::from_utf8(clipped).is_ok());
        let odd = format!("x{long}");
        assert_eq!(clip(odd.as_bytes()).len(), MAX_BREAKDOWN_VALUE_BYTES - 1);
        assert_eq!(clip(b"short"), b"short");
    }

    #[test]
    fn the_kept_values_do_not_depend_on_their_order() {
        let values: Vec<String> = (0..MAX_KEPT_BREAKDOWN_VALUES + 500).map(|i| format!("v{i}")).collect();
        let mut forward = ValueNames::default();
        let mut backward = ValueNames::default();
        for v in &values {
            forward.insert(value_hash(v.as_bytes()), v.as_bytes());
        }
        for v in values.iter().rev() {
            backward.insert(value_hash(v.as_bytes()), v.as_bytes());
        }
        assert_eq!(forward.0.len(), MAX_KEPT_BREAKDOWN_VALUES);
        assert_eq!(forward, backward);
    }

    #[test]
    fn the_earliest_value_wins_then_the_smallest_hash() {
        let mut a = FirstValues::default();
        a.push(1, 10, 7);
        a.push(1, 10, 3);
        a.push(1, 11, 1);
        let mut b = FirstValues::default();
        b.push(1, 9, 9);
        b.push(2, 5, 5);
        a.union(b);
        assert_eq!((a.get(1), a.get(2)), (Some((9, 9)), Some((5, 5))));
    }
}
