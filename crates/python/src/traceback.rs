//! `Python/traceback.c`'s `tb_displayline` (3.10 to 3.12) and 3.13's
//! `Lib/traceback.py` (`StackSummary.format_frame_summary`, which 3.13's `PyErr_Display`
//! calls): what a traceback prints under each `File "...", line N, in NAME`: the source
//! line, stripped of its indentation and indented 4, and from 3.11 on a line of carets under
//! the columns of the instruction that raised (`co_positions`), `~` for the operands of a
//! binary operator or a subscript (and on 3.13 a call's callable) and `^` for the rest.

use rustpython_parser::ast::{self, Expr, Ranged, Stmt};

/// `_TRACEBACK_SOURCE_LINE_INDENT`.
const INDENT: &str = "    ";

/// The lines printed under a frame's `File` line: the source line `line` of `source` (none
/// if the file has no such line), then the carets of the instruction at `positions`
/// (`co_positions`: line, end line, columns in UTF-8 bytes) as `minor`'s version prints them.
pub(crate) fn frame_lines(
    minor: u8,
    source: &str,
    line: u32,
    positions: [Option<u32>; 4],
) -> Vec<String> {
    if minor >= 13 {
        return format_frame_summary(source, line, positions);
    }
    let Some(text) = source_line(source, line) else {
        return Vec::new();
    };
    let stripped = text.trim_start_matches(is_whitespace);
    let mut out = vec![format!("{INDENT}{stripped}")];
    let [Some(start_line), Some(end_line), Some(col), Some(end_col)] = positions else {
        return out;
    };
    if minor >= 11 && start_line == line {
        let (start, end) = (char_offset(text, col), char_offset(text, end_col));
        out.extend(carets_3_11(text, start_line, end_line, start, end));
    }
    out
}

/// Line `line` of `source` (`linecache.getline`: none for line 0 or past the end).
fn source_line(source: &str, line: u32) -> Option<&str> {
    source.lines().nth((line as usize).checked_sub(1)?)
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
    if end.saturating_sub(start) == chars.len() - truncation && anchors.is_none() {
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

/// `textwrap.dedent`: lines of blanks emptied, then the leading blanks all other lines share
/// taken off.
fn dedent(text: &str) -> String {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| {
            if l.chars().all(|c| c == ' ' || c == '\t') {
                ""
            } else {
                l
            }
        })
        .collect();
    let mut margin: Option<&str> = None;
    for l in lines.iter().filter(|l| !l.is_empty()) {
        let indent = &l[..l.len() - l.trim_start_matches([' ', '\t']).len()];
        margin = Some(match margin {
            None => indent,
            Some(m) => {
                let common = m.bytes().zip(indent.bytes()).take_while(|(a, b)| a == b);
                &m[..common.count()]
            }
        });
    }
    let margin = margin.unwrap_or("");
    let dedented: Vec<&str> = lines
        .iter()
        .map(|l| l.strip_prefix(margin).unwrap_or(l))
        .collect();
    dedented.join("\n")
}

/// 3.13's `StackSummary.format_frame_summary` under the `File` line: the lines from the
/// instruction's first to its last, dedented (the first and last, those around the anchors,
/// and `...<N lines>...` for the rest), each followed by its carets unless
/// `_should_show_carets` finds they would add nothing; the first line alone, stripped,
/// without columns.
fn format_frame_summary(source: &str, line: u32, positions: [Option<u32>; 4]) -> Vec<String> {
    let end_line = positions[1].unwrap_or(line).max(line);
    let original: Vec<&str> = (line..=end_line)
        .map(|k| source_line(source, k).unwrap_or("").trim_end())
        .collect();
    let dedented = dedent(&(original.join("\n") + "\n"));
    if dedented.trim().is_empty() {
        return Vec::new();
    }
    let [_, _, Some(col), Some(end_col)] = positions else {
        return vec![format!("{INDENT}{}", original[0].trim())];
    };
    let all_lines: Vec<&str> = dedented.lines().take(original.len()).collect();
    let last = all_lines.len() - 1;
    let dedent_characters = original[0].chars().count() - all_lines[0].chars().count();
    let start = char_offset(original[0], col).saturating_sub(dedent_characters);
    let end = char_offset(original[last], end_col).saturating_sub(dedent_characters);
    let joined = all_lines.join("\n");
    let joined: Vec<char> = joined.chars().collect();
    let cut = joined.len() - (all_lines[last].chars().count().saturating_sub(end));
    let segment: String = joined[start.min(cut)..cut].iter().collect();
    let anchors = extract_anchors_3_13(&segment);
    let show = should_show_carets(&all_lines, start, end, anchors.is_some());
    // Anchors on the segment's first line count from the instruction's start.
    let anchors = anchors.map(|a| SpanAnchors {
        left_end: a.left_end + if a.left_line == 0 { start } else { 0 },
        right_start: a.right_start + if a.right_line == 0 { start } else { 0 },
        ..a
    });
    let mut significant = vec![0, last];
    if let Some(a) = anchors {
        for l in [a.left_line, a.right_line] {
            significant.extend((l.saturating_sub(1)..=l + 1).filter(|&k| k <= last));
        }
    }
    significant.sort_unstable();
    significant.dedup();
    let mut result = Vec::new();
    let output_line = |k: usize, result: &mut Vec<String>| {
        result.push(all_lines[k].to_string());
        if show {
            result.push(caret_line(all_lines[k], k, last, start, end, anchors));
        }
    };
    for (i, &k) in significant.iter().enumerate() {
        if i > 0 {
            let diff = k - significant[i - 1];
            if diff == 2 {
                output_line(k - 1, &mut result);
            } else if diff > 2 {
                result.push(format!("...<{} lines>...", diff - 1));
            }
        }
        output_line(k, &mut result);
    }
    // textwrap.indent(textwrap.dedent(...), '    ', lambda line: True)
    dedent(&result.join("\n"))
        .split('\n')
        .map(|l| format!("{INDENT}{l}"))
        .collect()
}

/// `output_line`'s carets for line `k` of `last + 1`: blanks before its text and before the
/// instruction's start, `^` inside the anchors, `~` elsewhere (all `^` without anchors), up to
/// the instruction's end on its last line and to the line's end before.
fn caret_line(
    text: &str,
    k: usize,
    last: usize,
    start: usize,
    end: usize,
    anchors: Option<SpanAnchors>,
) -> String {
    let spaces = text.chars().count() - text.trim_start().chars().count();
    let count = if k == last { end } else { text.chars().count() };
    (0..count)
        .map(|col| match anchors {
            _ if col < spaces || (k == 0 && col < start) => ' ',
            Some(a)
                if (k > a.left_line || (k == a.left_line && col >= a.left_end))
                    && (k < a.right_line || (k == a.right_line && col < a.right_start)) =>
            {
                '^'
            }
            Some(_) => '~',
            None => '^',
        })
        .collect()
}

/// Anchors over several lines: where the `~`s end and the `^`s start (line of the segment,
/// character) and where the `^`s end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SpanAnchors {
    left_line: usize,
    left_end: usize,
    right_line: usize,
    right_start: usize,
}

/// 3.13's `_extract_caret_anchors_from_line_segment`: the segment parsed in parentheses (so
/// that it may go over lines); a binary operator (its first character after the left operand
/// that is neither blank nor `)`, and the next if it is not blank and comes before the right
/// operand), a subscript's `[` to its end, a call's `(` to its end; comments and line
/// continuations skipped.
fn extract_anchors_3_13(segment: &str) -> Option<SpanAnchors> {
    let wrapped = format!("(\n{segment}\n)");
    let expr = parse_expression(&wrapped)?;
    let lines: Vec<Vec<char>> = segment.lines().map(|l| l.chars().collect()).collect();
    let starts: Vec<usize> = std::iter::once(0)
        .chain(wrapped.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    // A node's (line of the segment, character) from its byte offset in `wrapped`.
    let place = |offset: ast::text_size::TextSize| -> Option<(usize, usize)> {
        let offset = offset.to_usize();
        let l = starts.partition_point(|&s| s <= offset).checked_sub(2)?;
        let text = &wrapped[starts[l + 1]..];
        Some((l, char_offset(text, (offset - starts[l + 1]) as u32)))
    };
    let next_valid = |(mut l, mut c): (usize, usize)| -> Option<(usize, usize)> {
        while l < lines.len() && c >= lines[l].len() {
            (l, c) = (l + 1, 0);
        }
        (l < lines.len()).then_some((l, c))
    };
    let until = |mut at: (usize, usize), stop: &dyn Fn(char) -> bool| -> Option<(usize, usize)> {
        loop {
            let ch = lines[at.0][at.1];
            if ch == '\\' || ch == '#' {
                at = next_valid((at.0 + 1, 0))?;
            } else if !stop(ch) {
                at = next_valid((at.0, at.1 + 1))?;
            } else {
                return Some(at);
            }
        }
    };
    let bracket = |inner: &Expr, whole: &Expr, open: char| -> Option<SpanAnchors> {
        let (ll, lc) = until(next_valid(place(inner.end())?)?, &|c| c == open)?;
        let (rl, rc) = place(whole.end())?;
        Some(SpanAnchors {
            left_line: ll,
            left_end: lc,
            right_line: rl,
            right_start: rc,
        })
    };
    match &expr {
        Expr::BinOp(b) => {
            let (l, c) = until(next_valid(place(b.left.end())?)?, &|c| {
                !c.is_whitespace() && c != ')'
            })?;
            let (right_line, right_col) = place(b.right.start())?;
            let mut right = c + 1;
            if right < lines[l].len()
                && (right_line > l || right < right_col)
                && !lines[l][right].is_whitespace()
                && !matches!(lines[l][right], '\\' | '#')
            {
                right += 1;
            }
            Some(SpanAnchors {
                left_line: l,
                left_end: c,
                right_line: l,
                right_start: right,
            })
        }
        Expr::Subscript(s) => bracket(&s.value, &expr, '['),
        Expr::Call(c) => bracket(&c.func, &expr, '('),
        _ => None,
    }
}

/// 3.13's `_should_show_carets`: not under a call that is the whole value of a `return` or
/// of an assignment to one name and spans all the lines; always with anchors; otherwise only
/// if the span leaves something of its first or last line uncovered.
fn should_show_carets(all_lines: &[&str], start: usize, end: usize, anchored: bool) -> bool {
    let text = all_lines.join("\n");
    if let Ok(body) = <ast::Suite as rustpython_parser::Parse>::parse(&text, "<lines>") {
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
        let last = all_lines.len() - 1;
        let line_start = |l: usize| all_lines[..l].iter().map(|x| x.len() + 1).sum::<usize>();
        let spans_all = |v: &Expr| {
            let (s, e) = (v.start().to_usize(), v.end().to_usize());
            s < all_lines[0].len()
                && char_offset(all_lines[0], s as u32) == start
                && e >= line_start(last)
                && char_offset(all_lines[last], (e - line_start(last)) as u32) == end
        };
        if value.is_some_and(spans_all) {
            return false;
        }
    }
    let first: Vec<char> = all_lines[0].chars().collect();
    let last: Vec<char> = all_lines[all_lines.len() - 1].chars().collect();
    let before = first[..start.min(first.len())]
        .iter()
        .any(|c| !c.is_whitespace());
    let after = last[end.min(last.len())..]
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
            Some(SpanAnchors {
                left_line: 0,
                left_end: 8,
                right_line: 0,
                right_start: 10
            })
        );
    }

    #[test]
    fn line_0_has_no_source() {
        // A module's RESUME is on line 0 (found by the generated programs of front_end.rs):
        // _Py_DisplaySourceLine reads no line for it.
        for minor in [10, 11, 12] {
            let at = [Some(0), Some(1), Some(0), Some(0)];
            assert!(frame_lines(minor, "x = 1\n", 0, at).is_empty());
        }
    }

    #[test]
    fn a_call_is_anchored_only_on_3_13() {
        assert_eq!(extract_anchors_3_11("f(x)"), None);
        assert_eq!(
            extract_anchors_3_13("f(x)"),
            Some(SpanAnchors {
                left_line: 0,
                left_end: 1,
                right_line: 0,
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
        let at = |line, col, end_col| [Some(line), Some(line), Some(col), Some(end_col)];
        assert_eq!(
            format_frame_summary("def g():\n    f(x)\n", 2, at(2, 4, 8)),
            ["    f(x)", "    ~^^^"]
        );
        assert_eq!(
            format_frame_summary("def g():\n    return f(x)\n", 2, at(2, 11, 15)),
            ["    return f(x)"]
        );
    }
}
