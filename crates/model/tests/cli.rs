//! `cargo model`'s command line: what it prints and how it exits, for a program that runs, one
//! that raises, one outside the subset, and misuse of the command itself.

use std::process::{Command, Output};

fn model(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_model"))
        .args(args)
        .output()
        .expect("the model binary runs")
}

fn script(name: &str, source: &str) -> String {
    let dir = std::env::temp_dir().join(format!("model-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, source).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn a_program_prints_what_cpython_prints() {
    let f = script(
        "ok.py",
        "import sys\ndef test():\n    num = 1000\n    print(sys.getrefcount(num))\ntest()\n",
    );
    let out = model(&["run", &f, "--python", "3.11"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "4\n");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn an_exception_is_a_traceback_and_status_1() {
    let f = script("raise.py", "print(undefined_name)\n");
    let out = model(&["run", &f]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("Traceback (most recent call last):"),
        "{err}"
    );
    assert!(
        err.trim_end()
            .ends_with("NameError: name 'undefined_name' is not defined"),
        "{err}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn what_is_not_modelled_is_named_and_status_2() {
    let f = script("async.py", "async def f():\n    pass\n");
    let out = model(&["run", &f]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not modelled: async def"), "{err}");
    assert!(err.contains("line 1"), "{err}");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn misuse_of_the_command_is_explained() {
    let f = script("v.py", "x = 1\n");
    let out = model(&["run", &f, "--python", "2.7"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown CPython version \"2.7\""));
    assert_eq!(out.status.code(), Some(2));
    let out = model(&["run"]);
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("usage: cargo model run"));
    assert_eq!(out.status.code(), Some(2));
    let out = model(&["run", "/no/such/file.py"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/file.py"));
    assert_eq!(out.status.code(), Some(2));
    let out = model(&["frobnicate", &f]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn dis_prints_the_listing() {
    let f = script("d.py", "x = 1000\n");
    let out = model(&["dis", &f]);
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains("LOAD_CONST               0 (1000)"),
        "{listing}"
    );
    assert!(
        listing.contains("STORE_NAME               0 (x)"),
        "{listing}"
    );
}
