//! Caller keys (`events.md`, "Caller key"): the adapters never pass a
//! caller's phone number on; they send a keyed hash of it, so repeat
//! contacts can be found without storing who called.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Hex characters of the key: 128 bits of the HMAC.
pub const CALLER_KEY_CHARS: usize = 32;

/// The environment variable the adapters read the salt from.
pub const CALLER_SALT_ENV: &str = "WALLBOARD_CALLER_SALT";

/// Turns caller ids into caller keys with the tenant's secret salt.
#[derive(Clone)]
pub struct CallerKeys {
    mac: Hmac<Sha256>,
}

/// The salt is set but empty: hashing would protect nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{CALLER_SALT_ENV} is set but empty: set a secret salt, or unset it to send no caller keys"
)]
pub struct EmptySalt;

impl fmt::Debug for CallerKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the salt.
        f.write_str("CallerKeys(..)")
    }
}

impl CallerKeys {
    /// Keys made with `salt`, which must not be empty.
    pub fn new(salt: &str) -> Result<Self, EmptySalt> {
        if salt.is_empty() {
            return Err(EmptySalt);
        }
        let mac = Hmac::<Sha256>::new_from_slice(salt.as_bytes()).map_err(|_| EmptySalt)?;
        Ok(CallerKeys { mac })
    }

    /// The keys of the salt in [`CALLER_SALT_ENV`]'s value: `None` (no
    /// caller keys at all) when it is unset, an error when it is empty.
    pub fn from_setting(value: Option<&str>) -> Result<Option<Self>, EmptySalt> {
        value.map(CallerKeys::new).transpose()
    }

    /// The key of `caller_id`: the first [`CALLER_KEY_CHARS`] hex
    /// characters of HMAC-SHA256(salt, its digits); `None` when it has no
    /// digit (`anonymous`, `unknown`, empty).
    #[must_use]
    pub fn key(&self, caller_id: &str) -> Option<String> {
        let digits: String = caller_id.chars().filter(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return None;
        }
        let mut mac = self.mac.clone();
        mac.update(digits.as_bytes());
        let bytes = mac.finalize().into_bytes();
        let mut hex = String::with_capacity(CALLER_KEY_CHARS);
        for b in &bytes[..CALLER_KEY_CHARS / 2] {
            use fmt::Write as _;
            write!(hex, "{b:02x}").expect("writing to a String cannot fail");
        }
        Some(hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_truncated_hmac_of_the_digits() {
        let k = CallerKeys::new("s3cret").unwrap();
        let a = k.key("+86 138-0013-8000").unwrap();
        assert_eq!(a.len(), CALLER_KEY_CHARS);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(k.key("+8613800138000"), Some(a.clone()));
        assert_ne!(k.key("013800138000"), Some(a.clone()));
        assert_ne!(
            CallerKeys::new("other").unwrap().key("+8613800138000"),
            Some(a)
        );
        for none in ["", "anonymous", "<unknown>", "Unknown"] {
            assert_eq!(k.key(none), None, "{none:?}");
        }
        // RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for
        // nothing?") begins 5bdcc146bf60754e6a042426089575c7. Our message
        // is the digits only, so check the primitive on a digit string.
        let jefe = CallerKeys::new("Jefe").unwrap();
        let mut mac = jefe.mac.clone();
        mac.update(b"what do ya want for nothing?");
        let full = mac.finalize().into_bytes();
        assert_eq!(full[..4], [0x5b, 0xdc, 0xc1, 0x46]);
    }

    #[test]
    fn an_empty_salt_is_refused_and_none_means_no_keys() {
        assert_eq!(CallerKeys::new("").unwrap_err(), EmptySalt);
        assert!(CallerKeys::from_setting(Some("")).is_err());
        assert!(CallerKeys::from_setting(None).unwrap().is_none());
        assert_eq!(
            format!("{:?}", CallerKeys::new("s3cret").unwrap()),
            "CallerKeys(..)"
        );
    }
}
