//! `PyUnicode_Format`: `format % args` for strs, the conversions `%s %r %a %d %i %u %x %X
//! %o %f %F %e %E %c %%` with the flags `- + space # 0`, a width and a precision. The compiler
//! uses it to fold constant operands (`fold_binop`), the evaluation loop for `BINARY_OP %`.
//! `%g`, `*` widths and `%(name)s` mappings are not modelled.

use crate::error::RunError;

/// An argument, as much of it as the conversions read.
#[derive(Clone, Debug)]
pub(crate) enum Arg {
    /// An int (or bool): its value, `str()` and `repr()`.
    Int(i128, String),
    /// A float.
    Float(f64, String),
    /// A str: its text and `repr()`.
    Str(String, String),
    /// Anything else: its type name, `str()` and `repr()`.
    Other(String, String, String),
}

impl Arg {
    fn str(&self) -> &str {
        match self {
            Arg::Int(_, s) | Arg::Float(_, s) | Arg::Str(s, _) | Arg::Other(_, s, _) => s,
        }
    }

    fn repr(&self) -> String {
        match self {
            Arg::Int(_, s) | Arg::Float(_, s) => s.clone(),
            Arg::Str(_, r) | Arg::Other(_, _, r) => r.clone(),
        }
    }

    fn type_name(&self) -> &str {
        match self {
            Arg::Int(..) => "int",
            Arg::Float(..) => "float",
            Arg::Str(..) => "str",
            Arg::Other(t, _, _) => t,
        }
    }
}

fn type_error(m: impl Into<String>) -> RunError {
    RunError::exception("TypeError", m)
}

fn not_modelled(what: &str) -> RunError {
    RunError::NotModelled {
        construct: what.into(),
        filename: String::new(),
        line: 0,
    }
}

/// `format % args` (`args` already split: a tuple's items, or the one value). `strict`: an
/// argument left over is an error (always, but for one value that is a mapping).
pub(crate) fn format(fmt: &str, args: &[Arg], strict: bool) -> Result<String, RunError> {
    let c: Vec<char> = fmt.chars().collect();
    let mut out = String::new();
    let mut next = 0;
    let mut i = 0;
    while i < c.len() {
        if c[i] != '%' {
            out.push(c[i]);
            i += 1;
            continue;
        }
        i += 1;
        let (mut ljust, mut sign, mut blank, mut alt, mut zero) =
            (false, false, false, false, false);
        while i < c.len() {
            match c[i] {
                '-' => ljust = true,
                '+' => sign = true,
                ' ' => blank = true,
                '#' => alt = true,
                '0' => zero = true,
                _ => break,
            }
            i += 1;
        }
        if i < c.len() && matches!(c[i], '*' | '(') {
            return Err(not_modelled("a '*' width or a mapping key in % formatting"));
        }
        let mut width = 0usize;
        while i < c.len() && c[i].is_ascii_digit() {
            width = width * 10 + c[i].to_digit(10).expect("a digit") as usize;
            i += 1;
        }
        let mut prec = None;
        if i < c.len() && c[i] == '.' {
            i += 1;
            let mut p = 0usize;
            while i < c.len() && c[i].is_ascii_digit() {
                p = p * 10 + c[i].to_digit(10).expect("a digit") as usize;
                i += 1;
            }
            prec = Some(p);
        }
        // Length modifiers are accepted and ignored.
        while i < c.len() && matches!(c[i], 'h' | 'l' | 'L') {
            i += 1;
        }
        let Some(&ty) = c.get(i) else {
            return Err(RunError::exception("ValueError", "incomplete format"));
        };
        i += 1;
        if ty == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next) else {
            return Err(type_error("not enough arguments for format string"));
        };
        next += 1;
        let (sign_str, body): (String, String) = match ty {
            's' | 'r' | 'a' => {
                let mut t = match ty {
                    's' => arg.str().to_string(),
                    _ => arg.repr(),
                };
                if ty == 'a' {
                    t = t
                        .chars()
                        .map(|ch| match u32::from(ch) {
                            0..=0x7f => ch.to_string(),
                            n @ 0x80..=0xff => format!("\\x{n:02x}"),
                            n @ 0x100..=0xffff => format!("\\u{n:04x}"),
                            n => format!("\\U{n:08x}"),
                        })
                        .collect();
                }
                if let Some(p) = prec {
                    t = t.chars().take(p).collect();
                }
                (String::new(), t)
            }
            'd' | 'i' | 'u' | 'x' | 'X' | 'o' => {
                let n = match arg {
                    Arg::Int(n, _) => *n,
                    Arg::Float(f, _) if matches!(ty, 'd' | 'i' | 'u') => f.trunc() as i128,
                    other => {
                        let what = if matches!(ty, 'd' | 'i' | 'u') {
                            "a real number"
                        } else {
                            "an integer"
                        };
                        return Err(type_error(format!(
                            "%{ty} format: {what} is required, not {}",
                            other.type_name()
                        )));
                    }
                };
                let a = n.unsigned_abs();
                let mut digits = match ty {
                    'x' => format!("{a:x}"),
                    'X' => format!("{a:X}"),
                    'o' => format!("{a:o}"),
                    _ => a.to_string(),
                };
                if let Some(p) = prec
                    && digits.len() < p
                {
                    digits = format!("{}{digits}", "0".repeat(p - digits.len()));
                }
                if alt {
                    let prefix = match ty {
                        'x' => "0x",
                        'X' => "0X",
                        'o' => "0o",
                        _ => "",
                    };
                    digits = format!("{prefix}{digits}");
                }
                (signed(n < 0, sign, blank), digits)
            }
            'f' | 'F' | 'e' | 'E' => {
                let x = match arg {
                    Arg::Int(n, _) => *n as f64,
                    Arg::Float(f, _) => *f,
                    other => {
                        return Err(type_error(format!(
                            "must be real number, not {}",
                            other.type_name()
                        )));
                    }
                };
                let p = prec.unwrap_or(6);
                let a = x.abs();
                let body = if !a.is_finite() {
                    let t = if a.is_nan() { "nan" } else { "inf" };
                    if ty.is_uppercase() {
                        t.to_uppercase()
                    } else {
                        t.to_string()
                    }
                } else if matches!(ty, 'f' | 'F') {
                    format!("{a:.p$}")
                } else {
                    let r = format!("{a:.p$e}");
                    let (m, e) = r.split_once('e').expect("an exponent");
                    let e: i32 = e.parse().expect("digits");
                    let r = format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
                    if ty == 'E' { r.to_uppercase() } else { r }
                };
                (
                    signed(x.is_sign_negative() && !x.is_nan(), sign, blank),
                    body,
                )
            }
            'c' => match arg {
                Arg::Int(n, _) => match u32::try_from(*n).ok().and_then(char::from_u32) {
                    Some(ch) => (String::new(), ch.to_string()),
                    None => {
                        return Err(RunError::exception(
                            "OverflowError",
                            "%c arg not in range(0x110000)",
                        ));
                    }
                },
                Arg::Str(s, _) if s.chars().count() == 1 => (String::new(), s.clone()),
                _ => return Err(type_error("%c requires int or char")),
            },
            'g' | 'G' => return Err(not_modelled("%g in % formatting")),
            other => {
                return Err(RunError::exception(
                    "ValueError",
                    format!(
                        "unsupported format character '{other}' (0x{:x}) at index {}",
                        u32::from(other),
                        i - 1
                    ),
                ));
            }
        };
        let len = sign_str.chars().count() + body.chars().count();
        let pad = width.saturating_sub(len);
        let numeric = !matches!(ty, 's' | 'r' | 'a' | 'c');
        if ljust {
            out.push_str(&sign_str);
            out.push_str(&body);
            out.push_str(&" ".repeat(pad));
        } else if zero && numeric {
            out.push_str(&sign_str);
            // The zeros go after a 0x prefix.
            let (prefix, rest) = if alt && body.len() > 2 && matches!(ty, 'x' | 'X' | 'o') {
                body.split_at(2)
            } else {
                ("", body.as_str())
            };
            out.push_str(prefix);
            out.push_str(&"0".repeat(pad));
            out.push_str(rest);
        } else {
            out.push_str(&" ".repeat(pad));
            out.push_str(&sign_str);
            out.push_str(&body);
        }
    }
    if next < args.len() && strict {
        return Err(type_error(
            "not all arguments converted during string formatting",
        ));
    }
    Ok(out)
}

/// A piece of `optimize_format`'s rewriting of `'...' % (a, b)` into an f-string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Literal text (`%%` made `%`).
    Literal(String),
    /// The next argument with a conversion (`s`, `r`, `a`) and a format spec, if any.
    Value(char, Option<String>),
}

/// `optimize_format` (ast_opt.c, 3.11): a format of only `%s`, `%r`, `%a` (with `-`, a width
/// and a precision of at most two digits) and as many of them as `nargs` becomes an f-string;
/// `None` leaves the `%` as it is.
pub(crate) fn optimize_format(fmt: &str, nargs: usize) -> Option<Vec<Piece>> {
    const MAXDIGITS: u32 = 3;
    let c: Vec<char> = fmt.chars().collect();
    let mut pos = 0;
    let mut cnt = 0;
    let mut out = Vec::new();
    loop {
        // parse_literal
        let start = pos;
        let mut lit = String::new();
        while pos < c.len() {
            if c[pos] != '%' {
                lit.push(c[pos]);
                pos += 1;
            } else if pos + 1 < c.len() && c[pos + 1] == '%' {
                lit.push('%');
                pos += 2;
            } else {
                break;
            }
        }
        if pos > start {
            out.push(Piece::Literal(lit));
        }
        if pos >= c.len() {
            break;
        }
        if cnt >= nargs {
            return None;
        }
        pos += 1; // the '%'
        cnt += 1;
        // simple_format_arg_parse
        let mut next = || {
            let ch = c.get(pos).copied();
            pos += 1;
            ch
        };
        let mut ch = next()?;
        let mut ljust = false;
        while matches!(ch, '-' | '+' | ' ' | '#' | '0') {
            ljust |= ch == '-';
            ch = next()?;
        }
        let mut width: Option<u32> = None;
        if ch.is_ascii_digit() {
            let mut w = 0;
            let mut digits = 0;
            while let Some(d) = ch.to_digit(10) {
                w = w * 10 + d;
                ch = next()?;
                digits += 1;
                if digits >= MAXDIGITS {
                    return None;
                }
            }
            width = Some(w);
        }
        let mut prec: Option<u32> = None;
        if ch == '.' {
            ch = next()?;
            let mut p = 0;
            let mut digits = 0;
            while let Some(d) = ch.to_digit(10) {
                p = p * 10 + d;
                ch = next()?;
                digits += 1;
                if digits >= MAXDIGITS {
                    return None;
                }
            }
            prec = Some(p);
        }
        if !matches!(ch, 's' | 'r' | 'a') {
            return None;
        }
        let mut spec = String::new();
        if !ljust && width.is_some_and(|w| w > 0) {
            spec.push('>');
        }
        if let Some(w) = width {
            spec.push_str(&w.to_string());
        }
        if let Some(p) = prec {
            spec.push_str(&format!(".{p}"));
        }
        out.push(Piece::Value(ch, (!spec.is_empty()).then_some(spec)));
    }
    if cnt < nargs {
        return None;
    }
    Some(out)
}

fn signed(negative: bool, sign: bool, blank: bool) -> String {
    if negative {
        "-".into()
    } else if sign {
        "+".into()
    } else if blank {
        " ".into()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(n: i128) -> Arg {
        Arg::Int(n, n.to_string())
    }

    #[test]
    fn conversions_as_cpython_prints_them() {
        let s = Arg::Str("s".into(), "'s'".into());
        let got = format(
            "%d items, %s, %r, %5d|%-5d|%05d, %x %X %o %+d %%",
            &[
                int(7),
                s.clone(),
                s,
                int(7),
                int(7),
                int(7),
                int(255),
                int(255),
                int(8),
                int(7),
            ],
            true,
        )
        .unwrap();
        assert_eq!(got, "7 items, s, 's',     7|7    |00007, ff FF 10 +7 %");
        let f = |x: f64| Arg::Float(x, objects::float_repr(x));
        let got = format(
            "%.2f %8.3f %e %c",
            &[f(1.23456), f(2.5), f(12345.678), int(65)],
            true,
        );
        assert_eq!(got.unwrap(), "1.23    2.500 1.234568e+04 A");
        assert!(format("%d %d", &[int(1)], true).is_err());
        assert_eq!(
            optimize_format("%s and %-5r|%3.1s%%", 3),
            Some(vec![
                Piece::Value('s', None),
                Piece::Literal(" and ".into()),
                Piece::Value('r', Some("5".into())),
                Piece::Literal("|".into()),
                Piece::Value('s', Some(">3.1".into())),
                Piece::Literal("%".into()),
            ])
        );
        assert_eq!(optimize_format("%d", 1), None);
        assert_eq!(optimize_format("%s %s", 1), None);
        assert!(format("%d", &[int(1), int(2)], true).is_err());
    }
}
