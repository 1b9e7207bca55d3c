//! Masking secret values in everything shipbook writes or shows.
//!
//! A step's output arrives in chunks of whatever size the pipe hands over, so a secret can be
//! split across two reads. `StreamMasker` holds back just enough bytes (one less than the longest
//! secret) to see any secret whole before it lets text through; nothing else is buffered, so
//! memory stays bounded whatever the volume. Matching is done by Aho-Corasick in one pass.
//!
//! Masking is idempotent: a text is often masked at more than one layer (a problem quoting the
//! end of a masked log, a record quoting a masked plan), and a `[masked:NAME]` already there is
//! left whole, even when a one-character secret occurs inside it.

mod json;

use aho_corasick::{AhoCorasick, MatchKind};

/// A secret: the name of the environment variable and its value, which must never be shown.
#[derive(Debug, Clone)]
pub struct Secret {
    pub name: String,
    pub value: String,
}

/// Replaces secret values with `[masked:NAME]`.
#[derive(Clone)]
pub struct Masker {
    matcher: Option<AhoCorasick>,
    replacements: Vec<Vec<u8>>,
    longest: usize,
}

impl Masker {
    pub fn new(secrets: &[Secret]) -> Masker {
        let secrets: Vec<&Secret> = secrets.iter().filter(|s| !s.value.is_empty()).collect();
        if secrets.is_empty() {
            return Masker {
                matcher: None,
                replacements: Vec::new(),
                longest: 0,
            };
        }
        let tokens: Vec<Vec<u8>> = secrets
            .iter()
            .map(|s| format!("[masked:{}]", s.name).into_bytes())
            .collect();
        // The patterns are every secret value, each replaced by its token, and then every
        // token, replaced by itself: a token starts before any secret inside it, so the
        // leftmost match keeps it whole.
        let patterns: Vec<&[u8]> = secrets
            .iter()
            .map(|s| s.value.as_bytes())
            .chain(tokens.iter().map(Vec::as_slice))
            .collect();
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .expect("secret values are plain literals");
        Masker {
            matcher: Some(matcher),
            longest: patterns.iter().map(|p| p.len()).max().unwrap_or(0),
            replacements: tokens.iter().chain(tokens.iter()).cloned().collect(),
        }
    }

    /// Masks a whole text at once (records, notes, messages).
    pub fn text(&self, text: &str) -> String {
        match &self.matcher {
            None => text.to_string(),
            Some(matcher) => {
                let replacements: Vec<String> = self
                    .replacements
                    .iter()
                    .map(|r| String::from_utf8_lossy(r).into_owned())
                    .collect();
                matcher.replace_all(text, &replacements)
            }
        }
    }

    pub fn stream(&self) -> StreamMasker {
        StreamMasker {
            masker: self.clone(),
            pending: Vec::new(),
        }
    }
}

/// Masks a stream of chunks, secrets split across chunks included.
pub struct StreamMasker {
    masker: Masker,
    pending: Vec<u8>,
}

impl StreamMasker {
    /// Takes the next chunk and appends to `out` what is safe to show now.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let Some(matcher) = &self.masker.matcher else {
            out.extend_from_slice(chunk);
            return;
        };
        self.pending.extend_from_slice(chunk);
        // A secret that starts before `safe_end` fits entirely in `pending`, so every match
        // starting there is complete; bytes from `safe_end` on may be the start of one.
        let keep = self.masker.longest - 1;
        let safe_end = self.pending.len().saturating_sub(keep);
        let mut emitted = 0;
        for found in matcher.find_iter(&self.pending) {
            if found.start() >= safe_end {
                break;
            }
            out.extend_from_slice(&self.pending[emitted..found.start()]);
            out.extend_from_slice(&self.masker.replacements[found.pattern().as_usize()]);
            emitted = found.end();
        }
        let emit_to = emitted.max(safe_end);
        out.extend_from_slice(&self.pending[emitted..emit_to]);
        self.pending.drain(..emit_to);
    }

    /// Appends whatever was held back, masked, at the end of the stream.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        let pending = std::mem::take(&mut self.pending);
        if let Some(matcher) = &self.masker.matcher {
            out.extend_from_slice(&matcher.replace_all_bytes(&pending, &self.masker.replacements));
        } else {
            out.extend_from_slice(&pending);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masker() -> Masker {
        Masker::new(&[
            Secret {
                name: "TOKEN".into(),
                value: "s3cr3t-value".into(),
            },
            Secret {
                name: "EMPTY".into(),
                value: String::new(),
            },
        ])
    }

    #[test]
    fn masks_whole_texts() {
        assert_eq!(
            masker().text("token=s3cr3t-value!"),
            "token=[masked:TOKEN]!"
        );
    }

    #[test]
    fn masks_a_secret_split_at_every_possible_point() {
        let input = b"before s3cr3t-value middle s3cr3t-value after";
        for first in 0..input.len() {
            for second in first..input.len() {
                let mut stream = masker().stream();
                let mut out = Vec::new();
                stream.push(&input[..first], &mut out);
                stream.push(&input[first..second], &mut out);
                stream.push(&input[second..], &mut out);
                stream.finish(&mut out);
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    "before [masked:TOKEN] middle [masked:TOKEN] after"
                );
            }
        }
    }

    #[test]
    fn masking_twice_is_masking_once() {
        let masker = Masker::new(&[
            Secret {
                name: "T".into(),
                value: "k".into(),
            },
            Secret {
                name: "WORD".into(),
                value: "masked".into(),
            },
        ]);
        let once = masker.text("k and masked");
        assert_eq!(once, "[masked:T] and [masked:WORD]");
        assert_eq!(masker.text(&once), once);
        let mut stream = masker.stream();
        let mut out = Vec::new();
        for byte in once.as_bytes() {
            stream.push(std::slice::from_ref(byte), &mut out);
        }
        stream.finish(&mut out);
        assert_eq!(String::from_utf8(out).unwrap(), once);
    }

    #[test]
    fn passes_text_through_without_secrets() {
        let mut stream = Masker::new(&[]).stream();
        let mut out = Vec::new();
        stream.push(b"plain", &mut out);
        stream.finish(&mut out);
        assert_eq!(out, b"plain");
    }
}
