//! Mail between the deputy and the IMPs. A message is a file in the
//! recipient's `.orc/inbox/` (the mission workspace for the deputy, the
//! grove for its IMP), committed to the ledger; reading it records
//! `read_at`.

use std::path::PathBuf;

use super::records::{Problem, check_message_file, grove_ledger_path, mission_file_ledger_path};
use super::session::{Context, Session};
use super::tx::{self, Message as Commit};
use crate::error::{Error, Result};
use crate::model::message::check_text;
use crate::model::{self, Counter, GroveId, Message, MessageId, MissionId, WorkOrderId};
use crate::store::OrcDir;
use crate::store::orcdir::{INBOX_DIR, read_record};

/// Who a message goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    Deputy(MissionId),
    Grove(GroveId),
}

impl Recipient {
    /// `deputy`, or a grove id / name, as given to `--to`.
    pub fn parse(s: &Session, text: &str, mission: Option<MissionId>) -> Result<Recipient> {
        if text == "deputy" {
            return Ok(Recipient::Deputy(s.resolve_mission(mission)?));
        }
        s.resolve_grove(text).map(Recipient::Grove)
    }

    fn to_field(self) -> String {
        match self {
            Recipient::Deputy(_) => "deputy".into(),
            Recipient::Grove(g) => g.to_string(),
        }
    }
}

/// The inbox of a recipient: its `.orc/` and ledger subtree.
fn inbox(s: &Session, to: Recipient) -> Result<(OrcDir, String)> {
    match to {
        Recipient::Deputy(m) => Ok((s.mission_dir(m)?, mission_file_ledger_path(m, INBOX_DIR))),
        Recipient::Grove(g) => Ok((s.grove_dir(g)?, grove_ledger_path(g, INBOX_DIR))),
    }
}

pub struct Outgoing {
    pub to: Recipient,
    pub text: String,
    pub work_order: Option<WorkOrderId>,
    pub in_reply_to: Option<MessageId>,
}

pub fn send(s: &Session, out: &Outgoing) -> Result<Message> {
    check_text(&out.text).map_err(|e| Error::usage(format!("the message {e}")))?;
    let mission = match out.to {
        Recipient::Deputy(m) => m,
        Recipient::Grove(g) => s.ledger_grove(g)?.mission,
    };
    let (dir, prefix) = inbox(s, out.to)?;
    tx::run(s, |tx| {
        let number = super::ids::allocate(tx, Counter::Message, |_| false)?;
        let id = MessageId::new(number);
        let rel = format!("{INBOX_DIR}/{}", id.file_name());
        let ledger_path = format!("{prefix}/{}", id.file_name());
        tx.lock(&ledger_path, &dir.lock_path(&rel), &rel)?;
        let message = Message {
            format: model::message::FORMAT,
            id,
            mission,
            from: s.actor.clone(),
            to: out.to.to_field(),
            text: out.text.clone(),
            work_order: out.work_order,
            in_reply_to: out.in_reply_to,
            sent_at: s.now.clone(),
            read_at: None,
            extra: Default::default(),
        };
        tx.stage(dir.path(&rel), ledger_path, model::to_file_bytes(&message))?;
        let subject = format!("{id}: mail from {} to {}", s.actor, message.to);
        let mut commit = Commit::new("mail.send", subject);
        if let Some(wo) = out.work_order {
            commit = commit.line(format!("about {wo}"));
        }
        Ok((message, commit))
    })
}

/// The inbox of the directory the command runs in: the deputy's in a
/// mission workspace, the IMP's in a grove; elsewhere the deputy's of the
/// current mission.
pub fn here(s: &Session, mission: Option<MissionId>) -> Result<Recipient> {
    match &s.context {
        Context::Grove { id, .. } => Ok(Recipient::Grove(*id)),
        _ => Ok(Recipient::Deputy(s.resolve_mission(mission)?)),
    }
}

/// Messages in an inbox, oldest first, with the files that could not be read.
pub fn list(s: &Session, who: Recipient) -> Result<(Vec<Message>, Vec<Problem>)> {
    let (dir, _) = inbox(s, who)?;
    let mut messages = Vec::new();
    let mut problems = Vec::new();
    for name in dir.list(INBOX_DIR)? {
        let path = dir.path(&format!("{INBOX_DIR}/{name}"));
        match read_record(&path, |m: &Message| {
            check_message_file(m, &name, &who.to_field())
        }) {
            Ok(m) => messages.push(m),
            Err(e) => problems.push(Problem {
                file: path.clone(),
                error: e
                    .message
                    .strip_prefix(&format!("{}: ", path.display()))
                    .unwrap_or(&e.message)
                    .to_string(),
            }),
        }
    }
    messages.sort_by_key(|m| m.id);
    Ok((messages, problems))
}

/// Reads a message of the inbox `who` and records that it was read.
pub fn read(s: &Session, who: Recipient, id: MessageId) -> Result<Message> {
    let (dir, prefix) = inbox(s, who)?;
    let rel = format!("{INBOX_DIR}/{}", id.file_name());
    let path: PathBuf = dir.path(&rel);
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(Error::not_found(format!("{id} is not in this inbox"))
            .with_hint("`orc mail inbox` lists the messages"));
    }
    let name = id.file_name();
    let current = read_record(&path, |m: &Message| {
        check_message_file(m, &name, &who.to_field())
    })?;
    if current.is_read() {
        return Ok(current);
    }
    tx::run(s, |tx| {
        let ledger_path = format!("{prefix}/{name}");
        tx.lock(&ledger_path, &dir.lock_path(&rel), &rel)?;
        let mut m = read_record(&path, |m: &Message| m.validate(&name))?;
        if m.read_at.is_none() {
            m.read_at = Some(s.now.clone());
        }
        tx.stage(path.clone(), ledger_path, model::to_file_bytes(&m))?;
        let subject = format!("{id}: read by {}", s.actor);
        Ok((m, Commit::new("mail.read", subject)))
    })
}

/// Unread messages of an inbox.
pub fn unread(s: &Session, who: Recipient) -> Result<Vec<Message>> {
    Ok(list(s, who)?
        .0
        .into_iter()
        .filter(|m| !m.is_read())
        .collect())
}
