//! What the property tests share: the case count, the immortal count, `must`, the caches'
//! keys and the reference `repr` of a container.

use std::fmt::Write;

use objects::ObjError;
use proptest::test_runner::TestCaseError;

/// `PROPTEST_CASES`, or `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// `_Py_IMMORTAL_REFCNT` on 64-bit 3.12+.
pub const IMMORTAL: u64 = u32::MAX as u64;

/// An operation that must succeed in a test case: its error fails the case, naming `what`.
pub trait Must<T> {
    /// The value, or a failed case.
    fn must(self, what: &str) -> Result<T, TestCaseError>;
}

impl<T> Must<T> for Result<T, ObjError> {
    fn must(self, what: &str) -> Result<T, TestCaseError> {
        self.map_err(|e| TestCaseError::fail(format!("{what}: {e}")))
    }
}

/// The most a reference `repr` writes before it gives up: shared sub-structures can make a
/// rendering grow exponentially.
pub const RENDER_BUDGET: usize = 20_000;

/// The cache that returns this int, if one does: the small ints -5..=256.
pub fn int_cache_key(v: i128) -> Option<String> {
    (-5..=256).contains(&v).then(|| format!("int {v}"))
}

/// The cache that returns this str, if one does: `''` and the one-character latin-1 strs.
pub fn str_cache_key(s: &str) -> Option<String> {
    let mut c = s.chars();
    match (c.next(), c.next()) {
        (None, _) => Some("str".into()),
        (Some(ch), None) if u32::from(ch) < 256 => Some(format!("str {s}")),
        _ => None,
    }
}

/// The reference `repr` of container `op`, `Py_ReprEnter`'s way: `...` for a container already
/// being printed, `,` after a tuple's only item, `key: value` for pairs. `item` renders one
/// object; false when it or the budget gave up.
pub fn render_container(
    op: u64,
    (open, close): (&str, &str),
    items: &[(u64, Option<u64>)],
    stack: &mut Vec<u64>,
    out: &mut String,
    item: &dyn Fn(u64, &mut Vec<u64>, &mut String) -> bool,
) -> bool {
    if items.is_empty() {
        let _ = write!(out, "{open}{close}");
        return true;
    }
    if stack.contains(&op) {
        let _ = write!(out, "{open}...{close}");
        return true;
    }
    stack.push(op);
    out.push_str(open);
    for (i, &(a, b)) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if !item(a, stack, out) {
            return false;
        }
        if let Some(b) = b {
            out.push_str(": ");
            if !item(b, stack, out) {
                return false;
            }
        }
    }
    if open == "(" && items.len() == 1 {
        out.push(',');
    }
    out.push_str(close);
    stack.pop();
    true
}
