//! `PyObject_Format` and the format-spec mini-language of `Python/formatter_unicode.c`, as
//! f-strings use them (`FORMAT_VALUE`): `[[fill]align][sign][#][0][width][,|_][.precision][type]`
//! for strs, ints and floats. The general float forms (`g`, `G`, `n`, and no type with a
//! precision) are not modelled.

use objects::TypeId;

use crate::error::RunError;
use crate::interp::Interp;

/// A parsed format spec (`InternalFormatSpec`).
#[derive(Debug, Default)]
struct Spec {
    fill: Option<char>,
    align: Option<char>,
    sign: Option<char>,
    alternate: bool,
    zero: bool,
    width: usize,
    grouping: Option<char>,
    precision: Option<usize>,
    ty: Option<char>,
}

fn invalid(spec: &str) -> RunError {
    RunError::exception("ValueError", format!("Invalid format specifier '{spec}'"))
}

fn not_modelled(what: &str) -> RunError {
    RunError::NotModelled {
        construct: what.into(),
        filename: String::new(),
        line: 0,
    }
}

/// `parse_internal_render_format_spec`.
fn parse(spec: &str) -> Result<Spec, RunError> {
    let c: Vec<char> = spec.chars().collect();
    let mut s = Spec::default();
    let mut i = 0;
    let is_align = |ch: char| matches!(ch, '<' | '>' | '=' | '^');
    if c.len() >= 2 && is_align(c[1]) {
        s.fill = Some(c[0]);
        s.align = Some(c[1]);
        i = 2;
    } else if !c.is_empty() && is_align(c[0]) {
        s.align = Some(c[0]);
        i = 1;
    }
    if i < c.len() && matches!(c[i], '+' | '-' | ' ') {
        s.sign = Some(c[i]);
        i += 1;
    }
    if i < c.len() && c[i] == '#' {
        s.alternate = true;
        i += 1;
    }
    if i < c.len() && c[i] == '0' {
        s.zero = true;
        i += 1;
    }
    let start = i;
    while i < c.len() && c[i].is_ascii_digit() {
        i += 1;
    }
    if i > start {
        s.width = c[start..i]
            .iter()
            .collect::<String>()
            .parse()
            .map_err(|_| invalid(spec))?;
    }
    if i < c.len() && matches!(c[i], ',' | '_') {
        s.grouping = Some(c[i]);
        i += 1;
    }
    if i < c.len() && c[i] == '.' {
        i += 1;
        let start = i;
        while i < c.len() && c[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(RunError::exception(
                "ValueError",
                "Format specifier missing precision",
            ));
        }
        s.precision = Some(
            c[start..i]
                .iter()
                .collect::<String>()
                .parse()
                .map_err(|_| invalid(spec))?,
        );
    }
    if i < c.len() {
        s.ty = Some(c[i]);
        i += 1;
    }
    if i < c.len() {
        return Err(invalid(spec));
    }
    if s.zero && s.fill.is_none() && s.align.is_none() {
        s.fill = Some('0');
        s.align = Some('=');
    }
    Ok(s)
}

/// Groups the digits of `digits` by `n` with `sep` (`_PyUnicode_InsertThousandsGrouping`).
fn group(digits: &str, n: usize, sep: char) -> String {
    let chars: Vec<char> = digits.chars().collect();
    let mut out = String::new();
    for (k, ch) in chars.iter().enumerate() {
        if k > 0 && (chars.len() - k).is_multiple_of(n) {
            out.push(sep);
        }
        out.push(*ch);
    }
    out
}

/// Pads `sign`+`prefix`+`body` to the width, as `fill_padding` does (`=` pads after the sign).
fn pad(s: &Spec, sign: &str, prefix: &str, body: &str, default_align: char) -> String {
    let len = sign.chars().count() + prefix.chars().count() + body.chars().count();
    let fill = s.fill.unwrap_or(' ');
    let n = s.width.saturating_sub(len);
    let fills = |k: usize| std::iter::repeat_n(fill, k).collect::<String>();
    match s.align.unwrap_or(default_align) {
        '<' => format!("{sign}{prefix}{body}{}", fills(n)),
        '^' => format!("{}{sign}{prefix}{body}{}", fills(n / 2), fills(n - n / 2)),
        '=' => format!("{sign}{prefix}{}{body}", fills(n)),
        _ => format!("{}{sign}{prefix}{body}", fills(n)),
    }
}

fn sign_of(s: &Spec, negative: bool) -> &'static str {
    match (negative, s.sign) {
        (true, _) => "-",
        (false, Some('+')) => "+",
        (false, Some(' ')) => " ",
        _ => "",
    }
}

/// `format_float_internal` for `f`, `F`, `e`, `E`, `%` and no type without a precision.
fn format_float(s: &Spec, x: f64, spec: &str) -> Result<String, RunError> {
    let negative = x.is_sign_negative() && !x.is_nan();
    let a = x.abs();
    let body = if !a.is_finite() {
        let t = if a.is_nan() { "nan" } else { "inf" };
        if matches!(s.ty, Some('F' | 'E')) {
            t.to_uppercase()
        } else {
            t.to_string()
        }
    } else {
        match (s.ty, s.precision) {
            (Some('f' | 'F'), p) => format!("{a:.*}", p.unwrap_or(6)),
            (Some('%'), p) => format!("{:.*}%", p.unwrap_or(6), a * 100.0),
            (Some(t @ ('e' | 'E')), p) => {
                let r = format!("{a:.*e}", p.unwrap_or(6));
                let (m, e) = r.split_once('e').expect("an exponent");
                let e: i32 = e.parse().expect("digits");
                let r = format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
                if t == 'E' { r.to_uppercase() } else { r }
            }
            (None, None) => objects::float_repr(a),
            _ => return Err(not_modelled(&format!("the float format spec '{spec}'"))),
        }
    };
    let body = match s.grouping {
        Some(sep) => {
            let (int, rest) = match body.find(|c: char| !c.is_ascii_digit()) {
                Some(k) => body.split_at(k),
                None => (body.as_str(), ""),
            };
            format!("{}{rest}", group(int, 3, sep))
        }
        None => body,
    };
    Ok(pad(s, sign_of(s, negative), "", &body, '>'))
}

impl Interp {
    /// `PyObject_Str` (1), `PyObject_Repr` (2), `PyObject_ASCII` (3): a new reference.
    pub(crate) fn convert(&mut self, v: u64, which: u32) -> Result<u64, RunError> {
        if self.is_extra(v) {
            let text = self.extra_repr(v)?;
            return Ok(self.o.unicode_new(&text)?);
        }
        if which == 1 && self.o.type_of(v)? == TypeId::Str {
            self.incref(v)?;
            return Ok(v);
        }
        let mut text = if which == 1 {
            self.o.str_of(v)?
        } else {
            self.o.repr(v)?
        };
        if which == 3 {
            text = text
                .chars()
                .map(|c| match u32::from(c) {
                    0..=0x7f => c.to_string(),
                    n @ 0x80..=0xff => format!("\\x{n:02x}"),
                    n @ 0x100..=0xffff => format!("\\u{n:04x}"),
                    n => format!("\\U{n:08x}"),
                })
                .collect();
        }
        Ok(self.o.unicode_new(&text)?)
    }

    /// `PyObject_Format(value, spec)` (`spec` 0 for none): a new reference.
    pub(crate) fn format(&mut self, v: u64, spec: u64) -> Result<u64, RunError> {
        let spec_text = if spec == 0 {
            String::new()
        } else {
            self.o.unicode_text(spec)?
        };
        if self.is_extra(v) {
            if !spec_text.is_empty() {
                return Err(RunError::exception(
                    "TypeError",
                    format!(
                        "unsupported format string passed to {}.__format__",
                        self.type_name(v)?
                    ),
                ));
            }
            let text = self.extra_repr(v)?;
            return Ok(self.o.unicode_new(&text)?);
        }
        let ty = self.o.type_of(v)?;
        if spec_text.is_empty() {
            // Fast paths of PyObject_Format, then object.__format__: str(self).
            return self.convert(v, 1);
        }
        let s = parse(&spec_text)?;
        let text = match ty {
            TypeId::Str => {
                if let Some(t) = s.ty.filter(|&t| t != 's') {
                    return Err(RunError::exception(
                        "ValueError",
                        format!("Unknown format code '{t}' for object of type 'str'"),
                    ));
                }
                if s.sign.is_some() {
                    return Err(RunError::exception(
                        "ValueError",
                        "Sign not allowed in string format specifier",
                    ));
                }
                if s.grouping.is_some() {
                    return Err(RunError::exception(
                        "ValueError",
                        "Cannot specify ',' with 's'.",
                    ));
                }
                let mut body = self.o.unicode_text(v)?;
                if let Some(p) = s.precision {
                    body = body.chars().take(p).collect();
                }
                pad(&s, "", "", &body, '<')
            }
            TypeId::Int | TypeId::Bool => {
                let n = self.o.long_value(v)?;
                if matches!(s.ty, Some('e' | 'E' | 'f' | 'F' | '%' | 'g' | 'G')) {
                    format_float(&s, n as f64, &spec_text)?
                } else {
                    if s.precision.is_some() {
                        return Err(RunError::exception(
                            "ValueError",
                            "Precision not allowed in integer format specifier",
                        ));
                    }
                    let a = n.unsigned_abs();
                    let (digits, prefix, every) = match s.ty {
                        None | Some('d') => (a.to_string(), "", 3),
                        Some('x') => (format!("{a:x}"), "0x", 4),
                        Some('X') => (format!("{a:X}"), "0X", 4),
                        Some('o') => (format!("{a:o}"), "0o", 4),
                        Some('b') => (format!("{a:b}"), "0b", 4),
                        Some(t) => {
                            return Err(not_modelled(&format!("the int format type '{t}'")));
                        }
                    };
                    let digits = match s.grouping {
                        Some(sep) => group(&digits, every, sep),
                        None => digits,
                    };
                    let prefix = if s.alternate { prefix } else { "" };
                    pad(&s, sign_of(&s, n < 0), prefix, &digits, '>')
                }
            }
            TypeId::Float => {
                let x = self.o.float_value(v)?;
                format_float(&s, x, &spec_text)?
            }
            t => {
                return Err(RunError::exception(
                    "TypeError",
                    format!("unsupported format string passed to {t}.__format__"),
                ));
            }
        };
        // _PyUnicodeWriter_Finish: '' and one latin-1 character are the cached strs.
        self.unicode_result(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_as_formatter_unicode_does() {
        let s = parse("*^+#010,.3f").unwrap();
        assert_eq!(
            (s.fill, s.align, s.sign, s.alternate, s.zero, s.width),
            (Some('*'), Some('^'), Some('+'), true, true, 10)
        );
        assert_eq!(
            (s.grouping, s.precision, s.ty),
            (Some(','), Some(3), Some('f'))
        );
        let z = parse("05").unwrap();
        assert_eq!((z.fill, z.align, z.width), (Some('0'), Some('='), 5));
        assert!(parse(".").is_err() && parse("5dd").is_err());
        assert_eq!(group("1234567", 3, ','), "1,234,567");
        assert_eq!(
            format_float(&parse("e").unwrap(), 0.4567, "e").unwrap(),
            "4.567000e-01"
        );
    }
}
