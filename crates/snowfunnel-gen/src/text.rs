//! Appending numbers and ids to a byte buffer without going through `format!`: a generated line
//! holds a few dozen of them, and formatting was most of the cost of rendering one.

/// Appends a decimal integer.
pub(crate) fn push_int(out: &mut Vec<u8>, value: i64) {
    if value < 0 {
        out.push(b'-');
    }
    let mut magnitude = value.unsigned_abs();
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// Appends 128 random bits as a version 4, variant 1 UUID (`8-4-4-4-12` lowercase hex).
pub(crate) fn push_uuid(out: &mut Vec<u8>, high: u64, low: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let high = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
    let low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    for (i, shift) in (0..16).rev().map(|n| n * 4).enumerate() {
        if i == 8 || i == 12 {
            out.push(b'-');
        }
        out.push(DIGITS[((high >> shift) & 0xf) as usize]);
    }
    for (i, shift) in (0..16).rev().map(|n| n * 4).enumerate() {
        if i == 0 || i == 4 {
            out.push(b'-');
        }
        out.push(DIGITS[((low >> shift) & 0xf) as usize]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(write: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        write(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn integers() {
        for value in [0, 7, -7, 1_234_567, i64::MIN, i64::MAX] {
            assert_eq!(text(|out| push_int(out, value)), value.to_string());
        }
    }

    #[test]
    fn uuids() {
        let uuid = text(|out| push_uuid(out, 0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210));
        assert_eq!(uuid, "01234567-89ab-4def-bedc-ba9876543210");
    }
}
