//! Length hiding: every plaintext is padded to one of [`BUCKETS`] before
//! sealing (ISO/IEC 7816-4 padding inside the AEAD; SPEC.md section 6).
//!
//! With these buckets, "positive" and "negative" versions of the same
//! template encode to the same bucket unless the template sits within a few
//! bytes of a boundary: an observer learns only which of four sizes a
//! notification has.

use crate::error::{Error, Result};

/// The padded sizes, in bytes, that a sender uses.
pub const BUCKETS: [usize; 4] = [256, 512, 1024, 2048];

/// The longest plaintext that can be padded: one less than the largest bucket.
pub const MAX_PLAINTEXT_LEN: usize = BUCKETS[BUCKETS.len() - 1] - 1;

/// The padded length of a plaintext of `len` bytes: the smallest bucket that
/// holds it and the `0x80` marker.
pub fn padded_len(len: usize) -> Option<usize> {
    BUCKETS.into_iter().find(|&b| b > len)
}

/// Appends the padding for a plaintext that starts at `start` in `buf` and
/// runs to its end. Fails if the plaintext is longer than [`MAX_PLAINTEXT_LEN`].
pub fn pad_in_place(buf: &mut Vec<u8>, start: usize) -> Result<()> {
    let len = buf.len().saturating_sub(start);
    let padded = padded_len(len).ok_or(Error::PayloadTooLarge { size: len, max_plaintext: MAX_PLAINTEXT_LEN })?;
    buf.push(0x80);
    buf.resize(start + padded, 0);
    Ok(())
}

/// The plaintext inside `padded`: trailing zeros and one `0x80` removed.
/// Any other ending is [`Error::MalformedPadding`].
pub fn unpad(padded: &[u8]) -> Result<&[u8]> {
    let end = padded.iter().rposition(|&b| b != 0).ok_or(Error::MalformedPadding)?;
    match padded.get(end) {
        Some(0x80) => Ok(&padded[..end]),
        _ => Err(Error::MalformedPadding),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_to_the_next_bucket_and_back() {
        for (len, bucket) in [(0, 256), (255, 256), (256, 512), (511, 512), (1023, 1024), (2047, 2048)] {
            let mut buf = vec![7u8; len];
            pad_in_place(&mut buf, 0).unwrap();
            assert_eq!(buf.len(), bucket, "len {len}");
            assert_eq!(unpad(&buf).unwrap(), vec![7u8; len].as_slice());
        }
        let mut too_long = vec![1u8; 2048];
        assert_eq!(pad_in_place(&mut too_long, 0).unwrap_err().kind(), crate::ErrorKind::PayloadTooLarge);
    }

    #[test]
    fn positive_and_negative_have_the_same_size() {
        let sizes: Vec<usize> = ["Your test result: positive", "Your test result: negative", "Result: inconclusive"]
            .iter()
            .map(|s| {
                let mut buf = s.as_bytes().to_vec();
                pad_in_place(&mut buf, 0).unwrap();
                buf.len()
            })
            .collect();
        assert!(sizes.iter().all(|&s| s == sizes[0]));
    }

    #[test]
    fn malformed_padding_is_rejected() {
        for bad in [&b""[..], b"\0\0\0", b"abc", b"abc\x80\x01", b"abc\x81\0\0"] {
            assert_eq!(unpad(bad).unwrap_err(), Error::MalformedPadding, "{bad:?}");
        }
        assert_eq!(unpad(b"abc\x80\0").unwrap(), b"abc");
        assert_eq!(unpad(b"\x80").unwrap(), b"");
    }
}
