//! Turning the bytes of a file an agent may have written into a typed value,
//! or into an error that says where and what is wrong.
//!
//! Checks, in order: empty file, byte-order mark, UTF-8, JSON syntax (with
//! line and column), duplicate keys, nesting depth, then the schema of the
//! target type (with the path of the offending field, such as
//! `notes[0].at`). The caller prefixes the file name.

use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

/// The deepest nesting of arrays and objects orc accepts in its files.
pub const MAX_DEPTH: usize = 32;

/// Parses `bytes` as JSON into `T`, with an error fit for a person.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let text = check_text(bytes)?;
    check_structure(text)?;
    // The fast path; the slow one below only runs to explain a failure.
    if let Ok(value) = serde_json::from_str::<T>(text) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let at = if path == "." || path.is_empty() {
            String::new()
        } else {
            format!("field `{path}`: ")
        };
        format!(
            "line {}, column {}: {at}{}",
            inner.line(),
            inner.column(),
            plain_kinds(&plain_types(&strip_position(&inner.to_string())))
        )
    })?;
    de.end().map_err(|e| syntax_error(&e, text))?;
    Ok(value)
}

/// serde names Rust types in its messages (`expected struct WorkOrder`,
/// `expected u32`); a person editing a JSON file wants JSON's words.
fn plain_types(msg: &str) -> String {
    let Some(i) = msg.find("expected ") else {
        return msg.to_string();
    };
    let (head, expected) = msg.split_at(i + "expected ".len());
    if head.starts_with("invalid length") && expected.starts_with("struct ") {
        // serde reads a struct from an array too, and then counts.
        return "invalid type: array, expected a JSON object".into();
    }
    let plain = if expected.starts_with("struct ") || expected.starts_with("map") {
        "a JSON object"
    } else if let Some(rest) = expected.strip_prefix('u')
        && rest.chars().all(|c| c.is_ascii_digit())
        && !rest.is_empty()
    {
        "a whole number, 0 or more"
    } else if let Some(rest) = expected.strip_prefix('i')
        && rest.chars().all(|c| c.is_ascii_digit())
        && !rest.is_empty()
    {
        "a whole number"
    } else {
        return msg.to_string();
    };
    format!("{head}{plain}")
}

/// serde's names of JSON's kinds of values, in JSON's words.
fn plain_kinds(msg: &str) -> String {
    msg.replace("invalid type: sequence", "invalid type: array")
        .replace("invalid type: map", "invalid type: object")
        .replace("expected a sequence", "expected an array")
}

/// The checks that come before JSON: the bytes must be non-empty UTF-8
/// without a byte-order mark.
pub fn check_text(bytes: &[u8]) -> Result<&str, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("the file is empty (expected a JSON object)".into());
    }
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        return Err(
            "the file starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM".into(),
        );
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = valid.len() - valid.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1) + 1;
        format!(
            "line {line}, column {column}: invalid UTF-8 (byte offset {}); files must be UTF-8",
            e.valid_up_to()
        )
    })
}

/// JSON syntax, duplicate keys and depth, checked in one pass without
/// building a value.
fn check_structure(text: &str) -> Result<(), String> {
    let mut de = serde_json::Deserializer::from_str(text);
    Strict { depth: 0 }
        .deserialize(&mut de)
        .map_err(|e| syntax_error(&e, text))?;
    de.end().map_err(|e| syntax_error(&e, text))
}

fn syntax_error(e: &serde_json::Error, text: &str) -> String {
    let what = strip_position(&e.to_string());
    let hint = if e.is_eof() {
        " (the file looks truncated)"
    } else if ["NaN", "Infinity", "-Infinity", "+Infinity"]
        .iter()
        .any(|w| at_position(text, e.line(), e.column()).starts_with(w))
    {
        " (JSON has no NaN or Infinity: write a number, or null where it is allowed)"
    } else {
        ""
    };
    format!("line {}, column {}: {what}{hint}", e.line(), e.column())
}

/// The text from (1-based) `line`, `column` on; serde_json's column counts
/// bytes, and is that of the character it stopped at, or just past it.
fn at_position(text: &str, line: usize, column: usize) -> &str {
    let Some(l) = text.split('\n').nth(line.saturating_sub(1)) else {
        return "";
    };
    let mut start = column.saturating_sub(1).min(l.len());
    while !l.is_char_boundary(start) {
        start -= 1;
    }
    // Back up to the start of the word the error is in.
    let word = l[..start]
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '-' || c == '+'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    &l[word..]
}

/// serde_json appends " at line L column C" to its messages; we print the
/// position first instead.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// A visitor that accepts any JSON but refuses duplicate keys and nesting
/// deeper than [`MAX_DEPTH`].
struct Strict {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let depth = self.deeper()?;
        while seq.next_element_seed(Strict { depth })?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let depth = self.deeper()?;
        // Keys borrowed from the input where possible; a linear scan beats
        // hashing for the small objects orc reads.
        let mut seen: Vec<Cow<'de, str>> = Vec::new();
        let mut many: Option<HashSet<String>> = None;
        while let Some(key) = map.next_key_seed(Text)? {
            let duplicate = match &mut many {
                Some(set) => !set.insert(key.to_string()),
                None => {
                    let dup = seen.contains(&key);
                    seen.push(key.clone());
                    if seen.len() > 32 {
                        many = Some(seen.drain(..).map(|k| k.into_owned()).collect());
                    }
                    dup
                }
            };
            if duplicate {
                return Err(de::Error::custom(format!(
                    "duplicate key {:?}; each key may appear once per object",
                    super::id::shorten(&key)
                )));
            }
            map.next_value_seed(Strict { depth })?;
        }
        Ok(())
    }
}

/// A string, borrowed from the input unless it has escapes (serde's own
/// `Cow<str>` always allocates): for keys and for the values orc parses
/// from text (ids, timestamps, statuses).
pub(crate) fn text<'de, D: de::Deserializer<'de>>(d: D) -> Result<Cow<'de, str>, D::Error> {
    Text.deserialize(d)
}

struct Text;

impl<'de> DeserializeSeed<'de> for Text {
    type Value = Cow<'de, str>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Text {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

impl Strict {
    fn deeper<E: de::Error>(&self) -> Result<usize, E> {
        if self.depth >= MAX_DEPTH {
            Err(E::custom(format!("nested deeper than {MAX_DEPTH} levels")))
        } else {
            Ok(self.depth + 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct T {
        a: u32,
        b: Vec<Inner>,
    }
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Inner {
        at: String,
    }

    fn err(bytes: &[u8]) -> String {
        decode::<T>(bytes).unwrap_err()
    }

    #[test]
    fn errors_say_where_and_what() {
        assert_eq!(err(b""), "the file is empty (expected a JSON object)");
        assert!(err(b"\xEF\xBB\xBF{}").contains("byte-order mark"));
        assert_eq!(
            err(b"{\n \"a\": \"\xff\"}"),
            "line 2, column 8: invalid UTF-8 (byte offset 9); files must be UTF-8"
        );
        assert_eq!(
            err(b"{\"a\": 1, \"b\": ["),
            "line 1, column 15: EOF while parsing a list (the file looks truncated)"
        );
        assert!(err(b"{\"a\": 1, \"a\": 2, \"b\": []}").contains("duplicate key \"a\""));
        assert!(
            err(b"{\"a\": 1, \"b\": [{\"at\": 5}]}").contains("field `b[0].at`: invalid type"),
            "{}",
            err(b"{\"a\": 1, \"b\": [{\"at\": 5}]}")
        );
        assert_eq!(
            err(b"{\"a\": NaN}"),
            "line 1, column 7: expected value (JSON has no NaN or Infinity: write a number, or null where it is allowed)"
        );
        assert!(err(b"{\"a\": -Infinity}").contains("JSON has no NaN"));
        assert!(!err(b"{\"a\": nope}").contains("NaN"));
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(err(deep.as_bytes()).contains("nested deeper than 32"));
        assert!(err(b"{\"a\": 1, \"b\": []} {}").contains("trailing characters"));
    }

    #[test]
    fn type_errors_use_json_words() {
        assert_eq!(
            err(b"[1]"),
            "line 1, column 3: invalid type: array, expected a JSON object"
        );
        assert_eq!(
            err(b"{\"a\": -1, \"b\": []}"),
            "line 1, column 8: field `a`: invalid value: integer `-1`, expected a whole number, 0 or more"
        );
        assert!(err(b"{\"a\": 1, \"b\": [{\"at\": 5}]}").ends_with("expected a string"));
        assert!(err(b"{\"a\": 1, \"b\": {}}").ends_with("invalid type: object, expected an array"));
    }

    #[test]
    fn an_error_after_wide_characters_is_explained_not_a_panic() {
        // A byte-order mark and other wide characters inside the text,
        // right before the place serde_json stops at.
        for text in [
            "{\"a\": \u{feff}NaN}",
            "{\"a\": é\u{feff}1}",
            "[\u{feff}Infinity]",
            // A broken \u escape runs into the mark (found by fuzzing).
            "{\"a\": \"\\u0\u{feff}01\"}",
        ] {
            let msg = err(text.as_bytes());
            assert!(msg.starts_with("line 1, column "), "{text:?}: {msg}");
        }
        assert!(err("{\"a\": NaN}".as_bytes()).contains("JSON has no NaN"));
        // Columns count bytes: the hint still finds the word after wide text.
        assert!(err("{\"é\u{feff}\": NaN}".as_bytes()).contains("JSON has no NaN"));
    }

    #[test]
    fn crlf_and_unicode_are_fine() {
        let t: T =
            decode("{\r\n\"a\": 1,\r\n\"b\": [{\"at\": \"שלום \\n 🦀\"}]\r\n}".as_bytes()).unwrap();
        assert_eq!(t.b[0].at, "שלום \n 🦀");
    }
}
