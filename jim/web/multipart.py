# -*- test-case-name: tests.test_web_multipart -*-
"""An upload's file, read out of a ``multipart/form-data`` body (reference section 1.3) with
python-multipart's streaming parser: the body is read in pieces and the file's bytes are
handed on as they come, never held whole.

The file is the first part whose ``Content-Disposition`` has a ``filename``, whatever its
field name (Python, PHP and C# name it ``filename``, Java after the type). Its name is kept
for display only: any folder a client put in it (Java sends the whole local path, with ``/``
or ``\\``) is dropped. This runs on a worker thread.
"""
import re

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from jim import errors
from jim.errors import JimError

#: bytes read from the body at a time
READ_BYTES = 64 * 1024
#: the longest file name kept (characters)
MAX_NAME = 255
_FOLDERS = re.compile(r".*[/\\]", re.S)
#: control characters, and the bidirectional controls that make a name show another
#: extension than its own ("invoice\u202egpj.exe" shows as "invoiceexe.jpg")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def bad(detail):
    return JimError(errors.BAD_REQUEST, detail)


def file_name(raw):
    """The display name of a part's C{filename} (bytes as sent): UTF-8 (else Latin-1), the
    last part of a path, without control characters (bidirectional ones included), at most
    L{MAX_NAME} characters."""
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        name = raw.decode("latin-1")
    name = _CONTROLS.sub("", _FOLDERS.sub("", name))
    return name[:MAX_NAME]


def copy_file_part(source, content_type, write, read_bytes=READ_BYTES):
    """Read the multipart body in C{source} (a binary file) whose C{Content-Type} header is
    C{content_type} (bytes or None), handing the first file part's bytes to C{write} as they
    are parsed; the file's name (L{file_name}).

    @raise JimError: BAD_REQUEST for a body that is not multipart/form-data, is malformed or
        cut short, or has no file part (and whatever C{write} raises).
    """
    mime, options = parse_options_header(content_type or b"")
    boundary = options.get(b"boundary")
    if mime != b"multipart/form-data" or not boundary:
        raise bad("an upload is a multipart/form-data body with one file part")
    part = _FilePart(write)
    try:
        parser = MultipartParser(boundary, part.callbacks())
        while True:
            data = source.read(read_bytes)
            if not data:
                break
            parser.write(data)
        parser.finalize()
    except FormParserError as e:
        raise bad(f"the multipart body is malformed: {e}") from None
    if not part.ended:
        raise bad("the multipart body ends before its closing boundary")
    if part.name is None:
        raise bad("the multipart body has no file part (one with a filename)")
    return part.name


class _FilePart:
    """The parser's callbacks: they find the first file part and pass its bytes on."""

    def __init__(self, write):
        self._write = write
        self._field = []
        self._value = []
        self._headers = {}
        self._copying = False
        self.name = None  # the file part's name, once it was found
        self.ended = False

    def callbacks(self):
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._field.append(data[start:end]),
            "on_header_value": lambda data, start, end: self._value.append(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self):
        self._headers = {}

    def _header_end(self):
        name = b"".join(self._field).strip().lower()
        self._headers[name] = b"".join(self._value).strip()
        self._field, self._value = [], []

    def _headers_finished(self):
        if self.name is not None:
            return  # a file part was found before: the others are ignored
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if b"filename" in options:
            self.name = file_name(options[b"filename"])
            self._copying = True

    def _part_data(self, data, start, end):
        if self._copying:
            self._write(data[start:end])

    def _part_end(self):
        self._copying = False

    def _end(self):
        self.ended = True
