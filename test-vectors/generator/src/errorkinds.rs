//! Error kinds: every stable kind name of SPEC.md section 9 with the device
//! action an app takes when an open fails with it, straight from
//! `pushseal::ErrorKind::ALL` and `ErrorKind::device_action`.

use pushseal::ErrorKind;
use serde::Serialize;

use crate::{Result, ensure};

/// The description at the top of `error-kinds.json`.
pub const DESCRIPTION: &str = "PushSeal error kinds (SPEC.md section 9): every kind's stable name and the device \
action an app takes when opening a payload fails with it. Schema: test-vectors/README.md.";

/// One error kind and its device action.
#[derive(Serialize)]
pub struct ErrorKindJson {
    kind: &'static str,
    device_action: &'static str,
}

/// Every error kind, in declaration order.
pub fn vectors() -> Result<Vec<ErrorKindJson>> {
    let mut out = Vec::new();
    for kind in ErrorKind::ALL {
        ensure(ErrorKind::from_name(kind.name()) == Some(kind), || format!("kind {kind:?}: name {}", kind.name()))?;
        out.push(ErrorKindJson { kind: kind.name(), device_action: kind.device_action().name() });
    }
    Ok(out)
}
