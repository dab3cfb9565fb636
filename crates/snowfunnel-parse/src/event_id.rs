//! Event ids as 128-bit values, for finding duplicated events: a UUID (the format requires
//! `event_id` to be one) is its own 128 bits, exactly, in any letter case; any other id is
//! hashed to 128 bits (SipHash twice), where two distinct ids collide with a probability of
//! about `n² / 2^129` for `n` ids.

use std::hash::{DefaultHasher, Hash, Hasher};

/// The 128 bits that stand for an event id: the UUID's own bits for a UUID in its text form
/// (any case), otherwise a 128-bit hash of the bytes.
#[must_use]
pub fn event_id_bits(event_id: &[u8]) -> u128 {
    parse_uuid(event_id).unwrap_or_else(|| {
        let half = |prefix: u8| {
            let mut h = DefaultHasher::new();
            prefix.hash(&mut h);
            event_id.hash(&mut h);
            h.finish()
        };
        (u128::from(half(0)) << 64) | u128::from(half(1))
    })
}

fn parse_uuid(text: &[u8]) -> Option<u128> {
    if text.len() != 36 {
        return None;
    }
    let mut bits: u128 = 0;
    for (i, &c) in text.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if c != b'-' {
                return None;
            }
            continue;
        }
        let digit = char::from(c).to_digit(16)?;
        bits = (bits << 4) | u128::from(digit);
    }
    Some(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_their_own_bits_other_ids_are_hashed() {
        let id = b"0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b";
        assert_eq!(event_id_bits(id), 0x0f8e_7d6c_5b4a_4938_8271_605f_4e3d_2c1b);
        assert_eq!(event_id_bits(b"0F8E7D6C-5B4A-4938-8271-605F4E3D2C1B"), event_id_bits(id));
        assert_ne!(event_id_bits(b"0f8e7d6c-5b4a-4938-8271-605f4e3d2c1c"), event_id_bits(id));
        // Not a UUID: right length, wrong separators or digits.
        assert_eq!(parse_uuid(b"0f8e7d6c_5b4a-4938-8271-605f4e3d2c1b"), None);
        assert_eq!(parse_uuid(b"0f8e7d6c-5b4a-4938-8271-605f4e3d2c1g"), None);
        assert_eq!(event_id_bits(b"not-a-uuid"), event_id_bits(b"not-a-uuid"));
        assert_ne!(event_id_bits(b"not-a-uuid"), event_id_bits(b"not-a-uuid2"));
    }
}
