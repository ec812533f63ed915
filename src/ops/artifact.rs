//! Artifacts: files attached to a work order (a check's output, a report,
//! a screenshot), kept on the ledger as blobs at `artifacts/<WO>/<name>` —
//! content-addressed, in the project's own repository — and listed in the
//! work order's `artifacts`. They are ledger-only: no working copy holds
//! them.

use super::session::Session;
use super::tx::{Message, Tx};
use crate::error::{Error, Result};
use crate::model::review::{ArtifactRef, check_artifact_name};
use crate::model::{WorkOrder, WorkOrderId};

/// The default size limit (`artifacts.max_bytes`).
pub const MAX_BYTES: u64 = 10 * 1024 * 1024;

/// The ledger path of an artifact.
pub fn ledger_path(wo: WorkOrderId, name: &str) -> String {
    format!("artifacts/{wo}/{name}")
}

/// The size limit in force.
pub fn max_bytes(s: &Session) -> u64 {
    super::config::text(s, "artifacts.max_bytes")
        .ok()
        .flatten()
        .and_then(|t| t.parse().ok())
        .unwrap_or(MAX_BYTES)
}

/// Stages `bytes` as artifact `name` of `wo` in `tx`; returns the blob id.
pub fn stage(tx: &mut Tx, wo: WorkOrderId, name: &str, bytes: &[u8]) -> Result<String> {
    check_artifact_name(name).map_err(Error::usage)?;
    let limit = max_bytes(tx.session());
    if bytes.len() as u64 > limit {
        return Err(Error::invalid(format!(
            "{name}: {} bytes is over the artifact limit of {limit} bytes",
            bytes.len()
        ))
        .with_hint(
            "keep the part that matters, or raise it: `orc config set artifacts.max_bytes N`",
        ));
    }
    let blob = gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, bytes)
        .map_err(|e| Error::internal(format!("cannot hash {name}: {e}")))?;
    tx.stage_ledger_only(ledger_path(wo, name), bytes.to_vec());
    Ok(blob.to_string())
}

/// `orc artifact add WO FILE [--name N]`: one commit.
pub fn add(s: &Session, wo: WorkOrderId, name: &str, bytes: &[u8]) -> Result<ArtifactRef> {
    check_artifact_name(name).map_err(Error::usage)?;
    super::report::transaction(s, |ws| {
        ws.order(wo)?;
        let blob = stage(ws.tx(), wo, name, bytes)?;
        let r = ArtifactRef {
            name: name.to_string(),
            size: bytes.len() as u64,
            blob,
            by: s.actor.clone(),
            at: s.now.clone(),
            extra: Default::default(),
        };
        let added = r.clone();
        ws.change(wo, move |w, _| {
            w.artifacts.retain(|a| a.name != added.name);
            w.artifacts.push(added);
            Ok(format!("artifact {name}"))
        })?;
        Ok((
            r,
            Message::new(
                "artifact.add",
                format!("{wo}: artifact {name} ({} bytes)", bytes.len()),
            ),
        ))
    })
}

/// The artifacts of a work order.
pub fn list(s: &Session, wo: WorkOrderId) -> Result<Vec<ArtifactRef>> {
    let (_, dir) = s.locate_work_order(wo)?;
    let w: WorkOrder = super::records::read_work_order(&dir, wo)?;
    Ok(w.artifacts)
}

/// The bytes of artifact `name` of `wo`, from the ledger.
pub fn get(s: &Session, wo: WorkOrderId, name: &str) -> Result<Vec<u8>> {
    check_artifact_name(name).map_err(Error::usage)?;
    s.ledger.read(&ledger_path(wo, name))?.ok_or_else(|| {
        Error::not_found(format!("{wo} has no artifact {name:?}"))
            .with_hint(format!("`orc artifact list {wo}` lists them"))
    })
}
