"""Reading a brand's CSV: UTF-8 (a BOM is fine) unless told otherwise, a header row that names the
columns, streamed with progress on the terminal so a file of millions of rows is never held whole."""
from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

_SNIFF_BYTES = 1 << 20
MAX_ROW_BYTES = 64 << 20


class FileProblem(Exception):
    """The file as a whole cannot be read (missing, wrong encoding, wrong header)."""


def _looks_like_gbk(sample: bytes) -> bool:
    try:
        sample.decode("gb18030")
    except UnicodeDecodeError:
        return False
    return True


def check_encoding(path: Path, encoding: str) -> str:
    """The codec to read with. UTF-8 files that are not UTF-8 are refused with a hint, since
    Chinese POS exports are often GBK (and would otherwise load as mojibake)."""
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise FileProblem(f"unknown encoding {encoding!r}") from None
    if codec != "utf-8":
        return codec
    with path.open("rb") as f:
        sample = f.read(_SNIFF_BYTES)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=len(sample) < _SNIFF_BYTES)
    except UnicodeDecodeError:
        if _looks_like_gbk(sample[: sample.rfind(b"\n") + 1] or sample):
            raise FileProblem("the file is not UTF-8; it looks like GBK (common in exports from Chinese "
                              "POS systems): convert it to UTF-8 or pass --encoding gbk") from None
        raise FileProblem("the file is not UTF-8 text; pass --encoding if it is in another encoding") from None
    return "utf-8-sig"  # accepts a BOM


def blocks(path: Path, encoding: str, *, progress: bool, size: int) -> Iterator[tuple[str, int, bytes]]:
    """The file in blocks of about `size` bytes that end where a row ends: (codec, number of the
    block's first line, its bytes), for parse() to read, here or in another process. A newline
    ends a row unless it is inside quotes, i.e. after an odd number of quote characters (the
    bytes of a newline and a quote never occur inside a character in UTF-8, GBK or GB18030). A
    stray quote inside an unquoted field can mislead the count; the block then ends inside a
    quoted field and parse() reports it as malformed, never as other rows."""
    codec = check_encoding(path, encoding)
    with path.open("rb") as raw, tqdm(total=os.path.getsize(path), unit="B", unit_scale=True, desc=path.name,
                                      disable=not progress, leave=False) as bar:
        line, rest = 1, b""
        while data := raw.read(size):
            bar.update(len(data))
            data = rest + data
            end = data.rfind(b"\n")
            while end >= 0 and data.count(b'"', 0, end) % 2:
                end = data.rfind(b"\n", 0, end)
            if end < 0:  # one row longer than a block
                if len(data) > MAX_ROW_BYTES:
                    raise FileProblem(f"line {line}: a row runs on for more than {MAX_ROW_BYTES >> 20} MiB "
                                      "(a quote that is never closed?)")
                rest = data
                continue
            block, rest = data[:end + 1], data[end + 1:]
            yield codec, line, block
            line += block.count(b"\n")
            codec = "utf-8" if codec == "utf-8-sig" else codec  # a BOM only at the start
        if rest:
            yield codec, line, rest


def parse(codec: str, line: int, block: bytes) -> list[tuple[int, list[str]]]:
    """(line number, fields) of each row of a block, blank lines left out. Line numbers count
    physical lines, so a quoted field with a newline keeps them true."""
    try:
        text = block.decode(codec)
    except UnicodeDecodeError as bad:
        at = line + block.count(b"\n", 0, bad.start)
        shown = "UTF-8" if codec.startswith("utf-8") else codec  # utf-8-sig is our name for UTF-8 with a BOM
        raise FileProblem(f"line {at}: not valid {shown} text") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    found: list[tuple[int, list[str]]] = []
    read = 0
    try:
        for fields in reader:
            if fields and fields != [""]:
                found.append((line + read, fields))
            read = reader.line_num
    except csv.Error as exc:
        raise FileProblem(f"line {line + reader.line_num - 1}: malformed CSV ({exc})") from None
    return found
