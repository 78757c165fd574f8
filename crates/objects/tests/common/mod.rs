//! What the property tests share: the case count, the immortal count, and `must`.

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
