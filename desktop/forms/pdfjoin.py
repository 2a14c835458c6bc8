"""Join finished PDFs into one file as they come, holding only one of them in memory.

The office print queue makes one combined PDF of hundreds of packets. A PDF library
that merges documents keeps every page it imported until it saves; this writer instead
copies each packet's objects straight to the output file, renumbered, and remembers only
their byte offsets and the page object numbers. The page tree, catalog, cross-reference
table and trailer are written by :meth:`PdfJoiner.finish`.

It reads only what Sapan's own ReportLab renderer writes: PDF 1.4 or older with one
classic cross-reference table (no cross-reference streams, no incremental updates, no
encryption), stream lengths as direct numbers, and every inheritable page attribute on
the page itself. Anything else is refused with a :class:`PdfJoinError` that says what
it found, rather than copied half-understood.

Objects are tokenised as PDF defines them (names, numbers, literal and hex strings,
arrays, dictionaries, references); only references are rewritten. Stream data and string
literals are copied byte for byte, never scanned for references.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, TypeAlias

HEADER = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
MAX_VERSION = (1, 4)
# Object numbers of the objects the joiner writes itself at the end.
CATALOG, PAGES, INFO = 1, 2, 3
FIRST_COPIED = 4
# The size of a blank page added before any document was appended: A4, in points.
A4_BOX = b"[ 0 0 595.2756 841.8898 ]"

_SKIP = re.compile(rb"(?:[\x00\t\n\x0c\r ]+|%[^\r\n]*)*")
_REGULAR = re.compile(rb"[^\x00\t\n\x0c\r ()<>\[\]{}/%]+")
_NAME = re.compile(rb"/[^\x00\t\n\x0c\r ()<>\[\]{}/%]*")
_HEX = re.compile(rb"<[0-9A-Fa-f\x00\t\n\x0c\r ]*>")
_PAREN = re.compile(rb"[()\\]")
_INTEGER = re.compile(rb"[+-]?[0-9]+")
_XREF_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])")
# Page attributes that a page can inherit from its parent node (ISO 32000-1, 7.7.3.4).
_INHERITABLE = (b"/Resources", b"/MediaBox", b"/CropBox", b"/Rotate")


class PdfJoinError(ValueError):
    """An input PDF is malformed or not Sapan's own output (a bug, not a user's mistake)."""


@dataclass(frozen=True)
class Ref:
    """An indirect reference ``number generation R``."""

    number: int
    generation: int


@dataclass(frozen=True)
class Token:
    """A number, name, keyword, or literal or hex string, kept exactly as written."""

    raw: bytes


# A parsed value: dictionaries keep their keys' raw names (b"/Type") in file order.
Value: TypeAlias = Token | Ref | list["Value"] | dict[bytes, "Value"]


@dataclass(frozen=True)
class PdfObject:
    """One indirect object: its value and, for a stream, the raw (encoded) data."""

    value: Value
    stream: bytes | None = None


# --- lexing and parsing --------------------------------------------------------------


def _tokens(data: bytes, pos: int, stop: tuple[bytes, ...]) -> tuple[list[bytes], int]:
    """Tokens from ``pos`` up to the first keyword in ``stop``; returns them and its end."""
    out: list[bytes] = []
    size = len(data)
    while True:
        pos = _SKIP.match(data, pos).end()  # type: ignore[union-attr]
        if pos >= size:
            raise PdfJoinError(f"object runs past the end of the file (expected {stop[0]!r})")
        char = data[pos : pos + 1]
        if char == b"(":
            end = _literal_string_end(data, pos)
        elif data.startswith((b"<<", b">>"), pos):
            end = pos + 2
        elif char == b"<":
            match = _HEX.match(data, pos)
            if match is None:
                raise PdfJoinError(f"malformed hex string at byte {pos}")
            end = match.end()
        elif char in (b"[", b"]"):
            end = pos + 1
        elif char == b"/":
            end = _NAME.match(data, pos).end()  # type: ignore[union-attr]
        else:
            match = _REGULAR.match(data, pos)
            if match is None:
                raise PdfJoinError(f"unexpected {char!r} at byte {pos}")
            end = match.end()
        token = data[pos:end]
        if token in stop:
            return out, end
        out.append(token)
        pos = end


def _literal_string_end(data: bytes, pos: int) -> int:
    """The index just past the literal string starting at ``pos`` (balanced, escaped)."""
    depth = 0
    index = pos
    while True:
        match = _PAREN.search(data, index)
        if match is None:
            raise PdfJoinError(f"unterminated string at byte {pos}")
        char = match.group()
        index = match.end()
        if char == b"\\":
            index += 1  # the escaped character, whatever it is
        elif char == b"(":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return index


def _parse(tokens: list[bytes]) -> Value:
    """The single value that ``tokens`` spell (an object body)."""
    value, index = _parse_at(tokens, 0)
    if index != len(tokens):
        raise PdfJoinError(f"unexpected {tokens[index]!r} after an object's value")
    return value


def _parse_at(tokens: list[bytes], index: int) -> tuple[Value, int]:
    if index >= len(tokens):
        raise PdfJoinError("an object ends in the middle of a value")
    token = tokens[index]
    if token == b"<<":
        result: dict[bytes, Value] = {}
        index += 1
        while index < len(tokens) and tokens[index] != b">>":
            key = tokens[index]
            if not key.startswith(b"/"):
                raise PdfJoinError(f"dictionary key {key!r} is not a name")
            result[key], index = _parse_at(tokens, index + 1)
        if index >= len(tokens):
            raise PdfJoinError("unterminated dictionary")
        return result, index + 1
    if token == b"[":
        items: list[Value] = []
        index += 1
        while index < len(tokens) and tokens[index] != b"]":
            item, index = _parse_at(tokens, index)
            items.append(item)
        if index >= len(tokens):
            raise PdfJoinError("unterminated array")
        return items, index + 1
    if token in (b">>", b"]"):
        raise PdfJoinError(f"unbalanced {token!r}")
    if (
        index + 2 < len(tokens)
        and tokens[index + 2] == b"R"
        and _INTEGER.fullmatch(token)
        and _INTEGER.fullmatch(tokens[index + 1])
    ):
        return Ref(int(token), int(tokens[index + 1])), index + 3
    return Token(token), index + 1


def _dump(value: Value, remap: Callable[[Ref], int], out: list[bytes]) -> None:
    """Append the PDF syntax of ``value`` to ``out``, references renumbered by ``remap``."""
    if isinstance(value, Token):
        out.append(value.raw)
    elif isinstance(value, Ref):
        out.append(b"%d 0 R" % remap(value))
    elif isinstance(value, list):
        out.append(b"[")
        for item in value:
            _dump(item, remap, out)
        out.append(b"]")
    else:
        out.append(b"<<")
        for key, item in value.items():
            out.append(key)
            _dump(item, remap, out)
        out.append(b">>")


def _refs(value: Value) -> Iterator[Ref]:
    """Every reference inside ``value``, in order."""
    if isinstance(value, Ref):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _refs(item)


# --- reading one PDF -----------------------------------------------------------------


class PdfReader:
    """The objects of one PDF in memory, read through its cross-reference table."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._check_header()
        self.offsets, self.trailer = self._read_xref()
        for key in (b"/Encrypt", b"/Prev", b"/XRefStm"):
            if key in self.trailer:
                raise PdfJoinError(f"trailer has {key.decode()}: not a plain single-revision PDF")
        self._cache: dict[int, PdfObject] = {}

    def _check_header(self) -> None:
        match = re.match(rb"%PDF-(\d)\.(\d)", self.data)
        if match is None:
            raise PdfJoinError("not a PDF file (no %PDF- header)")
        version = (int(match.group(1)), int(match.group(2)))
        if version > MAX_VERSION:
            raise PdfJoinError(f"PDF {version[0]}.{version[1]} is newer than the 1.4 Sapan writes")

    def _read_xref(self) -> tuple[dict[int, int], dict[bytes, Value]]:
        tail = self.data[-1024:]
        found = re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", tail)
        if found is None:
            raise PdfJoinError("no startxref at the end of the file (truncated?)")
        pos = int(found.group(1))
        if not self.data.startswith(b"xref", pos):
            raise PdfJoinError("startxref does not point at an xref table (xref stream?)")
        pos = _SKIP.match(self.data, pos + 4).end()  # type: ignore[union-attr]
        header = re.compile(rb"(\d+) (\d+)[\x00\t\n\x0c\r ]+").match(self.data, pos)
        if header is None or int(header.group(1)) != 0:
            raise PdfJoinError("xref table does not start with one section from object 0")
        count = int(header.group(2))
        pos = header.end()
        offsets: dict[int, int] = {}
        for number in range(count):
            entry = _XREF_ENTRY.match(self.data, pos)
            if entry is None:
                raise PdfJoinError(f"malformed xref entry for object {number}")
            if entry.group(3) == b"n":
                offsets[number] = int(entry.group(1))
            pos = entry.end() + 2  # each entry is 20 bytes with its two-byte end of line
        pos = _SKIP.match(self.data, pos).end()  # type: ignore[union-attr]
        if not self.data.startswith(b"trailer", pos):
            raise PdfJoinError("xref table has more than one section or no trailer")
        tokens, _ = _tokens(self.data, pos + len(b"trailer"), (b"startxref",))
        trailer = _parse(tokens)
        if not isinstance(trailer, dict):
            raise PdfJoinError("trailer is not a dictionary")
        return offsets, trailer

    def get(self, ref: Ref) -> PdfObject:
        """The object ``ref`` points at (parsed once)."""
        cached = self._cache.get(ref.number)
        if cached is not None:
            return cached
        offset = self.offsets.get(ref.number)
        if offset is None or offset >= len(self.data):
            raise PdfJoinError(f"reference to object {ref.number}, which is not in the file")
        head = re.compile(rb"(\d+)[\x00\t\n\x0c\r ]+(\d+)[\x00\t\n\x0c\r ]+obj").match(
            self.data, offset
        )
        if head is None or int(head.group(1)) != ref.number:
            raise PdfJoinError(f"xref offset of object {ref.number} does not point at it")
        tokens, end = _tokens(self.data, head.end(), (b"endobj", b"stream"))
        value = _parse(tokens)
        stream = None
        if self.data[end - 6 : end] == b"stream":
            stream = self._stream(ref.number, value, end)
        result = PdfObject(value, stream)
        self._cache[ref.number] = result
        return result

    def _stream(self, number: int, value: Value, end: int) -> bytes:
        if not isinstance(value, dict):
            raise PdfJoinError(f"stream object {number} has no dictionary")
        length = value.get(b"/Length")
        if not isinstance(length, Token) or not _INTEGER.fullmatch(length.raw):
            raise PdfJoinError(f"stream object {number}: /Length is not a direct number")
        start = end + (2 if self.data.startswith(b"\r\n", end) else 1)
        stop = start + int(length.raw)
        after = _SKIP.match(self.data, stop).end()  # type: ignore[union-attr]
        if not self.data.startswith(b"endstream", after):
            raise PdfJoinError(f"stream object {number}: data does not end at its /Length")
        rest, _ = _tokens(self.data, after + len(b"endstream"), (b"endobj",))
        if rest:
            raise PdfJoinError(f"stream object {number}: unexpected {rest[0]!r} after endstream")
        return self.data[start:stop]

    def dictionary(self, ref: Ref, what: str) -> dict[bytes, Value]:
        """The object ``ref`` as a dictionary, or an error naming ``what`` it should be."""
        value = self.get(ref).value
        if not isinstance(value, dict):
            raise PdfJoinError(f"{what} (object {ref.number}) is not a dictionary")
        return value

    def pages(self) -> tuple[list[Ref], set[int]]:
        """The page objects in order, and the numbers of the page tree's inner nodes."""
        root = self.trailer.get(b"/Root")
        if not isinstance(root, Ref):
            raise PdfJoinError("trailer has no /Root reference")
        catalog = self.dictionary(root, "the catalog")
        top = catalog.get(b"/Pages")
        if not isinstance(top, Ref):
            raise PdfJoinError("catalog has no /Pages reference")
        pages: list[Ref] = []
        nodes: set[int] = {root.number}
        self._walk(top, pages, nodes)
        return pages, nodes

    def _walk(self, ref: Ref, pages: list[Ref], nodes: set[int]) -> None:
        node = self.dictionary(ref, "a page tree node")
        kind = node.get(b"/Type")
        if kind == Token(b"/Page"):
            pages.append(ref)
            return
        if kind != Token(b"/Pages") or ref.number in nodes:
            raise PdfJoinError(f"object {ref.number} in the page tree is not a page or pages node")
        nodes.add(ref.number)
        inherited = [key.decode() for key in _INHERITABLE if key in node]
        if inherited:
            raise PdfJoinError(f"pages node {ref.number} sets inherited {', '.join(inherited)}")
        kids = node.get(b"/Kids")
        if not isinstance(kids, list) or not all(isinstance(k, Ref) for k in kids):
            raise PdfJoinError(f"pages node {ref.number} has no /Kids array of references")
        for kid in kids:
            assert isinstance(kid, Ref)
            self._walk(kid, pages, nodes)


# --- writing the joined PDF ------------------------------------------------------------

# Stands for the joined page tree in a copied page's /Parent (compared by identity, so it
# can never be mistaken for a reference to an input object).
_JOINED_TREE = Ref(-1, 0)


class PdfJoiner:
    """Writes one PDF to ``out`` by appending whole PDFs to it one at a time.

    ``out`` is a binary file opened for writing at its start. Call :meth:`append` for
    each document, then :meth:`finish` once. Memory held between documents: one offset
    per object written and one number per page.
    """

    def __init__(self, out: BinaryIO, title: str = "") -> None:
        self._out = out
        self._title = title
        self._position = 0
        self._offsets: list[int] = [0] * FIRST_COPIED  # index = object number
        self._kids: list[int] = []
        self._box = A4_BOX  # the last page's /MediaBox, for a blank page after it
        self._finished = False
        self._write(HEADER)

    @property
    def page_count(self) -> int:
        """Pages appended so far."""
        return len(self._kids)

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._position += len(data)

    def _begin(self, number: int) -> None:
        self._offsets[number] = self._position
        self._write(b"%d 0 obj\n" % number)

    def append(self, pdf: bytes) -> int:
        """Copy every page of ``pdf`` (and what they use) to the output; returns their count.

        The whole input is checked and parsed before anything is written, so a refused
        input leaves the output as it was.
        """
        if self._finished:
            raise RuntimeError("PdfJoiner.append after finish")
        reader = PdfReader(pdf)
        pages, nodes = reader.pages()
        page_numbers = {ref.number for ref in pages}
        # Everything the pages reach, in discovery order; the page tree and catalog stay
        # behind (a page's /Parent will point at the joined tree instead).
        order: list[int] = []
        new_number: dict[int, int] = {}
        queue = list(pages)
        while queue:
            ref = queue.pop(0)
            if ref.number in new_number:
                continue
            if ref.number in nodes:
                raise PdfJoinError(f"object {ref.number} refers to the page tree or catalog")
            new_number[ref.number] = len(self._offsets) + len(order)
            order.append(ref.number)
            value = reader.get(ref).value
            if ref.number in page_numbers and isinstance(value, dict):
                value = {k: v for k, v in value.items() if k != b"/Parent"}
            queue.extend(_refs(value))

        def remap(ref: Ref) -> int:
            return PAGES if ref is _JOINED_TREE else new_number[ref.number]

        self._offsets.extend([0] * len(order))
        for old in order:
            obj = reader.get(Ref(old, 0))
            value = obj.value
            if old in page_numbers and isinstance(value, dict):
                value = {**value, b"/Parent": _JOINED_TREE}
            parts: list[bytes] = []
            _dump(value, remap, parts)
            self._begin(new_number[old])
            self._write(b" ".join(parts))
            if obj.stream is not None:
                self._write(b"\nstream\n")
                self._write(obj.stream)
                self._write(b"\nendstream")
            self._write(b"\nendobj\n")
        self._kids.extend(new_number[ref.number] for ref in pages)
        if pages:
            last = reader.get(pages[-1]).value
            box = last.get(b"/MediaBox") if isinstance(last, dict) else None
            if box is not None:
                parts = []
                _dump(box, remap, parts)
                self._box = b" ".join(parts)
        return len(pages)

    def append_blank(self) -> None:
        """Add a page with nothing on it, the size of the last page appended (A4 before
        any): printed on both sides of the paper, the next document then starts on the
        front of a sheet of its own."""
        if self._finished:
            raise RuntimeError("PdfJoiner.append_blank after finish")
        number = len(self._offsets)
        self._offsets.append(0)
        self._begin(number)
        self._write(
            b"<< /Type /Page /Parent %d 0 R /MediaBox %s /Resources << >> >>\nendobj\n"
            % (PAGES, self._box)
        )
        self._kids.append(number)

    def finish(self) -> None:
        """Write the page tree, catalog, document info, xref table and trailer."""
        if self._finished:
            return
        self._finished = True
        self._begin(PAGES)
        kids = b" ".join(b"%d 0 R" % number for number in self._kids)
        self._write(
            b"<< /Type /Pages /Count %d /Kids [ %s ] >>\nendobj\n" % (len(self._kids), kids)
        )
        self._begin(CATALOG)
        self._write(b"<< /Type /Catalog /Pages %d 0 R >>\nendobj\n" % PAGES)
        self._begin(INFO)
        title = _pdf_text(self._title)
        self._write(b"<< /Producer (Sapan) /Creator (Sapan) /Title %s >>\nendobj\n" % title)
        start = self._position
        size = len(self._offsets)
        lines = [b"xref\n0 %d\n" % size, b"0000000000 65535 f \n"]
        lines += [b"%010d 00000 n \n" % offset for offset in self._offsets[1:]]
        self._write(b"".join(lines))
        self._write(
            b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (size, CATALOG, INFO, start)
        )


def _pdf_text(value: str) -> bytes:
    """A PDF text string: UTF-16BE with its byte order mark, as a hex string."""
    return b"<" + ("\ufeff" + value).encode("utf-16-be").hex().upper().encode() + b">"
