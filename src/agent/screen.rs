//! Reading an agent's screen (a tmux pane captured with its attributes):
//! is its input line there, does it hold text, is a dialog waiting for a
//! person? The watcher uses this to type a nudge only into an empty input
//! line of a ready agent and to confirm that the line left it.
//!
//! What the agents show (checked with Claude Code 2.1.332 and Codex
//! 0.171.0):
//! - Claude Code's input line starts with `❯` and a no-break space; lines
//!   of the transcript start with `❯` and a plain space. Its permission
//!   prompts and dialogs replace the input box ("Do you want to proceed?",
//!   "trust this folder", a "Settings Warning").
//! - Codex's composer starts with `›`; empty, it shows a dimmed
//!   placeholder ("Ask Codex to do anything"). Its approval prompt asks
//!   "Would you like to run the following command?".
//! - Text an agent shows dimmed in its input line is a placeholder, not
//!   typed text (Claude Code's "Press up to edit queued messages").

use super::profile::AgentKind;

/// What is in the agent's input line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// No input line on screen (starting, or a dialog in its place).
    Absent,
    Empty,
    /// Typed text (a person's, or a nudge not yet submitted).
    Holds(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screen {
    pub input: Input,
    /// A dialog or prompt waiting for a person, by what it says.
    pub dialog: Option<&'static str>,
}

impl Screen {
    /// Whether a nudge can be typed now: the input line is there and empty
    /// and nothing waits for a person.
    pub fn can_type(&self) -> bool {
        self.input == Input::Empty && self.dialog.is_none()
    }
}

/// Text that means a dialog waits for a person, per kind.
const CLAUDE_DIALOGS: [(&str, &str); 7] = [
    ("Do you want to proceed?", "permission"),
    ("Do you want to create", "permission"),
    ("Do you want to make this edit", "permission"),
    ("trust this folder", "trust"),
    ("Settings Warning", "settings"),
    ("Settings Error", "settings"),
    ("Auto mode can't check", "permission"),
];
const CODEX_DIALOGS: [(&str, &str); 4] = [
    ("Would you like to run the following command?", "permission"),
    ("Would you like to make the following edits?", "permission"),
    ("Trust this folder?", "trust"),
    ("Hooks need review", "hooks"),
];

/// Reads a screen captured with `capture-pane -p -e` (escape sequences
/// kept, so that dimmed placeholder text can be told from typed text).
pub fn read(kind: AgentKind, captured: &str) -> Screen {
    let lines: Vec<String> = captured.lines().map(undimmed).collect();
    let plain: String = lines.join("\n");
    let (prompt, dialogs): (&str, &[(&str, &str)]) = match kind {
        AgentKind::Claude => ("\u{276f}\u{a0}", &CLAUDE_DIALOGS),
        AgentKind::Codex => ("\u{203a} ", &CODEX_DIALOGS),
        AgentKind::Plain => {
            return Screen {
                input: Input::Empty,
                dialog: None,
            };
        }
    };
    let dialog = dialogs
        .iter()
        .find(|(text, _)| plain.contains(text))
        .map(|(_, what)| *what);
    // The input line is the last one starting with the prompt; text that
    // wraps continues on the next lines (indented), up to the box's rule.
    let input = match lines
        .iter()
        .rposition(|l| l.trim_start().starts_with(prompt))
    {
        None => Input::Absent,
        Some(i) => {
            let first = lines[i].trim_start()[prompt.len()..].trim().to_string();
            let mut text = first;
            for l in &lines[i + 1..] {
                let t = l.trim();
                if t.is_empty() || t.starts_with('\u{2500}') || t.starts_with('\u{2570}') {
                    break;
                }
                if kind == AgentKind::Claude && l.starts_with("  ") {
                    text.push(' ');
                    text.push_str(t);
                } else {
                    break;
                }
            }
            if text.is_empty() {
                Input::Empty
            } else {
                Input::Holds(text)
            }
        }
    };
    Screen { input, dialog }
}

/// One captured line without escape sequences and without the characters
/// drawn dimmed (SGR 2) — placeholders — nor the reverse-video cursor.
fn undimmed(line: &str) -> String {
    let mut out = String::new();
    let mut dim = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            if !dim {
                out.push(c);
            }
            continue;
        }
        match chars.peek() {
            Some('[') => {
                chars.next();
                let mut params = String::new();
                let mut end = ' ';
                for p in chars.by_ref() {
                    if p.is_ascii_alphabetic() || p == '~' {
                        end = p;
                        break;
                    }
                    params.push(p);
                }
                if end == 'm' {
                    let codes: Vec<&str> = if params.is_empty() {
                        vec!["0"]
                    } else {
                        params.split(';').collect()
                    };
                    let mut k = 0;
                    while k < codes.len() {
                        match codes[k] {
                            "0" | "" | "22" => dim = false,
                            "2" => dim = true,
                            // 38;5;n / 38;2;r;g;b and the same for 48: skip
                            // their arguments.
                            "38" | "48" | "58" => {
                                k += if codes.get(k + 1) == Some(&"5") { 2 } else { 4 };
                            }
                            _ => {}
                        }
                        k += 1;
                    }
                }
            }
            Some(']') => {
                // OSC: up to BEL or ST.
                chars.next();
                while let Some(p) = chars.next() {
                    if p == '\u{7}' || (p == '\u{1b}' && chars.peek() == Some(&'\\')) {
                        if p == '\u{1b}' {
                            chars.next();
                        }
                        break;
                    }
                }
            }
            _ => {
                chars.next();
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "\u{2500}\u{2500}\u{2500}\u{2500}";

    #[test]
    fn claude_code_input_line() {
        let empty = format!(
            "\u{276f} hello\n● Hi.\n{RULE}\n\u{276f}\u{a0}\u{1b}[7m \u{1b}[0m\n{RULE}\n  \u{23f5}\u{23f5} accept edits on\n"
        );
        assert_eq!(
            read(AgentKind::Claude, &empty),
            Screen {
                input: Input::Empty,
                dialog: None
            }
        );
        let typed = format!("{RULE}\n\u{276f}\u{a0}orc: WO-002 assigned to you\n{RULE}\n");
        assert_eq!(
            read(AgentKind::Claude, &typed).input,
            Input::Holds("orc: WO-002 assigned to you".into())
        );
        let placeholder = format!(
            "{RULE}\n\u{276f}\u{a0}\u{1b}[2mPress up to edit queued messages\u{1b}[22m\n{RULE}\n"
        );
        assert_eq!(read(AgentKind::Claude, &placeholder).input, Input::Empty);
        let starting =
            " \u{2590}\u{259b}\u{2588}\u{2588}\u{2588}\u{259c}\u{258c}   Claude Code v2.1.332\n";
        assert_eq!(read(AgentKind::Claude, starting).input, Input::Absent);
        let prompt = " Bash command\n echo hi > out.txt\n Do you want to proceed?\n \u{276f} 1. Yes\n   2. No\n";
        let s = read(AgentKind::Claude, prompt);
        assert_eq!(
            (s.input.clone(), s.dialog),
            (Input::Absent, Some("permission"))
        );
        assert!(!s.can_type());
    }

    #[test]
    fn codex_composer() {
        let empty = "\u{2022} MOCK\n\n\u{1b}[1m\u{203a}\u{1b}[0m \u{1b}[2mAsk Codex to do anything\u{1b}[0m\n\n  ? for shortcuts\n";
        assert_eq!(
            read(AgentKind::Codex, empty),
            Screen {
                input: Input::Empty,
                dialog: None
            }
        );
        let typed = "\u{203a} hello there\n";
        assert_eq!(
            read(AgentKind::Codex, typed).input,
            Input::Holds("hello there".into())
        );
        let approval = "Would you like to run the following command?\n$ touch x\n\u{203a} 1. Yes, proceed (y)\n";
        assert_eq!(read(AgentKind::Codex, approval).dialog, Some("permission"));
    }

    #[test]
    fn colour_arguments_are_not_taken_for_dim() {
        assert_eq!(undimmed("\u{1b}[38;5;2mgreen\u{1b}[0m"), "green");
        assert_eq!(undimmed("\u{1b}[38;2;1;2;2mrgb"), "rgb");
        assert_eq!(undimmed("a\u{1b}[2mdim\u{1b}[22mb"), "ab");
    }
}
