//! Tokenizer for QLDB PartiQL.
//!
//! Works on bytes and produces a flat vector of tokens that refer back into the source text by
//! byte offsets; nothing is allocated per token. Keywords are recognised case-insensitively and
//! classified once here, so the parser compares small enum values instead of strings.
//!
//! Only words the grammar *reserves* get a [`Kw`]: a reserved word cannot be used as a bare
//! identifier or alias (quote it: `"order"`). Words that are keywords only in one position
//! (`TABLE`, `INDEX`, `ASC`, `LEADING`, …) stay [`Kw::Ident`] and the parser checks their text
//! where it expects them.

/// Reserved words (plus [`Kw::Ident`] for any other unquoted word).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kw {
    /// Not a reserved word: an identifier, or a keyword that only matters in one position.
    Ident,
    And,
    As,
    At,
    Between,
    By,
    Case,
    Cross,
    Distinct,
    Escape,
    Except,
    False,
    From,
    Full,
    Group,
    Having,
    In,
    Inner,
    Insert,
    Intersect,
    Is,
    Join,
    Left,
    Let,
    Like,
    Limit,
    Match,
    Missing,
    Natural,
    Not,
    Null,
    Offset,
    On,
    Or,
    Order,
    Outer,
    Pivot,
    Remove,
    Right,
    Select,
    Set,
    True,
    Union,
    Unpivot,
    Value,
    Values,
    Where,
}

impl Kw {
    /// Classifies an unquoted word (ASCII letters, digits, `_`, `$`).
    fn classify(word: &[u8]) -> Kw {
        // The longest reserved word has 9 letters.
        if word.len() < 2 || word.len() > 9 {
            return Kw::Ident;
        }
        let mut buf = [0u8; 9];
        for (dst, src) in buf.iter_mut().zip(word) {
            *dst = src.to_ascii_lowercase();
        }
        match &buf[..word.len()] {
            b"and" => Kw::And,
            b"as" => Kw::As,
            b"at" => Kw::At,
            b"between" => Kw::Between,
            b"by" => Kw::By,
            b"case" => Kw::Case,
            b"cross" => Kw::Cross,
            b"distinct" => Kw::Distinct,
            b"escape" => Kw::Escape,
            b"except" => Kw::Except,
            b"false" => Kw::False,
            b"from" => Kw::From,
            b"full" => Kw::Full,
            b"group" => Kw::Group,
            b"having" => Kw::Having,
            b"in" => Kw::In,
            b"inner" => Kw::Inner,
            b"insert" => Kw::Insert,
            b"intersect" => Kw::Intersect,
            b"is" => Kw::Is,
            b"join" => Kw::Join,
            b"left" => Kw::Left,
            b"let" => Kw::Let,
            b"like" => Kw::Like,
            b"limit" => Kw::Limit,
            b"match" => Kw::Match,
            b"missing" => Kw::Missing,
            b"natural" => Kw::Natural,
            b"not" => Kw::Not,
            b"null" => Kw::Null,
            b"offset" => Kw::Offset,
            b"on" => Kw::On,
            b"or" => Kw::Or,
            b"order" => Kw::Order,
            b"outer" => Kw::Outer,
            b"pivot" => Kw::Pivot,
            b"remove" => Kw::Remove,
            b"right" => Kw::Right,
            b"select" => Kw::Select,
            b"set" => Kw::Set,
            b"true" => Kw::True,
            b"union" => Kw::Union,
            b"unpivot" => Kw::Unpivot,
            b"value" => Kw::Value,
            b"values" => Kw::Values,
            b"where" => Kw::Where,
            _ => Kw::Ident,
        }
    }

    /// The message for a reserved word that names a feature QLDB does not support.
    pub(crate) fn unsupported_feature(self) -> Option<&'static str> {
        Some(match self {
            Kw::Group => "GROUP BY is not supported",
            Kw::Having => "HAVING is not supported",
            Kw::Limit => "LIMIT is not supported",
            Kw::Offset => "OFFSET is not supported",
            Kw::Distinct => "DISTINCT is not supported",
            Kw::Left => "LEFT JOIN is not supported (only inner joins are)",
            Kw::Right => "RIGHT JOIN is not supported (only inner joins are)",
            Kw::Full => "FULL JOIN is not supported (only inner joins are)",
            Kw::Outer => "OUTER JOIN is not supported (only inner joins are)",
            Kw::Natural => "NATURAL JOIN is not supported (only inner joins are)",
            Kw::Union => "UNION is not supported",
            Kw::Intersect => "INTERSECT is not supported",
            Kw::Except => "EXCEPT is not supported",
            Kw::Pivot => "PIVOT is not supported",
            Kw::Unpivot => "UNPIVOT is not supported",
            Kw::Match => "MATCH is not supported",
            Kw::Case => "CASE is not supported",
            Kw::Let => "LET is not supported",
            Kw::Values => {
                "VALUES is not supported (use INSERT INTO t VALUE {…} or INSERT INTO t << … >>)"
            }
            _ => return None,
        })
    }
}

/// Token kinds. Text and literal values are read from the source span by the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    /// An unquoted word; `Kw::Ident` unless it is a reserved word.
    Word(Kw),
    /// `"name"`; `escaped` when the text contains `""`.
    QuotedIdent {
        escaped: bool,
    },
    /// `'text'`; `escaped` when the text contains `''`.
    Str {
        escaped: bool,
    },
    /// `` `ion` `` (span includes the backticks)
    Ion,
    /// `123`
    Int,
    /// `1.5`, `1.`, `.5`
    Decimal,
    /// `1e3`, `1.5e-2`
    Float,
    /// `?`, numbered from 0 in text order
    Param(usize),
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Concat,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    LBag,
    RBag,
    Comma,
    Dot,
    Colon,
    Semicolon,
    At,
    Eof,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub tok: Tok,
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LexError {
    pub message: String,
    pub offset: usize,
}

/// The result of tokenizing: the tokens (always ending with one `Eof`) and the number of `?`.
pub(crate) struct Tokens {
    pub tokens: Vec<Token>,
    pub param_count: usize,
}

#[inline]
fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'$'
}

#[inline]
fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// Tokenizes `src`.
pub(crate) fn tokenize(src: &str) -> Result<Tokens, LexError> {
    let b = src.as_bytes();
    let len = b.len();
    let mut tokens: Vec<Token> = Vec::with_capacity(len / 4 + 2);
    let mut params = 0usize;
    let mut i = 0usize;

    while i < len {
        let c = b[i];
        let start = i;
        let next = if i + 1 < len { b[i + 1] } else { 0 };
        let tok = match c {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0c => {
                i += 1;
                continue;
            }
            b'-' if next == b'-' => {
                i = match b[i..].iter().position(|&x| x == b'\n') {
                    Some(p) => i + p + 1,
                    None => len,
                };
                continue;
            }
            b'/' if next == b'*' => {
                match find2(b, i + 2, b'*', b'/') {
                    Some(p) => i = p + 2,
                    None => return Err(err(start, "unterminated comment: missing */")),
                }
                continue;
            }
            _ if is_ident_start(c) => {
                i += 1;
                while i < len && is_ident_char(b[i]) {
                    i += 1;
                }
                Tok::Word(Kw::classify(&b[start..i]))
            }
            b'"' => {
                let (end, escaped) = scan_quoted(b, i, b'"')
                    .ok_or_else(|| err(start, "unterminated quoted identifier: missing \""))?;
                if end == start + 2 {
                    return Err(err(start, "empty quoted identifier"));
                }
                i = end;
                Tok::QuotedIdent { escaped }
            }
            b'\'' => {
                let (end, escaped) = scan_quoted(b, i, b'\'')
                    .ok_or_else(|| err(start, "unterminated string literal: missing '"))?;
                i = end;
                Tok::Str { escaped }
            }
            b'`' => match b[i + 1..].iter().position(|&x| x == b'`') {
                Some(p) => {
                    i = i + 1 + p + 1;
                    Tok::Ion
                }
                None => return Err(err(start, "unterminated Ion literal: missing `")),
            },
            b'0'..=b'9' => {
                let (end, tok) = scan_number(b, i);
                i = end;
                tok
            }
            b'.' if next.is_ascii_digit() && !ends_operand(tokens.last()) => {
                let (end, tok) = scan_number(b, i);
                i = end;
                tok
            }
            b'?' => {
                i += 1;
                params += 1;
                Tok::Param(params - 1)
            }
            b'<' => match next {
                b'<' => {
                    i += 2;
                    Tok::LBag
                }
                b'=' => {
                    i += 2;
                    Tok::Le
                }
                b'>' => {
                    i += 2;
                    Tok::Ne
                }
                _ => {
                    i += 1;
                    Tok::Lt
                }
            },
            b'>' => match next {
                b'>' => {
                    i += 2;
                    Tok::RBag
                }
                b'=' => {
                    i += 2;
                    Tok::Ge
                }
                _ => {
                    i += 1;
                    Tok::Gt
                }
            },
            b'!' if next == b'=' => {
                i += 2;
                Tok::Ne
            }
            b'|' if next == b'|' => {
                i += 2;
                Tok::Concat
            }
            _ => {
                i += 1;
                match c {
                    b'=' => Tok::Eq,
                    b'+' => Tok::Plus,
                    b'-' => Tok::Minus,
                    b'*' => Tok::Star,
                    b'/' => Tok::Slash,
                    b'%' => Tok::Percent,
                    b'(' => Tok::LParen,
                    b')' => Tok::RParen,
                    b'[' => Tok::LBracket,
                    b']' => Tok::RBracket,
                    b'{' => Tok::LBrace,
                    b'}' => Tok::RBrace,
                    b',' => Tok::Comma,
                    b'.' => Tok::Dot,
                    b':' => Tok::Colon,
                    b';' => Tok::Semicolon,
                    b'@' => Tok::At,
                    _ => {
                        let ch = src[start..].chars().next().unwrap_or('\u{fffd}');
                        let hint = match c {
                            b'|' => " (use || for concatenation)",
                            b'!' => " (use <> or != for inequality)",
                            _ => "",
                        };
                        return Err(LexError {
                            message: format!("unexpected character '{}'{hint}", ch.escape_debug()),
                            offset: start,
                        });
                    }
                }
            }
        };
        tokens.push(Token { tok, start, end: i });
    }
    tokens.push(Token {
        tok: Tok::Eof,
        start: len,
        end: len,
    });
    Ok(Tokens {
        tokens,
        param_count: params,
    })
}

fn err(offset: usize, message: &str) -> LexError {
    LexError {
        message: message.to_owned(),
        offset,
    }
}

/// Whether the previous token ends an operand, so that a following `.5` is a path step `.`
/// and not a number (`a.5` is never a decimal).
fn ends_operand(prev: Option<&Token>) -> bool {
    matches!(
        prev.map(|t| t.tok),
        Some(
            Tok::Word(Kw::Ident)
                | Tok::QuotedIdent { .. }
                | Tok::RParen
                | Tok::RBracket
                | Tok::RBrace
                | Tok::RBag
        )
    )
}

/// Finds the first position `p >= from` with `b[p] == x && b[p + 1] == y`.
fn find2(b: &[u8], from: usize, x: u8, y: u8) -> Option<usize> {
    let mut p = from;
    while p + 1 < b.len() {
        if b[p] == x && b[p + 1] == y {
            return Some(p);
        }
        p += 1;
    }
    None
}

/// Scans a quoted token starting at `b[start] == q`, where a doubled quote stands for one.
/// Returns the offset after the closing quote and whether a doubled quote occurred.
fn scan_quoted(b: &[u8], start: usize, q: u8) -> Option<(usize, bool)> {
    let mut escaped = false;
    let mut p = start + 1;
    loop {
        let off = b[p..].iter().position(|&x| x == q)?;
        p += off;
        if p + 1 < b.len() && b[p + 1] == q {
            escaped = true;
            p += 2;
        } else {
            return Some((p + 1, escaped));
        }
    }
}

/// Scans a number at `b[start]` (a digit, or `.` followed by a digit). The exponent is taken
/// only when well formed, so `1else` is `1` followed by the word `else`.
fn scan_number(b: &[u8], start: usize) -> (usize, Tok) {
    let len = b.len();
    let mut i = start;
    let mut tok = Tok::Int;
    while i < len && b[i].is_ascii_digit() {
        i += 1;
    }
    if i < len && b[i] == b'.' {
        tok = Tok::Decimal;
        i += 1;
        while i < len && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if i < len && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < len && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < len && b[j].is_ascii_digit() {
            while j < len && b[j].is_ascii_digit() {
                j += 1;
            }
            i = j;
            tok = Tok::Float;
        }
    }
    (i, tok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        tokenize(src)
            .unwrap()
            .tokens
            .iter()
            .map(|t| t.tok)
            .collect()
    }

    fn texts(src: &str) -> Vec<&str> {
        tokenize(src)
            .unwrap()
            .tokens
            .iter()
            .map(|t| &src[t.start..t.end])
            .collect()
    }

    #[test]
    fn keywords_are_case_insensitive() {
        assert_eq!(
            kinds("select SeLeCt FROM from x"),
            vec![
                Tok::Word(Kw::Select),
                Tok::Word(Kw::Select),
                Tok::Word(Kw::From),
                Tok::Word(Kw::From),
                Tok::Word(Kw::Ident),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn context_words_are_identifiers() {
        for w in [
            "table",
            "INDEX",
            "asc",
            "name",
            "status",
            "count",
            "intersects",
            "a",
        ] {
            assert_eq!(kinds(w)[0], Tok::Word(Kw::Ident), "{w}");
        }
    }

    #[test]
    fn string_followed_by_keyword() {
        let src = "status = 'ACTIVE'AND name = ?";
        assert_eq!(
            kinds(src),
            vec![
                Tok::Word(Kw::Ident),
                Tok::Eq,
                Tok::Str { escaped: false },
                Tok::Word(Kw::And),
                Tok::Word(Kw::Ident),
                Tok::Eq,
                Tok::Param(0),
                Tok::Eof
            ]
        );
        assert_eq!(texts(src)[2], "'ACTIVE'");
    }

    #[test]
    fn quoted_tokens_with_escapes() {
        let src = r#"'it''s' "a""b" 'plain' `{a:"x"}`"#;
        assert_eq!(
            kinds(src),
            vec![
                Tok::Str { escaped: true },
                Tok::QuotedIdent { escaped: true },
                Tok::Str { escaped: false },
                Tok::Ion,
                Tok::Eof
            ]
        );
        assert_eq!(texts(src)[3], "`{a:\"x\"}`");
    }

    #[test]
    fn params_numbered_in_order_and_not_inside_quotes() {
        let t = tokenize("? '?' \"?\" `'?'` ? -- ?\n /* ? */ ?").unwrap();
        assert_eq!(t.param_count, 3);
        let ps: Vec<_> = t
            .tokens
            .iter()
            .filter_map(|t| match t.tok {
                Tok::Param(i) => Some(i),
                _ => None,
            })
            .collect();
        assert_eq!(ps, vec![0, 1, 2]);
    }

    #[test]
    fn numbers() {
        assert_eq!(
            kinds("1 1.5 1. .5 1e3 1.5E-2 2e+1"),
            vec![
                Tok::Int,
                Tok::Decimal,
                Tok::Decimal,
                Tok::Decimal,
                Tok::Float,
                Tok::Float,
                Tok::Float,
                Tok::Eof
            ]
        );
        // A malformed exponent is not part of the number.
        assert_eq!(texts("1else"), vec!["1", "else", ""]);
        assert_eq!(texts("1e+x"), vec!["1", "e", "+", "x", ""]);
        // `.5` after an operand is a path step, not a decimal.
        assert_eq!(
            kinds("a.5"),
            vec![Tok::Word(Kw::Ident), Tok::Dot, Tok::Int, Tok::Eof]
        );
    }

    #[test]
    fn operators() {
        assert_eq!(
            kinds("= <> != < <= > >= || + - * / % << >> ( ) [ ] { } , . : ; @"),
            vec![
                Tok::Eq,
                Tok::Ne,
                Tok::Ne,
                Tok::Lt,
                Tok::Le,
                Tok::Gt,
                Tok::Ge,
                Tok::Concat,
                Tok::Plus,
                Tok::Minus,
                Tok::Star,
                Tok::Slash,
                Tok::Percent,
                Tok::LBag,
                Tok::RBag,
                Tok::LParen,
                Tok::RParen,
                Tok::LBracket,
                Tok::RBracket,
                Tok::LBrace,
                Tok::RBrace,
                Tok::Comma,
                Tok::Dot,
                Tok::Colon,
                Tok::Semicolon,
                Tok::At,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn comments() {
        assert_eq!(
            kinds("a -- c\n/* x\n y */ b -- end"),
            vec![Tok::Word(Kw::Ident), Tok::Word(Kw::Ident), Tok::Eof]
        );
        assert_eq!(kinds("a - b")[1], Tok::Minus);
    }

    #[test]
    fn errors() {
        for (src, msg, off) in [
            ("'abc", "unterminated string", 0),
            ("x \"abc", "unterminated quoted identifier", 2),
            ("`abc", "unterminated Ion literal", 0),
            ("/* abc", "unterminated comment", 0),
            ("a # b", "unexpected character '#'", 2),
            ("a | b", "use ||", 2),
            ("a ! b", "use <>", 2),
            ("\"\"", "empty quoted identifier", 0),
            ("é", "unexpected character 'é'", 0),
        ] {
            let e = tokenize(src).err().unwrap_or_else(|| panic!("{src} lexed"));
            assert!(e.message.contains(msg), "{src}: {}", e.message);
            assert_eq!(e.offset, off, "{src}");
        }
    }

    #[test]
    fn eof_only() {
        assert_eq!(kinds("  -- nothing"), vec![Tok::Eof]);
        assert_eq!(kinds(""), vec![Tok::Eof]);
    }
}
