//! The interpreter's image: objects CPython allocates statically, in `libpython`'s data segment,
//! rather than through the allocator.
//!
//! ```text
//!  IMAGE_BASE (above the mmap area, where the dynamic loader put libpython3.X.so)
//!  +--------------------+------+------+-------+----+---------------------+------------------+
//!  | PyTypeObjects      | None | True | False | () | small ints -5..256  | '' and latin-1   |
//!  +--------------------+------+------+-------+----+---------------------+------------------+
//!                                                  3.8, 3.11+ only       3.11+ only
//! ```
//!
//! Which objects are static depends on the version:
//!
//! * the types, `None`, `True` and `False`: every version;
//! * small ints: 3.8 (`static PyLongObject small_ints[]` in longobject.c) and 3.11+
//!   (`_PyRuntime.static_objects.singletons.small_ints`); 3.9 and 3.10 allocate them with
//!   `_PyLong_New(1)` at start-up, so there they are pymalloc blocks (see [`crate::space`]);
//! * `()`, `''` and the one-character latin-1 strings: 3.11+ (`_Py_SINGLETON`); before, they are
//!   ordinary heap objects held by caches.
//!
//! The image is not a mapping of the simulated address space: its pages are libpython's, which
//! the model does not count in RSS, and reads of it are answered from these objects.

use crate::hash::AddrMap;

use crate::heavy::{Body, Digits, Heavy, StrData};
use crate::layout::{Layout, NSMALLNEGINTS, NSMALLPOSINTS};
use crate::types::TypeId;

/// Where the image starts: above `pymalloc::MMAP_BASE`, where nothing is ever mapped.
pub const IMAGE_BASE: u64 = 0x7f3c_8a80_0000;
const _: () = assert!(pymalloc::MMAP_BASE < IMAGE_BASE);
/// Where the interpreter state keeps generation 0's list head (`gcstate->generations[0].head`,
/// a `PyGC_Head`), just below the image's objects.
pub const GEN0_HEAD: u64 = IMAGE_BASE - 0x100;
/// Where the `PyMethodDef`s of built-in functions lie (32 bytes each).
pub const METHOD_DEFS: u64 = IMAGE_BASE - 0x10_0000;
/// Where `Py_EMPTY_KEYS` (`empty_keys_struct`, the keys every new dict starts with) lies.
pub const EMPTY_KEYS: u64 = IMAGE_BASE - 0x200;
/// `sizeof(PyTypeObject)` on 64-bit 3.11, used as the spacing of the static types.
const TYPE_STRIDE: u64 = 0x1a0;

/// A static object: its count and contents.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct StaticObj {
    pub(crate) refcnt: u64,
    pub(crate) heavy: Heavy,
    /// Bytes it occupies.
    pub(crate) size: u64,
}

/// The image's objects and the addresses the object layer needs by name.
#[derive(Debug)]
pub(crate) struct Image {
    /// By address: every object layer operation on a static object finds it here.
    pub(crate) objects: AddrMap<StaticObj>,
    /// The objects' addresses in order (they are placed one after another), for `object_at`.
    starts: Vec<u64>,
    next: u64,
    pub(crate) none: u64,
    pub(crate) true_: u64,
    pub(crate) false_: u64,
    /// `()` on 3.11+.
    pub(crate) empty_tuple: Option<u64>,
    /// `-5..=256` on 3.8 and 3.11+.
    pub(crate) small_ints: Option<u64>,
    /// `''` then the 256 latin-1 characters, on 3.11+: their addresses.
    pub(crate) strings: Option<Vec<u64>>,
}

impl Image {
    /// The image of `layout`'s version, every object at its start-up count.
    pub(crate) fn new(layout: Layout) -> Image {
        let mut image = Image {
            objects: AddrMap::default(),
            starts: Vec::new(),
            next: IMAGE_BASE,
            none: 0,
            true_: 0,
            false_: 0,
            empty_tuple: None,
            small_ints: None,
            strings: None,
        };
        let base = layout.static_refcnt_base();
        // The types, None, True and False are static on every version, but only 3.12 makes them
        // immortal: before, they start at 1 (`PyObject_HEAD_INIT`) and count like any object.
        // 3.11's 999999999 is for its runtime singletons alone (`_PyObject_IMMORTAL_INIT`:
        // small ints, one-character strings, `''`, `()`, the `_Py_ID` strings). Measured on
        // 3.11.7: `sys.getrefcount(None)` is about 5,500, `True` 408, `int` 99.
        let head = if layout.has_immortal_objects() {
            base
        } else {
            1
        };
        for ty in TypeId::ALL {
            image.place(TypeId::Type, Body::Type(ty), TYPE_STRIDE, head);
        }
        image.none = image.place(TypeId::NoneType, Body::Bare, 16, head);
        image.true_ = image.place(TypeId::Bool, Body::Bool(true), 32, head);
        image.false_ = image.place(TypeId::Bool, Body::Bool(false), 32, head);
        if layout.minor >= 11 {
            image.empty_tuple = Some(image.place(TypeId::Tuple, Body::Tuple(vec![]), 24, base));
        }
        if layout.minor == 8 || layout.minor >= 11 {
            // 3.8: PyObject_INIT gives each a count of 1, which the array keeps.
            let count = if layout.minor == 8 { 1 } else { base };
            let first = image.next;
            for v in -NSMALLNEGINTS..NSMALLPOSINTS {
                let body = Body::Int(Digits::from_i128(i128::from(v)));
                image.place(TypeId::Int, body, 32, count);
            }
            image.small_ints = Some(first);
        }
        if layout.minor >= 11 {
            let mut strings = vec![image.place_str(layout, "", base)];
            for c in 0..=255u8 {
                strings.push(image.place_str(layout, &char::from(c).to_string(), base));
            }
            image.strings = Some(strings);
        }
        image
    }

    fn place(&mut self, ty: TypeId, body: Body, size: u64, refcnt: u64) -> u64 {
        let addr = self.next;
        self.next += size.next_multiple_of(16);
        let heavy = Heavy { ty, body };
        self.starts.push(addr);
        self.objects.insert(
            addr,
            StaticObj {
                refcnt,
                heavy,
                size,
            },
        );
        addr
    }

    /// A static, interned str placed after the image's other objects (a `_Py_ID` string).
    pub(crate) fn place_static_str(&mut self, layout: Layout, text: &str) -> u64 {
        let op = self.place_str(layout, text, layout.static_refcnt_base());
        if let Some(StaticObj {
            heavy: Heavy {
                body: Body::Str(d), ..
            },
            ..
        }) = self.objects.get_mut(&op)
        {
            d.interned = if layout.minor >= 12 { 3 } else { 2 };
        }
        op
    }

    /// A static str: `{PyASCIIObject; uint8_t data[len + 1]}` or its compact latin-1 twin.
    fn place_str(&mut self, layout: Layout, text: &str, refcnt: u64) -> u64 {
        let mut data = StrData::new(text);
        data.utf8 = !data.ascii && layout.minor >= 12;
        let header = if data.ascii {
            layout.ascii_header()
        } else {
            layout.compact_header()
        };
        let size = header + data.length + 1;
        self.place(TypeId::Str, Body::Str(data), size, refcnt)
    }

    /// The address of the static type object of `ty`.
    pub(crate) fn type_addr(ty: TypeId) -> u64 {
        IMAGE_BASE + ty.index() as u64 * TYPE_STRIDE
    }

    /// The built-in type whose static type object is at `addr`.
    pub(crate) fn type_at(addr: u64) -> Option<TypeId> {
        let offset = addr.checked_sub(IMAGE_BASE)?;
        if !offset.is_multiple_of(TYPE_STRIDE) {
            return None;
        }
        TypeId::ALL.get((offset / TYPE_STRIDE) as usize).copied()
    }

    /// Whether `addr` is inside the image.
    pub(crate) fn contains(&self, addr: u64) -> bool {
        (IMAGE_BASE..self.next).contains(&addr)
    }

    /// The static object covering `addr`.
    pub(crate) fn object_at(&self, addr: u64) -> Option<(u64, &StaticObj)> {
        let start = self.starts[..self.starts.partition_point(|&s| s <= addr)].last()?;
        let obj = &self.objects[start];
        (addr < start + obj.size).then_some((*start, obj))
    }

    /// The address of small int `v`, where the image holds it.
    pub(crate) fn small_int(&self, v: i64) -> Option<u64> {
        let first = self.small_ints?;
        Some(first + (v + NSMALLNEGINTS) as u64 * 32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pymalloc::Profile;

    #[test]
    fn types_round_trip_and_versions_differ_in_what_is_static() {
        for ty in TypeId::ALL {
            assert_eq!(Image::type_at(Image::type_addr(ty)), Some(ty));
        }
        let l11 = Image::new(Layout::new(Profile::CPYTHON_3_11));
        assert!(l11.empty_tuple.is_some() && l11.strings.is_some());
        let one = l11.small_int(1).unwrap();
        assert_eq!(l11.objects[&one].refcnt, 999_999_999);
        assert_eq!(
            l11.objects[&l11.none].refcnt, 1,
            "None counts like any object on 3.11"
        );
        let l12 = Image::new(Layout::new(Profile::CPYTHON_3_12));
        assert_eq!(l12.objects[&l12.none].refcnt, 4_294_967_295);
        let l10 = Image::new(Layout::new(Profile::CPYTHON_3_10));
        assert!(l10.small_ints.is_none() && l10.strings.is_none());
        let l8 = Image::new(Layout::new(Profile::CPYTHON_3_8));
        assert_eq!(l8.objects[&l8.small_int(1).unwrap()].refcnt, 1);
    }
}
