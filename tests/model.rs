//! The book's signature: the same program on real CPython and on the model. Every experiment
//! (`examples/python/*.py`) and every blog program (`examples/python/blog/*.py`) runs on the
//! model with each profile that has a capture of the real interpreter, and its output is
//! compared with that capture line by line, after the same normalisation.
//!
//! Every difference is a row of one generated table per edition,
//! `tests/model/differences.{en,ko}.md` (program, version, line, CPython, model, why), which the
//! book includes. A difference must be explained: by the model not running the program yet
//! (the row names the construct), or by an entry of [`EXPLAINED`], each naming its evidence. An
//! unexplained difference fails the test, and so does an entry, or a version of one, that no
//! difference uses any more: an explanation of what the runs no longer show. `MODEL_UPDATE=1
//! cargo test --test model` rewrites the tables; without it, tables that differ from what the
//! runs give fail the test.

use book_pages::capture::{self, Capture};
use pymalloc::Profile;
use std::fmt::Write as _;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// An explained difference: (program, versions, line, why in English, why in Korean); line 0
/// stands for every line of the program.
type Explanation = (
    &'static str,
    &'static [u8],
    usize,
    &'static str,
    &'static str,
);

/// Known differences. Every entry names the evidence for its explanation.
const EXPLAINED: &[Explanation] = &[
    ("blog/gc_count", &[11, 12, 13], 0, GC_START_EN, GC_START_KO),
    (
        "blog/gc_append_pop",
        &[11, 12, 13],
        0,
        GC_START_EN,
        GC_START_KO,
    ),
    (
        "blog/stale_list",
        &[11, 12, 13],
        0,
        "the stale read depends on the heap before the call. CPython's start-up keeps the \
         32-byte pool of the freed item buffer in use, and the stale list shows what that block \
         holds by then. The model's heap is nearly empty: freeing the `id`'s int empties that pool, \
         the next 32-byte request gets another one, and the stale item 0 is a free block whose \
         type word is NULL, so the call through `tp_repr` faults (`--trace` shows each step). \
         CPython 3.13.0 prints `[[...]]` as 3.11.7 does (this program's capture), and the \
         model's `--trace` on 3.13 shows the same free block read. Under gdb \
         (crates/python/measurements/stale_exit.stale_list.txt) CPython's item 0 is NULL on all \
         three: on 3.11.7 and 3.13.0 the buffer heads a pool with 509 of its 510 blocks handed \
         out, and the `Py_Repr` list's append reuses it; on 3.12.1 a block freed after it heads \
         the pool. The experiments puzzle1_buffer_reuse and puzzle1_null arrange those heaps, \
         and the model prints what CPython prints",
        "낡은 읽기의 결과는 호출 전의 힙 상태에 달렸다. CPython은 시작 과정이 해제된 항목 버퍼가 \
         있던 32바이트 풀을 계속 사용 중으로 붙잡고 있고, 낡은 리스트는 그때 그 블록에 든 것을 \
         보여 준다. 모델의 힙은 거의 비어 있다. `id`가 만든 int를 해제하면 그 풀이 비고, 다음 \
         32바이트 요청은 다른 풀에서 블록을 받는다. 그래서 낡은 0번 항목은 타입 워드가 NULL인 빈 \
         블록이 되고, `tp_repr`를 거친 호출이 세그멘테이션 오류를 낸다(`--trace`가 단계마다 보여 준다). \
         CPython 3.13.0도 3.11.7처럼 `[[...]]`를 출력하고(이 프로그램의 캡처), 3.13에서 모델의 \
         `--trace`도 같은 빈 블록을 읽는 과정을 보여 준다. gdb로 보면\
         (crates/python/measurements/stale_exit.stale_list.txt) 세 버전 모두 CPython의 0번 항목이 \
         NULL이다. 3.11.7과 3.13.0에서는 버퍼가 510개 블록 중 509개가 나가 있는 풀의 맨 앞에 있고, \
         `Py_Repr` 리스트의 덧붙이기가 그 버퍼를 다시 쓴다. 3.12.1에서는 그 뒤에 해제된 블록이 풀의 맨 \
         앞에 있다. 실험 puzzle1_buffer_reuse와 puzzle1_null이 이런 힙을 만들어 주면 모델도 CPython과 \
         같은 줄을 출력한다",
    ),
    (
        "blog/memory_lists",
        &[11, 12],
        0,
        "the collector's counts lie elsewhere in the same cycle. Both collect generation 0 every \
         701 tracked allocations, and both show the same cycle of counts 1 and 2 round after \
         round (count 2 climbs to 10, then a full collection resets it), but from another \
         starting point: this script's first `gc.get_count()` would read (248, 0, 2) on CPython \
         3.11.7 and (692, 4, 0) on 3.12.1 (`python3 -I` of `import gc; print(gc.get_count())`), \
         a few dozen on the model, whose start-up makes only its own objects. And the lines \
         between the collector's resets allocate a \
         different number of tracked objects: with the collector disabled, printing the \
         f-string with `id(a)` counts 6 on CPython 3.11.7 and 3 on the model, and the first \
         `p.memory_info().rss` line 11 on CPython, whose psutil is a library of its own, and 1 \
         on the model's psutil. So count 0 at each round's print is 403 on CPython and 384 on \
         the model. What CPython's `print` and psutil allocate has not been traced object by \
         object",
        "가비지 수거기의 카운트가 같은 주기의 다른 자리에 있다. 둘 다 추적 대상 할당 701번마다 0세대를 \
         수거하고, 라운드마다 카운트 1과 2가 같은 주기를 돈다(카운트 2가 10까지 오르면 전체 수거가 \
         0으로 되돌린다). 다만 출발점이 다르다. 이 스크립트의 첫 `gc.get_count()`는 CPython 3.11.7에서 \
         (248, 0, 2), 3.12.1에서 (692, 4, 0)을(`import gc; print(gc.get_count())`를 `python3 -I`로 \
         실행), 자기 객체만 만드는 시작 과정을 거친 모델에서는 수십을 읽는다. 또 수거기가 \
         카운트를 되돌리는 사이의 줄들이 만드는 추적 \
         대상 객체의 수도 다르다. 수거기를 끄고 재면, `id(a)`가 든 f-문자열을 출력하는 줄이 CPython \
         3.11.7에서 6, 모델에서 3을 세고, 첫 `p.memory_info().rss` 줄은 별도 라이브러리인 psutil을 쓰는 \
         CPython에서 11, 모델의 psutil에서 1을 센다. 그래서 라운드마다 출력되는 카운트 0이 CPython에서는 \
         403, 모델에서는 384다. CPython의 `print`와 psutil이 무엇을 할당하는지는 객체 하나하나까지 \
         추적하지 않았다",
    ),
    (
        "blog/memory_lists",
        &[13],
        0,
        "the collector's counts lie elsewhere in the same cycle, as on 3.11 and 3.12, with 3.13's \
         threshold of 2000: CPython's start-up and its psutil, a library of its own, leave \
         (1623, 7, 0) before the script's first line (`python3 -I -c 'import gc; import psutil; \
         print(gc.get_count())'` on 3.13.0; (47, 3, 0) without psutil), while the model's \
         start-up and psutil make only a few dozen objects, so the first round's print reads \
         (1561, 9, 4) on CPython and a count 0 of a few dozen on the model. After that both show count 0 near \
         the same point of each round (1883 on CPython, 1872 to 1875 on the model: the lines \
         between allocate a different number of tracked objects, `print`'s and psutil's not \
         traced object by object), and counts 1 and 2 run through the same cycle from other \
         starting points",
        "가비지 수거기의 카운트가 같은 주기의 다른 자리에 있다. 3.11, 3.12와 같은 사정이고, 3.13의 \
         임계값은 2000이다. CPython의 시작 과정과 별도 라이브러리인 psutil은 스크립트의 첫 줄 전에 \
         (1623, 7, 0)을 남기고(3.13.0에서 `python3 -I -c 'import gc; import psutil; \
         print(gc.get_count())'`, psutil 없이는 (47, 3, 0)), 모델의 시작 과정과 psutil은 객체를 \
         수십 개만 만든다. 그래서 첫 라운드의 출력이 CPython에서 (1561, 9, 4)이고, 모델에서는 카운트 0이 수십이다. \
         그 뒤로는 둘 다 라운드마다 비슷한 자리에서 카운트 0을 보여 준다(CPython 1883, 모델 1872에서 \
         1875). 그 사이의 줄들이 만드는 추적 대상 객체의 수가 다르기 때문이며, `print`와 psutil이 \
         무엇을 할당하는지는 객체 하나하나까지 추적하지 않았다. 카운트 1과 2는 같은 주기를 다른 \
         출발점에서 돈다",
    ),
    (
        "blog/gc_count",
        &[10],
        0,
        GC_START_3_10_EN,
        GC_START_3_10_KO,
    ),
    (
        "blog/gc_append_pop",
        &[10],
        0,
        GC_START_3_10_EN,
        GC_START_3_10_KO,
    ),
    (
        "blog/stale_list",
        &[10],
        0,
        "the stale read depends on the heap before the call. The freed item buffer's first \
         word is pymalloc's link to the next free block of its pool, and the stale item 0 is that \
         block: on CPython 3.10.13 a block that held an int during start-up (the capture prints \
         one), in the model a block no object has used, whose type word is NULL, so the call \
         through `tp_repr` faults (`cargo model run --python 3.10 --trace` shows the buffer \
         freed and the fault). gdb finds the same on CPython 3.8.18 and 3.10.13 \
         (crates/python/measurements/stale_exit.stale_list.txt); the experiment puzzle1_link \
         arranges a link to an int's old block, and the model prints what CPython prints",
        "낡은 읽기의 결과는 호출 전의 힙 상태에 달렸다. 해제된 항목 버퍼의 첫 워드는 같은 풀의 다음 \
         빈 블록을 가리키는 pymalloc의 연결이고, 낡은 0번 항목이 바로 그 블록이다. CPython 3.10.13에서는 \
         시작 과정에서 int가 쓰던 블록이고(캡처가 int를 출력한다), 모델에서는 어떤 객체도 쓴 적 없는 \
         블록이라 타입 워드가 NULL이다. 그래서 `tp_repr`를 거친 호출이 세그멘테이션 오류를 낸다\
         (`cargo model run --python 3.10 --trace`가 버퍼 해제와 오류를 보여 준다). gdb로 보면 \
         CPython 3.8.18과 3.10.13에서 같은 일이 일어난다(crates/python/measurements/stale_exit.stale_list.txt). \
         실험 puzzle1_link가 int가 있던 블록으로 가는 연결을 만들어 주면 모델도 CPython과 같은 줄을 \
         출력한다",
    ),
    ("blog/gc_count", &[9], 0, GC_START_3_9_EN, GC_START_3_9_KO),
    (
        "blog/gc_append_pop",
        &[9],
        0,
        GC_START_3_9_EN,
        GC_START_3_9_KO,
    ),
    (
        "blog/stale_list",
        &[9],
        0,
        "the stale read depends on the heap before the call. Under gdb \
         (crates/python/measurements/stale_exit.stale_list.txt) CPython 3.9.18's item 0 is NULL: \
         the freed item buffer heads its pool, and the `Py_Repr` list's append reuses it, so the \
         stale list prints itself (`[[...]]`, as on 3.11.7 and 3.13.0). In the model the \
         buffer's first word is pymalloc's link to the pool's next free block, a 32-byte buffer \
         freed while line 13 printed the list, whose type word is NULL, so the call through \
         `tp_repr` faults (`cargo model run --python 3.9 --trace` shows both buffers freed and \
         the fault); the experiment puzzle1_buffer_reuse arranges CPython's heap",
        "낡은 읽기의 결과는 호출 전의 힙 상태에 달렸다. gdb로 보면\
         (crates/python/measurements/stale_exit.stale_list.txt) CPython 3.9.18의 0번 항목은 NULL이다. \
         해제된 항목 버퍼가 풀의 맨 앞에 있고 `Py_Repr` 리스트의 덧붙이기가 그 버퍼를 다시 써서, 낡은 \
         리스트가 자기 자신을 출력한다(3.11.7, 3.13.0처럼 `[[...]]`). 모델에서는 그 버퍼의 첫 워드가 \
         같은 풀의 다음 빈 블록을 가리키는 pymalloc의 연결이고, 그 블록은 13번 줄이 리스트를 출력하는 \
         동안 해제된 32바이트 버퍼라 타입 워드가 NULL이다. 그래서 `tp_repr`를 거친 호출이 세그멘테이션 \
         오류를 낸다(`cargo model run --python 3.9 --trace`가 두 버퍼의 해제와 오류를 보여 준다). 실험 \
         puzzle1_buffer_reuse가 CPython의 힙을 만들어 준다",
    ),
    (
        "blog/refcount_constants",
        &[11],
        7,
        "the interned `'ab'` is also held by code loaded at start-up: on the machine that recorded \
         the captures, a `.pth` file in 3.11.7's site-packages makes `site` import certifi, whose \
         imports reach shutil, which imports bz2 and lzma. `BZ2File.__init__` holds `'ab'` twice \
         among its constants (`mode = \"ab\"` and the tuple `(\"a\", \"ab\")`), \
         `LZMAFile.__init__` once (experiment puzzle2_ab finds the three; in a child started \
         with `-S` it reads 3, then 5 after `import bz2`, 6 after `import lzma`). The model runs \
         no `site` and imports neither",
        "인터닝된 `'ab'`를 시작 과정에서 읽어 들인 코드도 쥐고 있다. 캡처를 기록한 머신에서는 \
         3.11.7의 site-packages에 있는 `.pth` 파일 때문에 `site`가 certifi를 임포트하고, 그 \
         임포트가 shutil까지 이어져 shutil이 bz2와 lzma를 임포트한다. `BZ2File.__init__`의 \
         상수가 `'ab'`를 두 번(`mode = \"ab\"`와 튜플 `(\"a\", \"ab\")`), \
         `LZMAFile.__init__`의 상수가 한 번 참조한다(실험 puzzle2_ab가 이 셋을 찾아내고, \
         `-S`로 띄운 자식 프로세스에서는 3, `import bz2` 뒤 5, `import lzma` 뒤 6이 나온다). \
         모델은 `site`를 돌리지 않고 둘 다 임포트하지 않는다",
    ),
];

/// Programs run on the model with one profile only: (program, minor version). `puzzle3_strs_6`
/// is `puzzle3_strs_5` with ten times the strs (ten million in all, half a minute on the model);
/// both print only normalised memory figures, the same on every version.
const ONE_PROFILE: &[(&str, u8)] = &[("puzzle3_strs_6", 11)];

/// Programs whose output the model must give line for line on every version it runs (3.9 to
/// 3.13), with no explanation and nothing refused: the collector's counts after a
/// `gc.collect()`, which the chapter "Generations and thresholds" shows beside CPython's.
const LINE_FOR_LINE: &[&str] = &["generations_pop", "generations_kept", "generations_full"];

/// Why `gc.get_count()` starts elsewhere on CPython.
const GC_START_EN: &str = "generation 0's count and the collections before the script's first \
     line belong to start-up: CPython's (`site`, `encodings`, compiling the script) leaves 247 \
     objects counted and two collections of generation 1 on 3.11.7 (`python3 -I -c 'import gc; \
     print(gc.get_count())'`, this program's capture); the model's start-up makes only its own \
     few objects. From there both stay flat: each iteration's list comes from the list free list \
     and goes back to it, and the printed tuple from the tuple free list. On 3.13.0 (threshold \
     2000) the same command prints `(47, 3, 0)` and this script's first line `(30, 3, 0)`: \
     start-up has already made three collections of the youngest generation";
const GC_START_KO: &str = "0세대의 카운트와 스크립트 첫 줄 이전의 수거 횟수는 시작 과정의 몫이다. \
     CPython의 시작 과정(`site`, `encodings`, 스크립트 컴파일)은 3.11.7에서 247개 객체를 세어 두고 \
     1세대 수거를 두 번 남긴다(`python3 -I -c 'import gc; print(gc.get_count())'`, 이 프로그램의 \
     캡처). 모델의 시작 과정은 자기 객체 몇 개만 만든다. 그다음부터는 둘 다 평평하다. 매 반복의 \
     리스트는 리스트 자유 목록에서 나와 그리로 돌아가고, 출력되는 튜플은 튜플 자유 목록에서 나온다. \
     3.13.0(임곗값 2000)에서는 같은 명령이 `(47, 3, 0)`을, 이 스크립트의 첫 줄이 `(30, 3, 0)`을 \
     출력한다. 시작 과정에서 가장 어린 세대의 수거가 이미 세 번 일어난 것이다";

/// Why `gc.get_count()` starts elsewhere on CPython 3.10.
const GC_START_3_10_EN: &str = "generation 0's count and the collections before the script's \
     first line belong to start-up: on 3.10.13 CPython's leaves 40 objects counted and ten \
     collections of generation 0 (`python3 -I -c 'import gc; print(gc.get_count())'` prints \
     `(40, 10, 0)`); the model's start-up makes only its own few objects. From there both stay \
     flat: each iteration's list comes from the list free list and goes back to it, and the \
     printed tuple from the tuple free list";
const GC_START_3_10_KO: &str = "0세대의 카운트와 스크립트 첫 줄 이전의 수거 횟수는 시작 과정의 \
     몫이다. 3.10.13에서 CPython의 시작 과정은 40개 객체를 세어 두고 0세대 수거를 열 번 남긴다\
     (`python3 -I -c 'import gc; print(gc.get_count())'`가 `(40, 10, 0)`을 출력한다). 모델의 시작 \
     과정은 자기 객체 몇 개만 만든다. 그다음부터는 둘 다 평평하다. 매 반복의 리스트는 리스트 자유 \
     목록에서 나와 그리로 돌아가고, 출력되는 튜플은 튜플 자유 목록에서 나온다";

/// Why `gc.get_count()` starts elsewhere on CPython 3.9.
const GC_START_3_9_EN: &str = "generation 0's count and the collections before the script's \
     first line belong to start-up: on 3.9.18 CPython's leaves 565 objects counted and nine \
     collections of generation 0 (`python3 -I -c 'import gc; print(gc.get_count())'` prints \
     `(565, 9, 0)`); the model's start-up makes only its own few objects. From there both stay \
     flat: each iteration's list comes from the list free list and goes back to it, and the \
     printed tuple from the tuple free list";
const GC_START_3_9_KO: &str = "0세대의 카운트와 스크립트 첫 줄 이전의 수거 횟수는 시작 과정의 \
     몫이다. 3.9.18에서 CPython의 시작 과정은 565개 객체를 세어 두고 0세대 수거를 아홉 번 남긴다\
     (`python3 -I -c 'import gc; print(gc.get_count())'`가 `(565, 9, 0)`을 출력한다). 모델의 시작 \
     과정은 자기 객체 몇 개만 만든다. 그다음부터는 둘 다 평평하다. 매 반복의 리스트는 리스트 자유 \
     목록에서 나와 그리로 돌아가고, 출력되는 튜플은 튜플 자유 목록에서 나온다";

/// One difference.
struct Row {
    program: String,
    version: String,
    line: String,
    cpython: String,
    model: String,
    why: (String, String),
    /// The index of the [`EXPLAINED`] entry that explains it, if one does.
    entry: Option<usize>,
}

/// What the model printed, in a capture's form: normalised output, then the exit status when
/// it is not 0. `Err` names what the model does not run.
fn run_on_model(profile: Profile, experiment: &Path) -> Result<String, String> {
    let source = std::fs::read_to_string(experiment).unwrap();
    let rel = experiment
        .strip_prefix(root())
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let out = python::run_source(profile, &source, &rel).map_err(|e| e.to_string())?;
    let mut body = capture::normalise(&out.stdout);
    if let Some(e) = out.error {
        if let python::RunError::NotModelled { .. } = e {
            return Err(e.to_string());
        }
        body.push_str(&format!("[exit status {}]\n", e.exit_status()));
    }
    Ok(body)
}

fn differences() -> Vec<Row> {
    let mut rows = Vec::new();
    for experiment in capture::experiments(root()) {
        let name = capture::name_of(&experiment);
        for profile in Profile::ALL {
            let (_, minor) = profile.version();
            if ONE_PROFILE.iter().any(|&(p, m)| p == name && m != minor) {
                continue;
            }
            let path = root().join(format!("tests/captures/{name}/3.{minor}.txt"));
            let Ok(recorded) = Capture::load(&path) else {
                continue;
            };
            let version = format!("3.{minor}");
            match run_on_model(profile, &experiment) {
                Err(not_modelled) => rows.push(Row {
                    program: name.clone(),
                    version,
                    line: "—".into(),
                    cpython: "—".into(),
                    model: "—".into(),
                    why: (
                        not_modelled.clone(),
                        format!("아직 모델링하지 않음: {not_modelled}"),
                    ),
                    entry: None,
                }),
                Ok(model) => {
                    let real: Vec<&str> = recorded.body.lines().collect();
                    let ours: Vec<&str> = model.lines().collect();
                    for i in 0..real.len().max(ours.len()) {
                        let (c, m) = (real.get(i).copied(), ours.get(i).copied());
                        if c == m {
                            continue;
                        }
                        let entry = EXPLAINED.iter().position(|(p, vs, line, ..)| {
                            *p == name && vs.contains(&minor) && [0, i + 1].contains(line)
                        });
                        let why = entry
                            .map(|k| (EXPLAINED[k].3.to_string(), EXPLAINED[k].4.to_string()))
                            .unwrap_or_else(|| ("UNEXPLAINED".into(), "UNEXPLAINED".into()));
                        if let Some(last) = rows.last_mut()
                            && last.program == name
                            && last.version == version
                            && last.cpython == c.unwrap_or("(nothing)")
                            && last.model == m.unwrap_or("(nothing)")
                            && last.why == why
                        {
                            // The same difference on consecutive lines: one row, lines a–b.
                            let first = last.line.split('–').next().unwrap_or("").to_string();
                            last.line = format!("{first}–{}", i + 1);
                            continue;
                        }
                        rows.push(Row {
                            program: name.clone(),
                            version: version.clone(),
                            line: (i + 1).to_string(),
                            cpython: c.unwrap_or("(nothing)").to_string(),
                            model: m.unwrap_or("(nothing)").to_string(),
                            why,
                            entry,
                        });
                    }
                }
            }
        }
    }
    rows
}

/// The entries of `explained`, each version of each, that no row uses: `program on 3.X, line
/// N`.
fn unused(explained: &[Explanation], rows: &[Row]) -> Vec<String> {
    let mut out = Vec::new();
    for (k, (program, versions, line, ..)) in explained.iter().enumerate() {
        for minor in *versions {
            let version = format!("3.{minor}");
            if !rows
                .iter()
                .any(|r| r.entry == Some(k) && r.version == version)
            {
                out.push(format!("{program} on {version}, line {line}"));
            }
        }
    }
    out
}

/// The table, in an edition's language.
fn table(rows: &[Row], korean: bool) -> String {
    let mut out = String::from(if korean {
        "| 프로그램 | 버전 | 줄 | CPython | 모델 | 이유 |\n|---|---|---|---|---|---|\n"
    } else {
        "| program | version | line | CPython | model | why |\n|---|---|---|---|---|---|\n"
    });
    let cell = |s: &str| s.replace('|', "\\|");
    for r in rows {
        let why = if korean { &r.why.1 } else { &r.why.0 };
        writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |",
            r.program,
            r.version,
            r.line,
            cell(&code(&r.cpython)),
            cell(&code(&r.model)),
            cell(why)
        )
        .unwrap();
    }
    out
}

fn code(s: &str) -> String {
    if s == "—" || s == "(nothing)" {
        s.to_string()
    } else {
        format!("`{s}`")
    }
}

#[test]
fn every_difference_between_cpython_and_the_model_is_explained() {
    let rows = differences();
    let unexplained: Vec<String> = rows
        .iter()
        .filter(|r| r.why.0 == "UNEXPLAINED")
        .map(|r| {
            format!(
                "{} on {}, line {}: CPython {:?}, model {:?}",
                r.program, r.version, r.line, r.cpython, r.model
            )
        })
        .collect();
    let update = std::env::var_os("MODEL_UPDATE").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (lang, korean) in [("en", false), ("ko", true)] {
        let path = root().join(format!("tests/model/differences.{lang}.md"));
        let fresh = table(&rows, korean);
        let recorded = std::fs::read_to_string(&path).unwrap_or_default();
        if recorded != fresh {
            if update {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &fresh).unwrap();
            } else {
                stale.push(path.display().to_string());
            }
        }
    }
    assert!(
        unexplained.is_empty(),
        "differences with no explanation (add one to EXPLAINED, with its evidence):\n{}",
        unexplained.join("\n")
    );
    let must_match: Vec<String> = rows
        .iter()
        .filter(|r| LINE_FOR_LINE.contains(&r.program.as_str()) && r.version != "3.8")
        .map(|r| {
            format!(
                "{} on {}, line {}: {}",
                r.program, r.version, r.line, r.why.0
            )
        })
        .collect();
    assert!(
        must_match.is_empty(),
        "programs the model must print line for line differ:\n{}",
        must_match.join("\n")
    );
    let unused = unused(EXPLAINED, &rows);
    assert!(
        unused.is_empty(),
        "EXPLAINED explains differences the runs no longer show (remove them):\n{}",
        unused.join("\n")
    );
    assert!(
        stale.is_empty(),
        "the tables changed (MODEL_UPDATE=1 cargo test --test model rewrites them): {}",
        stale.join(", ")
    );
}

#[test]
fn an_explanation_no_difference_uses_is_reported() {
    const TABLE: &[Explanation] = &[("a", &[11, 12], 0, "en", "ko"), ("b", &[13], 3, "en", "ko")];
    let row = |program: &str, version: &str, entry| Row {
        program: program.into(),
        version: version.into(),
        line: "3".into(),
        cpython: "1".into(),
        model: "2".into(),
        why: ("en".into(), "ko".into()),
        entry,
    };
    // Entry 0 explains a row on 3.11 only; the row of b on 3.13 is explained by nothing.
    let rows = [row("a", "3.11", Some(0)), row("b", "3.13", None)];
    assert_eq!(
        unused(TABLE, &rows),
        ["a on 3.12, line 0", "b on 3.13, line 3"]
    );
    let rows = [
        row("a", "3.11", Some(0)),
        row("a", "3.12", Some(0)),
        row("b", "3.13", Some(1)),
    ];
    assert!(unused(TABLE, &rows).is_empty());
}

#[test]
fn the_model_matches_cpython_3_11_where_it_runs_the_blog() {
    // The blog's second puzzle, run on both: the programs the model runs today print what
    // CPython 3.11.7 prints, line for line, once normalised.
    for name in ["refcount_thousand", "refcount_literals", "refcount_one"] {
        let experiment = root().join(format!("examples/python/blog/{name}.py"));
        let recorded =
            Capture::load(&root().join(format!("tests/captures/blog/{name}/3.11.txt"))).unwrap();
        assert_eq!(
            run_on_model(Profile::CPYTHON_3_11, &experiment).unwrap(),
            recorded.body,
            "{name}"
        );
    }
}

/// For each version the model runs the book's programs on: the profile, its minor version,
/// the program at `path`, and the capture of experiment `capture` on that version.
fn beside_captures(path: &str, capture: &str) -> Vec<(Profile, u8, String, Capture)> {
    let source = std::fs::read_to_string(root().join(path)).unwrap();
    [
        Profile::CPYTHON_3_11,
        Profile::CPYTHON_3_12,
        Profile::CPYTHON_3_13,
    ]
    .into_iter()
    .map(|profile| {
        let (_, minor) = profile.version();
        let file = root().join(format!("tests/captures/{capture}/3.{minor}.txt"));
        (
            profile,
            minor,
            source.clone(),
            Capture::load(&file).unwrap(),
        )
    })
    .collect()
}

#[test]
fn the_model_disassembles_the_blog_function_as_cpython_does() {
    // examples/python/puzzle2_dis.py prints `dis.dis` of the function in refcount_thousand.py on
    // each real interpreter; the model's listing of the module ends with the same function's,
    // under its "Disassembly of <code object test ...>:" header.
    let path = "examples/python/blog/refcount_thousand.py";
    for (profile, minor, source, recorded) in beside_captures(path, "puzzle2_dis") {
        let listing = python::dis_source(profile, &source, path).unwrap();
        let (_, function) = listing
            .split_once("Disassembly of <code object test at ")
            .expect("a listing of test");
        let (_, body) = function.split_once('\n').unwrap();
        assert_eq!(body, recorded.body, "3.{minor}");
    }
}

#[test]
fn a_script_and_its_module_count_as_cpython_counts() {
    // examples/python/puzzle2_import.py runs modules/refcount_main.py in a child interpreter and
    // prints its output first; the model runs the same script, importing the module beside it.
    let path = "examples/python/modules/refcount_main.py";
    for (profile, minor, source, recorded) in beside_captures(path, "puzzle2_import") {
        let out = python::run_source(profile, &source, path).unwrap();
        assert_eq!(out.error, None, "3.{minor}");
        assert!(!out.stdout.is_empty());
        assert!(
            recorded.body.starts_with(&out.stdout),
            "3.{minor}: the model printed\n{}",
            out.stdout
        );
    }
}
