//! `Python/traceback.c`'s `tb_displayline` (3.10 to 3.12) and 3.13's
//! `Lib/traceback.py` (`StackSummary.format_frame_summary`, which 3.13's `PyErr_Display`
//! calls): what a traceback prints under each `File "...", line N, in NAME`: the source
//! line, stripped of its indentation and indented 4, and from 3.11 on a line of carets under
//! the columns of the instruction that raised (`co_positions`), `~` for the operands of a
//! binary operator or a subscript (and on 3.13 a call's callable) and `^` for the rest.

use rustpython_parser::ast::{self, Expr, Ranged, Stmt};

use crate::error::RunError;

/// `_TRACEBACK_SOURCE_LINE_INDENT`.
const INDENT: &str = "    ";

/// The lines printed under a frame's `File` line: the source line `line` of `source` (none
/// if the file has no such line), then the carets of the instruction at `positions`
/// (`co_positions`: line, end line, columns in UTF-8 bytes) as `minor`'s version prints them.
/// A span 3.13 would print over several lines is not modelled.
pub(crate) fn frame_lines(
    minor: u8,
    source: &str,
    line: u32,
    positions: [Option<u32>; 4],
) -> Result<Vec<String>, RunError> {
    let Some(text) = source.lines().nth(line as usize - 1) else {
        return Ok(Vec::new());
    };
    let stripped = text.trim_start_matches(is_whitespace);
    if minor >= 13 && stripped.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut out = vec![format!("{INDENT}{stripped}")];
    let [Some(start_line), Some(end_line), Some(col), Some(end_col)] = positions else {
        return Ok(out);
    };
    if minor < 11 || start_line != line {
        return Ok(out);
    }
    let start = char_offset(text, col);
    let carets = if minor >= 13 {
        if end_line != start_line {
            return Err(RunError::NotModelled {
                construct: "3.13's traceback of an instruction over several lines".into(),
                filename: String::new(),
                line,
            });
        }
        carets_3_13(text, start, char_offset(text, end_col))
    } else {
        carets_3_11(
            text,
            start_line,
            end_line,
            start,
            char_offset(text, end_col),
        )
    };
    out.extend(carets);
    Ok(out)
}

/// `IS_WHITESPACE`: what `display_source_line_with_margin` strips as indentation.
fn is_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\x0c')
}

/// `_PyPegen_byte_offset_to_character_offset`: the parser's columns are UTF-8 bytes.
fn char_offset(text: &str, byte: u32) -> usize {
    let byte = (byte as usize).min(text.len());
    text.char_indices().take_while(|&(i, _)| i < byte).count()
}

/// Where the `~`s end and the `^`s start and end (character offsets in the line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Anchors {
    left_end: usize,
    right_start: usize,
}

/// The one expression statement `segment` parses to, if it does.
fn parse_expression(segment: &str) -> Option<Expr> {
    let body = <ast::Suite as rustpython_parser::Parse>::parse(segment, "<segment>").ok()?;
    match <[Stmt; 1]>::try_from(body).ok()? {
        [Stmt::Expr(e)] => Some(*e.value),
        _ => None,
    }
}

/// The byte offset `at` of a node in `segment`, as a character offset.
fn at(segment: &str, offset: ast::text_size::TextSize) -> usize {
    char_offset(segment, offset.to_u32())
}

/// 3.11's and 3.12's `tb_displayline` after the source line: carets from `start` to `end`
/// (to the line's last non-blank character when the span goes on to other lines), the
/// anchors of a binary operator or a subscript found by parsing the span alone
/// (`extract_anchors_from_line`); none when `^`s alone would cover the whole stripped line.
fn carets_3_11(
    text: &str,
    start_line: u32,
    end_line: u32,
    start: usize,
    end: usize,
) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut end = end.min(chars.len());
    let anchors = if start_line == end_line {
        let segment: String = chars[start.min(end)..end].iter().collect();
        extract_anchors_3_11(&segment).map(|a| Anchors {
            left_end: a.left_end + start,
            right_start: a.right_start + start,
        })
    } else {
        end = chars.iter().rposition(|&c| !is_whitespace(c))? + 1;
        None
    };
    let truncation = chars.iter().take_while(|&&c| is_whitespace(c)).count();
    if end - start == chars.len() - truncation && anchors.is_none() {
        return None;
    }
    // print_error_location_carets: one mark per column from the indentation on.
    let marks = (truncation..end).map(|p| match anchors {
        _ if p < start => ' ',
        Some(a) if a.left_end <= p && p < a.right_start => '^',
        Some(_) => '~',
        None => '^',
    });
    Some(INDENT.chars().chain(marks).collect())
}

/// 3.11's `extract_anchors_from_expr`: a binary operator's first non-blank character after
/// its left operand, skipping closing parentheses (two characters if the next is not
/// blank); a subscript's brackets, from the end of its value to one past its slice.
fn extract_anchors_3_11(segment: &str) -> Option<Anchors> {
    let bytes = segment.as_bytes();
    match parse_expression(segment)? {
        Expr::BinOp(b) => {
            let (from, to) = (b.left.end().to_usize(), b.right.start().to_usize());
            let mut anchors = None;
            for i in from..to {
                if is_whitespace(bytes[i] as char) {
                    continue;
                }
                let mut right = i + 1;
                if i + 1 < to && !is_whitespace(bytes[i + 1] as char) {
                    right += 1;
                }
                anchors = Some(Anchors {
                    left_end: char_offset(segment, i as u32),
                    right_start: char_offset(segment, right as u32),
                });
                if i + 1 < to && bytes[i] == b')' {
                    continue;
                }
                break;
            }
            anchors
        }
        Expr::Subscript(s) => Some(Anchors {
            left_end: at(segment, s.value.end()),
            right_start: at(segment, s.slice.end()) + 1,
        }),
        _ => None,
    }
}

/// 3.13's `format_frame_summary` for a span on one line: the line dedented, then carets
/// unless `_should_show_carets` says they would add nothing.
fn carets_3_13(text: &str, start: usize, end: usize) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let end = end.min(chars.len());
    let segment: String = chars[start.min(end)..end].iter().collect();
    let anchors = extract_anchors_3_13(&segment);
    // Offsets in the dedented line.
    let dedent = chars.iter().take_while(|c| c.is_whitespace()).count();
    let dedented: String = chars[dedent..].iter().collect();
    let (start, end) = (start.saturating_sub(dedent), end.saturating_sub(dedent));
    if !should_show_carets(&dedented, start, end, anchors.is_some()) {
        return None;
    }
    let anchors = anchors.map(|a| Anchors {
        left_end: a.left_end + start,
        right_start: a.right_start + start,
    });
    let marks = (0..end).map(|col| match anchors {
        _ if col < start => ' ',
        Some(a) if a.left_end <= col && col < a.right_start => '^',
        Some(_) => '~',
        None => '^',
    });
    Some(INDENT.chars().chain(marks).collect())
}

/// 3.13's `_extract_caret_anchors_from_line_segment` for one line: a binary operator (its
/// first character after the left operand that is neither blank nor `)`, and the next if it
/// is not blank and comes before the right operand), a subscript's `[` to its end, a call's
/// `(` to its end.
fn extract_anchors_3_13(segment: &str) -> Option<Anchors> {
    let chars: Vec<char> = segment.chars().collect();
    let until = |mut col: usize, stop: &dyn Fn(char) -> bool| {
        while col < chars.len() && !stop(chars[col]) {
            col += 1;
        }
        col
    };
    let anchors = match parse_expression(segment)? {
        Expr::BinOp(b) => {
            let col = until(at(segment, b.left.end()), &|c| {
                !c.is_whitespace() && c != ')'
            });
            let mut right = col + 1;
            if right < chars.len()
                && right < at(segment, b.right.start())
                && !chars[right].is_whitespace()
                && !matches!(chars[right], '\\' | '#')
            {
                right += 1;
            }
            Anchors {
                left_end: col,
                right_start: right,
            }
        }
        Expr::Subscript(s) => Anchors {
            left_end: until(at(segment, s.value.end()), &|c| c == '['),
            right_start: chars.len(),
        },
        Expr::Call(c) => Anchors {
            left_end: until(at(segment, c.func.end()), &|c| c == '('),
            right_start: chars.len(),
        },
        _ => return None,
    };
    Some(anchors)
}

/// 3.13's `_should_show_carets`: not under a call that is the whole value of a `return` or
/// of an assignment to one name and spans the whole line; always with anchors; otherwise
/// only if the span leaves something of the line uncovered.
fn should_show_carets(line: &str, start: usize, end: usize, anchored: bool) -> bool {
    if let Ok(body) = <ast::Suite as rustpython_parser::Parse>::parse(line, "<line>") {
        let value = match body.first() {
            Some(Stmt::Return(r)) => r
                .value
                .as_deref()
                .filter(|v| matches!(v, Expr::Call(c) if matches!(*c.func, Expr::Name(_)))),
            Some(Stmt::Assign(a)) if matches!(a.targets.as_slice(), [Expr::Name(_)]) => {
                Some(&*a.value).filter(|v| matches!(v, Expr::Call(_)))
            }
            _ => None,
        };
        if value.is_some_and(|v| at(line, v.start()) == start && at(line, v.end()) == end) {
            return false;
        }
    }
    let chars: Vec<char> = line.chars().collect();
    let before = chars[..start.min(chars.len())]
        .iter()
        .any(|c| !c.is_whitespace());
    let after = chars[end.min(chars.len())..]
        .iter()
        .any(|c| !c.is_whitespace());
    anchored || before || after
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binary_operator_in_parentheses_is_anchored_on_the_operator() {
        assert_eq!(
            extract_anchors_3_11("(n + 1) // (n - n)"),
            Some(Anchors {
                left_end: 8,
                right_start: 10
            })
        );
        assert_eq!(
            extract_anchors_3_13("(n + 1) // (n - n)"),
            Some(Anchors {
                left_end: 8,
                right_start: 10
            })
        );
    }

    #[test]
    fn a_call_is_anchored_only_on_3_13() {
        assert_eq!(extract_anchors_3_11("f(x)"), None);
        assert_eq!(
            extract_anchors_3_13("f(x)"),
            Some(Anchors {
                left_end: 1,
                right_start: 4
            })
        );
    }

    #[test]
    fn carets_cover_the_span_unless_it_is_the_whole_line() {
        // 3.11: `f(x)` alone on its line has no carets; inside a return it has.
        assert_eq!(carets_3_11("    f(x)", 1, 1, 4, 8), None);
        assert_eq!(
            carets_3_11("    return f(x) + 1", 1, 1, 11, 15).as_deref(),
            Some("           ^^^^")
        );
        // 3.13: the call alone on its line is anchored; `return f(x)` is not marked.
        assert_eq!(carets_3_13("    f(x)", 4, 8).as_deref(), Some("    ~^^^"));
        assert_eq!(carets_3_13("    return f(x)", 11, 15), None);
    }
}
