//! The one encode/decode pair for stored records.
//!
//! Every stored value is `[RECORD_FORMAT] ++ bincode(record)`. The leading byte lets a
//! later release change the encoding (bincode is unmaintained) with a migration: a
//! record in an unknown envelope is reported as corrupt, never guessed at.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// The envelope byte written in front of every record.
pub const RECORD_FORMAT: u8 = 1;

/// The most bytes a decoded record may claim. Without a limit, bincode allocates the
/// length a string or list claims before reading it, so one damaged length byte aborted
/// the process for lack of memory (found by the `damaged_store` fuzz target). No real
/// record comes near it.
const MAX_RECORD_BYTES: usize = 1 << 30;

/// Encodes a record in the current envelope.
pub fn encode<T: Serialize>(record: &T) -> Vec<u8> {
    let mut out = vec![RECORD_FORMAT];
    bincode::serde::encode_into_std_write(record, &mut out, bincode::config::standard())
        .expect("encoding into a Vec cannot fail");
    out
}

/// Decodes a record; `what` names it in the error when the bytes are not a valid record.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], what: &dyn Fn() -> String) -> Result<T> {
    match bytes.split_first() {
        Some((&RECORD_FORMAT, body)) => {
            let (record, used) = bincode::serde::decode_from_slice(
                body,
                bincode::config::standard().with_limit::<MAX_RECORD_BYTES>(),
            )
            .map_err(|e| Error::Corrupt(format!("{} cannot be decoded: {e}", what())))?;
            if used != body.len() {
                return Err(Error::Corrupt(format!(
                    "{} has {} trailing bytes",
                    what(),
                    body.len() - used
                )));
            }
            Ok(record)
        }
        Some((other, _)) => Err(Error::Corrupt(format!(
            "{} has unknown record format {other}",
            what()
        ))),
        None => Err(Error::Corrupt(format!("{} is empty", what()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{EntityId, Version};

    #[test]
    fn round_trip_and_rejects_garbage() {
        let record: (EntityId, Option<Version>, String) = (EntityId(7), Some(3), "x".into());
        let bytes = encode(&record);
        let back: (EntityId, Option<Version>, String) = decode(&bytes, &|| "t".into()).unwrap();
        assert_eq!(back, record);
        let bad = decode::<(EntityId, Option<Version>, String)>(&[9, 1, 2], &|| "t".into());
        assert!(matches!(bad, Err(Error::Corrupt(m)) if m.contains("unknown record format 9")));
        let truncated = decode::<(EntityId, Option<Version>, String)>(&bytes[..2], &|| "t".into());
        assert!(matches!(truncated, Err(Error::Corrupt(_))));
        // A string claiming 2^62 bytes (varint marker 253, then a u64).
        let mut huge = vec![RECORD_FORMAT, 253];
        huge.extend_from_slice(&(1u64 << 62).to_le_bytes());
        let claimed = decode::<String>(&huge, &|| "t".into());
        assert!(matches!(claimed, Err(Error::Corrupt(_))), "{claimed:?}");
    }
}
