//! `orc mail ...`.

use clap::Subcommand;
use serde_json::json;

use super::render::{multi_line, one_line, problems_json, problems_text};
use super::{Out, parse_id, to_json};
use crate::agent::prime::hook_output;
use crate::error::Result;
use crate::model::{Message, MessageId, MissionId, WorkOrderId};
use crate::ops::Session;
use crate::ops::mail::{self, Outgoing, Recipient};

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Send a message to the deputy or to a grove's IMP.
    Send {
        /// `deputy`, or a grove (id or name).
        #[arg(long, value_name = "GROVE|deputy")]
        to: String,
        text: String,
        /// The work order the message is about.
        #[arg(long = "wo", value_name = "WO")]
        work_order: Option<String>,
        /// The message this one answers.
        #[arg(long, value_name = "MSG")]
        reply_to: Option<String>,
        #[arg(long, value_name = "ID")]
        mission: Option<String>,
    },
    /// List the messages of this directory's inbox (unread ones, or --all).
    Inbox {
        #[arg(long)]
        all: bool,
    },
    /// Show a message and mark it read.
    Read { id: String },
    /// Say whether unread mail is waiting (for the UserPromptSubmit hook).
    Check {
        /// Print the JSON Claude Code's hook reads, and nothing when there is no mail.
        #[arg(long)]
        hook: bool,
    },
}

pub fn run(s: &Session, cmd: &MailCommand, out: &Out) -> Result<()> {
    match cmd {
        MailCommand::Send {
            to,
            text,
            work_order,
            reply_to,
            mission,
        } => {
            let mission = mission
                .as_deref()
                .map(|m| parse_id(m, MissionId::parse))
                .transpose()?;
            let m = mail::send(
                s,
                &Outgoing {
                    to: Recipient::parse(s, to, mission)?,
                    text: text.clone(),
                    work_order: work_order
                        .as_deref()
                        .map(|w| parse_id(w, WorkOrderId::parse))
                        .transpose()?,
                    in_reply_to: reply_to
                        .as_deref()
                        .map(|r| parse_id(r, MessageId::parse))
                        .transpose()?,
                },
            )?;
            if out.json {
                out.json(&to_json(&m));
            } else {
                out.line(m.id.to_string());
            }
        }
        MailCommand::Inbox { all } => {
            let who = mail::here(s, None)?;
            let (messages, problems) = mail::list(s, who)?;
            let shown: Vec<&Message> = messages.iter().filter(|m| *all || !m.is_read()).collect();
            if out.json {
                out.json(
                    &json!({ "messages": to_json(&shown), "errors": problems_json(&problems) }),
                );
            } else {
                for m in &shown {
                    out.line(summary_line(m));
                }
                for line in problems_text(&problems) {
                    out.line(line);
                }
            }
        }
        MailCommand::Read { id } => {
            let id = parse_id(id, MessageId::parse)?;
            let m = mail::read(s, mail::here(s, None)?, id)?;
            if out.json {
                out.json(&to_json(&m));
            } else {
                out.line(format!(
                    "{} from {} to {} at {}",
                    m.id,
                    one_line(&m.from),
                    m.to,
                    m.sent_at
                ));
                if let Some(wo) = m.work_order {
                    out.line(format!("about {wo}"));
                }
                if let Some(r) = m.in_reply_to {
                    out.line(format!("in reply to {r}"));
                }
                out.line("");
                out.line(multi_line(&m.text));
            }
        }
        MailCommand::Check { hook } => {
            let unread = match mail::here(s, None).and_then(|who| mail::unread(s, who)) {
                Ok(u) => u,
                // A hook must not break the agent's prompt: no mail then.
                Err(_) if *hook => Vec::new(),
                Err(e) => return Err(e),
            };
            let text = unread_text(&unread);
            if *hook {
                if !text.is_empty() {
                    out.json(&hook_output("UserPromptSubmit", &text));
                }
            } else if out.json {
                out.json(&json!({ "unread": to_json(&unread) }));
            } else if text.is_empty() {
                out.line("no unread mail");
            } else {
                out.raw(&text);
            }
        }
    }
    Ok(())
}

/// What an agent is told of its unread mail (empty: none).
fn unread_text(unread: &[Message]) -> String {
    if unread.is_empty() {
        return String::new();
    }
    let mut t = format!("orc: {} unread message(s):\n", unread.len());
    for m in unread.iter().take(5) {
        t.push_str(&summary_line(m));
        t.push('\n');
    }
    t.push_str("Read one with `orc mail read MSG-...`.\n");
    t
}

/// The UserPromptSubmit hook's output for the unread mail of the current
/// directory, if there is any (errors: none, a hook must not break the
/// agent's prompt).
pub fn check_hook_output(s: &Session) -> Option<serde_json::Value> {
    let unread = mail::here(s, None)
        .and_then(|who| mail::unread(s, who))
        .ok()?;
    let text = unread_text(&unread);
    (!text.is_empty()).then(|| to_json(&hook_output("UserPromptSubmit", &text)))
}

fn summary_line(m: &Message) -> String {
    let about = m
        .work_order
        .map(|w| format!(" about {w}"))
        .unwrap_or_default();
    let first = m.text.lines().next().unwrap_or("");
    let read = if m.is_read() { "" } else { " (unread)" };
    format!(
        "{}  from {}{about}{read}: {}",
        m.id,
        one_line(&m.from),
        one_line(first)
    )
}
