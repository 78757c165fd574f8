//! `sys.stdout` when the output is a pipe or a file, as the book's captures record it
//! (`Modules/_io/textio.c`'s `TextIOWrapper`, block buffered): what `print` writes waits in
//! `pending_bytes` until 8192 bytes (`chunk_size`) are pending or the stream is flushed.
//!
//! ```text
//!   write(text)   b = text itself when ASCII (a reference), else its UTF-8 bytes
//!     pending_bytes: NULL -> b -> [b0, b1] (PyList_New(2), a GC list) -> [b0, b1, b2, ...]
//!   flush         one bytes object made from them, pending_bytes released, the buffer written
//! ```
//!
//! The objects are the model's: a printed str stays referenced until the flush, the second
//! write in a row makes a list (one GC allocation, from the list free list if it has one), and
//! the flush at exit (`flush_std_files`) releases it all before the last collection. The text
//! itself goes to the program's output at once.

use objects::TypeId;

use crate::error::RunError;
use crate::interp::Interp;

/// `chunk_size`: `_PyIO_DEFAULT_BUFFER_SIZE`.
const CHUNK_SIZE: u64 = 8192;

impl Interp {
    /// `parser_init` of `print`'s `_PyArg_Parser` the first time it parses (3.9 and 3.10 when
    /// called with keywords, 3.11 on every call; 3.12's is static): its `kwtuple` made
    /// (`new_kwtuple`: the tuple, then each name made from its C string and interned, the
    /// interned one kept) and held for the rest of the run.
    pub(crate) fn print_parser_init(&mut self, has_keywords: bool) -> Result<(), RunError> {
        let minor = self.o.layout().minor;
        let parses = match minor {
            ..=10 => has_keywords,
            11 => true,
            _ => false,
        };
        if !parses || self.print_kwtuple != 0 {
            return Ok(());
        }
        let names = ["sep", "end", "file", "flush"];
        let kwtuple = self.o.tuple_new(names.len() as u64)?;
        for (k, name) in names.into_iter().enumerate() {
            if minor >= 11 {
                // The name is one of the static strs start-up interned (_Py_ID): the new str
                // gives way to it.
                self.o.py_id(name)?;
            }
            let made = self.o.unicode_new(name)?;
            let interned = self.o.unicode_intern(made)?;
            self.decref(made)?;
            self.o.tuple_set_item(kwtuple, k, interned)?;
        }
        self.print_kwtuple = kwtuple;
        Ok(())
    }

    /// From 3.11, print's Argument Clinic wrapper gathers its positional arguments into a new
    /// tuple (`_PyArg_UnpackKeywordsWithVararg`: `PyTuple_New(nargs)`, each argument
    /// `Py_INCREF`ed into it), released when `builtin_print_impl` returns (`Py_XDECREF
    /// (__clinic_args)`): one GC allocation, from the tuple free list of that size if it has
    /// one, which it goes back to. `print()` gets `()`, the shared empty tuple. An
    /// interpreter-kept argument (a `range`, an iterator) has no place in the object layer's
    /// memory: its slot stays NULL, which changes no count and no address.
    pub(crate) fn print_pack_varargs(&mut self, args: &[u64]) -> Result<Option<u64>, RunError> {
        if self.o.layout().minor < 11 {
            return Ok(None);
        }
        let varargs = self.o.tuple_new(args.len() as u64)?;
        for (k, &a) in args.iter().enumerate() {
            if !self.is_extra(a) {
                self.incref(a)?;
                self.o.tuple_set_item(varargs, k, a)?;
            }
        }
        Ok(Some(varargs))
    }

    /// `PyFile_WriteObject(v, sys.stdout, Py_PRINT_RAW)`: `str(v)` (the same str for a str, a
    /// new one otherwise), written, then released.
    pub(crate) fn file_write_object(&mut self, v: u64) -> Result<(), RunError> {
        let value = if self.is_extra(v) {
            let text = self.extra_repr(v)?;
            self.o.unicode_new(&text)?
        } else if self.o.type_of(v)? == TypeId::Str {
            self.incref(v)?;
            v
        } else {
            let text = self.o.str_of(v)?;
            self.o.unicode_new(&text)?
        };
        let written = self.textiowrapper_write(value);
        self.decref(value)?;
        written
    }

    /// `PyFile_WriteString(s, sys.stdout)`: `PyUnicode_FromString(s)` (a cached str for one
    /// character), written, then released.
    pub(crate) fn file_write_string(&mut self, s: &str) -> Result<(), RunError> {
        let value = self.o.unicode_from_str(s)?;
        let written = self.textiowrapper_write(value);
        self.decref(value)?;
        written
    }

    /// `_io_TextIOWrapper_write_impl(self, text)`: the text goes to the output; the object
    /// pending for it joins `pending_bytes`; the number of characters written is returned and
    /// released by the caller.
    fn textiowrapper_write(&mut self, text: u64) -> Result<(), RunError> {
        let s = self.o.unicode_text(text)?;
        self.write_stdout(&s);
        let textlen = s.chars().count() as u64;
        let (b, bytes_len) = if s.is_ascii() && textlen <= CHUNK_SIZE {
            self.incref(text)?;
            (text, textlen)
        } else {
            (self.o.bytes_new(s.as_bytes())?, s.len() as u64)
        };
        let pending = self.stdout_pending;
        if pending == 0 {
            self.stdout_pending_count = 0;
            self.stdout_pending = b;
        } else if self.stdout_pending_count + bytes_len > CHUNK_SIZE {
            // Never more than chunk_size bytes joined: what is pending goes first.
            self.textiowrapper_writeflush()?;
            self.stdout_pending = b;
        } else if self.o.type_of(pending)? != TypeId::List {
            let list = self.o.list_new(2)?;
            self.o.list_set(list, 0, pending)?;
            self.o.list_set(list, 1, b)?;
            self.stdout_pending = list;
        } else {
            self.o.list_append(pending, b)?;
            self.decref(b)?;
        }
        self.stdout_pending_count += bytes_len;
        if self.stdout_pending_count >= CHUNK_SIZE {
            self.textiowrapper_writeflush()?;
        }
        // return PyLong_FromSsize_t(textlen), which PyFile_WriteObject releases.
        let n = self.new_int(i128::from(textlen))?;
        self.decref(n)
    }

    /// `_textiowrapper_writeflush`: one bytes object of everything pending (the pending bytes
    /// object itself, or a copy of the pending str or of the list's items), `pending_bytes`
    /// released, then `buffer.write(b)`, whose count of bytes written is released with `b`.
    pub(crate) fn textiowrapper_writeflush(&mut self) -> Result<(), RunError> {
        let pending = std::mem::take(&mut self.stdout_pending);
        if pending == 0 {
            return Ok(());
        }
        let count = std::mem::take(&mut self.stdout_pending_count);
        let b = if self.o.type_of(pending)? == TypeId::Bytes {
            self.incref(pending)?;
            Some(pending)
        } else if count <= 1 {
            // PyBytes_FromStringAndSize of one byte (or none): a statically allocated object.
            None
        } else {
            let mut data = Vec::with_capacity(count as usize);
            let parts = self.seq_items(pending)?.unwrap_or_else(|| vec![pending]);
            for part in parts {
                if self.o.type_of(part)? == TypeId::Bytes {
                    data.extend(self.o.bytes_data(part)?);
                } else {
                    data.extend(self.o.unicode_text(part)?.as_bytes());
                }
            }
            Some(self.o.bytes_new(&data)?)
        };
        self.decref(pending)?;
        // BufferedWriter.write: PyLong_FromSsize_t(written).
        let written = self.new_int(i128::from(count))?;
        self.decref(written)?;
        if let Some(b) = b {
            self.decref(b)?;
        }
        Ok(())
    }
}
