//! Reading a platform payload's JSON text as strictly as SPEC.md section 7.4
//! says: one value (RFC 8259), every member name once per object, every
//! string with a UTF-8 form, every number a finite binary64, and at most
//! [`MAX_DEPTH`] arrays and objects deep.
//!
//! serde_json alone keeps the last of two equal member names and skips
//! unused strings without checking their escapes; this reads every value
//! through a visitor that refuses both.

use core::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::error::{Error, Result};

/// The deepest nesting of arrays and objects a payload may have; the
/// top-level value counts as depth 1, so `{"a":[{}]}` is 3 deep.
pub const MAX_DEPTH: usize = 64;

/// The message of the visitor's error for a member name given twice; the
/// caller tells it apart from serde_json's own errors by it.
const DUPLICATE: &str = "a member name given twice";
/// The same, for nesting deeper than [`MAX_DEPTH`].
const TOO_DEEP: &str = "nested too deep";

/// Parses `text` as one JSON value under section 7.4's rules. Every failure
/// is [`Error::NotPushSeal`], and no message quotes the input.
pub fn parse_payload_json(text: &str) -> Result<Value> {
    serde_json::from_str::<Strict>(text).map(|s| s.0).map_err(|e| {
        let reason = e.to_string();
        Error::NotPushSeal(if reason.starts_with(DUPLICATE) {
            DUPLICATE_MESSAGE
        } else if reason.starts_with(TOO_DEEP) {
            TOO_DEEP_MESSAGE
        } else {
            INVALID_MESSAGE
        })
    })
}

const INVALID_MESSAGE: &str = "its JSON is not valid (RFC 8259, strings with a UTF-8 form, finite numbers)";
const DUPLICATE_MESSAGE: &str = "its JSON gives a member name twice in one object";
const TOO_DEEP_MESSAGE: &str = "its JSON nests arrays and objects more than 64 deep";

/// A value read under the strict rules.
struct Strict(Value);

impl<'de> de::Deserialize<'de> for Strict {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> core::result::Result<Self, D::Error> {
        Depth(1).deserialize(deserializer)
    }
}

/// The seed of a value at this depth.
#[derive(Clone, Copy)]
struct Depth(usize);

impl<'de> DeserializeSeed<'de> for Depth {
    type Value = Strict;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> core::result::Result<Strict, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Depth {
    /// The depth of this container's members, or an error past [`MAX_DEPTH`].
    fn inner<E: de::Error>(self) -> core::result::Result<Depth, E> {
        if self.0 > MAX_DEPTH { Err(E::custom(TOO_DEEP)) } else { Ok(Depth(self.0 + 1)) }
    }
}

impl<'de> Visitor<'de> for Depth {
    type Value = Strict;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> core::result::Result<Strict, E> {
        Ok(Strict(Value::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> core::result::Result<Strict, E> {
        Ok(Strict(Value::Number(v.into())))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> core::result::Result<Strict, E> {
        Ok(Strict(Value::Number(v.into())))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> core::result::Result<Strict, E> {
        // serde_json (with `float_roundtrip`, correctly rounded) refuses a
        // number whose magnitude rounds to infinity, at least 2^1024 - 2^970,
        // before this; a non-finite value would have no JSON form anyway.
        Number::from_f64(v).map(|n| Strict(Value::Number(n))).ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> core::result::Result<Strict, E> {
        Ok(Strict(Value::String(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> core::result::Result<Strict, E> {
        Ok(Strict(Value::String(v)))
    }

    fn visit_unit<E: de::Error>(self) -> core::result::Result<Strict, E> {
        Ok(Strict(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> core::result::Result<Strict, A::Error> {
        let inner = self.inner()?;
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Strict(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> core::result::Result<Strict, A::Error> {
        let inner = self.inner()?;
        let mut members = Map::new();
        // A name is decoded (escapes resolved) before it is compared.
        while let Some(name) = map.next_key::<String>()? {
            if members.contains_key(&name) {
                return Err(de::Error::custom(DUPLICATE));
            }
            let Strict(value) = map.next_value_seed(inner)?;
            members.insert(name, value);
        }
        Ok(Strict(Value::Object(members)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> Option<&'static str> {
        match parse_payload_json(text) {
            Ok(_) => None,
            Err(Error::NotPushSeal(why)) => Some(why),
            Err(e) => panic!("unexpected error {e}"),
        }
    }

    #[test]
    fn duplicates_are_refused_at_every_depth_and_after_unescaping() {
        let dup = DUPLICATE_MESSAGE;
        assert_eq!(kind(r#"{"a":1,"a":1}"#), Some(dup));
        assert_eq!(kind(r#"{"x":[{"b":{"c":1,"c":2}}]}"#), Some(dup));
        assert_eq!(kind(r#"{"pushseal":"a","push\u0073eal":"a"}"#), Some(dup));
        assert_eq!(kind(r#"{"a":1,"A":1,"a ":1}"#), None);
    }

    #[test]
    fn strings_numbers_and_depth() {
        let invalid = INVALID_MESSAGE;
        assert_eq!(kind(r#"{"x":"\ud800"}"#), Some(invalid));
        assert_eq!(kind(r#"{"\udc00":1}"#), Some(invalid));
        assert_eq!(kind(r#"{"x":"\ud83d\ude00"}"#), None);
        assert_eq!(kind(r#"{"x":1e400}"#), Some(invalid));
        assert_eq!(kind(r#"{"x":[-0,1e-400,18446744073709551616,1.5E+3,null,true]}"#), None);
        let deep = |d: usize| format!("{}{}", "[".repeat(d), "]".repeat(d));
        assert_eq!(kind(&deep(MAX_DEPTH)), None);
        assert_eq!(kind(&deep(MAX_DEPTH + 1)), Some(TOO_DEEP_MESSAGE));
        assert_eq!(kind(&"[".repeat(100_000)), Some(TOO_DEEP_MESSAGE));
        assert_eq!(kind("{} {}"), Some(invalid));
        assert_eq!(kind("\u{feff}{}"), Some(invalid));
    }

    /// `a + b` for decimal integers written out in full.
    fn add(a: &str, b: &str) -> String {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        let (mut out, mut carry) = (Vec::new(), 0);
        for i in 0..a.len().max(b.len()) {
            let digit = |x: &[u8]| if i < x.len() { x[x.len() - 1 - i] - b'0' } else { 0 };
            let sum = digit(a) + digit(b) + carry;
            out.push(b'0' + sum % 10);
            carry = sum / 10;
        }
        if carry > 0 {
            out.push(b'0' + carry);
        }
        out.reverse();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn finiteness_is_decided_by_correct_rounding_at_the_top_of_the_range() {
        // SPEC.md section 7.4: refused exactly when the magnitude is at least
        // 2^1024 - 2^970, halfway from DBL_MAX to 2^1024, which rounding to
        // nearest, ties to even, takes to infinity.
        let dbl_max = format!("{:.0}", f64::MAX);
        let halfway = add(&dbl_max, &format!("{:.0}", 2f64.powi(970)));
        // 2^1024 - 2^970 ends in ...97792: the largest integer below it ends in ...97791.
        let below = format!("{}1", &halfway[..halfway.len() - 1]);
        assert_eq!((dbl_max.len(), halfway.len(), &halfway[halfway.len() - 5..]), (309, 309, "97792"));
        assert_eq!(add(&below, "1"), halfway);
        let invalid = Some(INVALID_MESSAGE);
        for (number, refused) in [
            (dbl_max.clone(), false),
            (below.clone(), false),
            (format!("{below}.999999999999999999999999999999"), false),
            (halfway.clone(), true),
            (format!("{halfway}.000000000000000000000000000001"), true),
            ("1.797693134862315708e308".into(), false),
            ("1.79769313486231571e308".into(), false),
            ("1.7976931348623158e308".into(), false),
            ("1.7976931348623159e308".into(), true),
            ("17976931348623158079372897140530341507993413271003782693617377898044496830e235".into(), true),
            ("17976931348623158079372897140530341507993413271003782693617377898044496829e235".into(), false),
            ("0.000017976931348623158e313".into(), false),
            (format!("1{}", "0".repeat(309)), true),
            (format!("9{}", "9".repeat(308)), true),
        ] {
            for sign in ["", "-"] {
                let text = format!("{{\"n\":{sign}{number}}}");
                assert_eq!(kind(&text), if refused { invalid } else { None }, "{sign}{number}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn finiteness_matches_a_correctly_rounded_conversion(
            mantissa in "1[0-9]{0,40}",
            point in 0usize..40,
            exponent in 260i32..330,
            sign in proptest::bool::ANY,
        ) {
            let point = point.min(mantissa.len());
            let number = format!(
                "{}{}{}e{exponent}",
                if sign { "-" } else { "" },
                &mantissa[..point.max(1)],
                if point.max(1) < mantissa.len() { format!(".{}", &mantissa[point.max(1)..]) } else { String::new() },
            );
            let finite = number.parse::<f64>().is_ok_and(f64::is_finite);
            proptest::prop_assert_eq!(kind(&format!("[{number}]")).is_none(), finite, "{}", number);
        }
    }
}
