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


def rows(path: Path, encoding: str, *, progress: bool) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) for every row after the header, the header itself first (line 1).
    Line numbers count physical lines, so a quoted field with a newline keeps them true."""
    codec = check_encoding(path, encoding)
    size = os.path.getsize(path)
    with path.open("rb") as raw, tqdm(total=size, unit="B", unit_scale=True, desc=path.name,
                                      disable=not progress, leave=False) as bar:
        text = io.TextIOWrapper(io.BufferedReader(_Counting(raw, bar), 1 << 16), encoding=codec, newline="")
        reader = csv.reader(text, strict=True)
        line = 0
        try:
            for fields in reader:
                line_start, line = line + 1, reader.line_num
                yield line_start, fields
        except UnicodeDecodeError:
            raise FileProblem(f"line {line + 1}: not valid {codec} text") from None
        except csv.Error as exc:
            raise FileProblem(f"line {reader.line_num}: malformed CSV ({exc})") from None


class _Counting(io.RawIOBase):
    """Feeds tqdm the bytes read, so the bar follows the file, not a row count we do not know."""

    def __init__(self, raw, bar: tqdm) -> None:
        self._raw, self._bar = raw, bar

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._raw.readinto(buffer)
        self._bar.update(n or 0)
        return n
