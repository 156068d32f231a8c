"""Import CSVs for ``neo4j-admin database import``, written column by column.

:func:`chunk_columns` renders one validated chunk as columns of CSV fields: the
counterpart of :func:`ingest.loader.prepare_rows` (same keys, hashes, ids and
values) without a dict per row or a formatting call per cell. :func:`csv_text`
joins such columns into CSV text exactly as :mod:`csv` writes it, quoting only the
columns that need it, and :class:`CsvFiles` appends it to one header + data file
pair per node label or relationship type (:class:`ImportFile`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, cast

import pandas as pd

from ingest.rows import NA_TEXT, canonical_parts, hashes_of_parts, key_strings, uid_strings
from ingest.tables import RelMap, TableSpec

__all__ = ["ChunkColumns", "CsvFiles", "ImportFile", "chunk_columns", "csv_text", "present", "take"]


def _quote(v: str) -> str:
    """A CSV field: quoted (inner quotes doubled) when it holds a comma, a quote or a line break.

    >>> _quote("plain"), _quote('say "hi", then go')
    ('plain', '"say ""hi"", then go"')
    """
    if "," in v or '"' in v or "\n" in v or "\r" in v:
        return '"' + v.replace('"', '""') + '"'
    return v


def _quote_column(col: Sequence[str]) -> Sequence[str]:
    """``col`` with :func:`_quote` applied; ``col`` itself when no field needs quoting (one scan)."""
    joined = "\x1f".join(col)
    if "," in joined or '"' in joined or "\n" in joined or "\r" in joined:
        return [_quote(v) for v in col]
    return col


def csv_text(cols: Sequence[Sequence[str]], tail: Sequence[str] = ()) -> tuple[str, bool]:
    """CSV text of the rows ``zip(*cols)``, each followed by the constant fields ``tail``.

    Returns the text (``\\r\\n`` line ends, as :mod:`csv` writes) and whether some
    field holds a line break (the importer then needs ``--multiline-fields``).
    Fields are ``str`` (an empty one is a missing property). Rows are joined with
    plain ``str.join``; quoting is decided after the fact: each row holds exactly
    ``len(cols) - 1`` commas and one ``\\r\\n`` of its own (plus what the tail holds),
    so when the text counts no more commas, quotes and line-break characters than
    that, no field needs quoting; otherwise only the columns that do are quoted.
    The text is the one :func:`csv.writer` writes (default dialect; rows of two fields or more).

    >>> csv_text([["a", "b"], ["1.5", ""]], ["src"])
    ('a,1.5,src\\r\\nb,,src\\r\\n', False)
    >>> csv_text([["x,y", 'q"r', "l\\nm"]])
    ('"x,y"\\r\\n"q""r"\\r\\n"l\\nm"\\r\\n', True)
    """
    n = len(cols[0]) if cols else 0
    if n == 0:
        return "", False
    end = "".join("," + _quote(t) for t in tail) + "\r\n"
    text = end.join(map(",".join, zip(*cols, strict=True))) + end
    plain = (text.count(",") == n * (len(cols) - 1 + end.count(","))
             and text.count('"') == n * end.count('"')
             and text.count("\n") == n * end.count("\n")
             and text.count("\r") == n * end.count("\r"))
    if plain:  # no field holds a line break, unless a tail field does
        return text, "\n" in end[:-2] or "\r" in end[:-2]
    text = end.join(map(",".join, zip(*map(_quote_column, cols), strict=True))) + end
    return text, text.count("\n") != n or text.count("\r") != n


@dataclass
class ImportFile:
    """One header + data file pair for ``--nodes`` or ``--relationships``."""

    kind: Literal["nodes", "relationships"]
    name: str  # label(s) or relationship type
    header_path: Path
    data_path: Path
    rows: int = 0

    @property
    def argument(self) -> str:
        """``--nodes=Label=header.csv,data.csv`` (or ``--relationships=TYPE=...``)."""
        return f"--{self.kind}={self.name}={self.header_path},{self.data_path}"


class CsvFiles:
    """Open data files lazily, one per (kind, name, start label); write their headers once."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.files: dict[str, ImportFile] = {}
        self._handles: dict[str, IO[str]] = {}
        self.multiline = False

    def _open(self, slot: str, kind: Literal["nodes", "relationships"], name: str, header: list[str]) -> None:
        if slot not in self._handles:
            hp, dp = self.folder / f"{slot}.header.csv", self.folder / f"{slot}.csv"
            with hp.open("w", encoding="utf-8", newline="") as h:
                csv.writer(h).writerow(header)
            self._handles[slot] = dp.open("w", encoding="utf-8", newline="")
            self.files[slot] = ImportFile(kind, name, hp, dp)

    def write(self, slot: str, kind: Literal["nodes", "relationships"], name: str, header: list[str],
              rows: Iterable[Sequence[str]]) -> None:
        """Append ``rows`` (sequences of ``str``) to the slot's data file (small files: run, meta ...)."""
        rows = rows if isinstance(rows, list) else list(rows)
        self.write_columns(slot, kind, name, header, [list(c) for c in zip(*rows, strict=True)])

    def write_columns(self, slot: str, kind: Literal["nodes", "relationships"], name: str, header: list[str],
                      cols: Sequence[Sequence[str]], tail: Sequence[str] = ()) -> None:
        """Append the rows ``zip(*cols)`` + ``tail`` (:func:`csv_text`) to the slot's data file."""
        self._open(slot, kind, name, header)
        if not cols or not len(cols[0]):
            return
        text, multiline = csv_text(cols, tail)
        self.multiline = self.multiline or multiline
        self._handles[slot].write(text)
        self.files[slot].rows += len(cols[0])

    def close(self) -> None:
        for f in self._handles.values():
            f.close()
        self._handles.clear()


@dataclass
class ChunkColumns:
    """One validated chunk as columns of CSV fields: the CSV path's counterpart of
    :func:`ingest.rows.prepare_rows` (same keys, hashes, ids and values), one list per field.

    ``k``, ``h``, ``u`` and the ``cells`` of the stored columns are ``str`` (a missing
    value is ``""``); the ids ``a``, ``b`` and the start type ``t`` are ``None`` where missing.
    """

    rows: int
    k: Sequence[str]
    h: Sequence[str]
    a: Sequence[str | None]
    b: Sequence[str | None]
    t: Sequence[str | None]
    u: Sequence[str]
    cells: dict[str, Sequence[str]]


#: Key column kinds whose ``key_strings`` text is their canonical text (months: its first 7 characters).
_TEXT_KINDS = frozenset({"str", "uscc", "id", "enum"})


def chunk_columns(df: pd.DataFrame, spec: TableSpec, *, source: str) -> ChunkColumns:
    """The fields of one validated chunk of the table ``spec``, column by column.

    Each contract column is rendered once (:func:`ingest.rows.canonical_parts`):
    its canonical text is the row hash's input, the CSV field (dates ``YYYY-MM-DD``,
    floats ``repr``, booleans ``true``/``false``, ``""`` where missing) and, for
    identity columns, the part of the key (as :func:`ingest.rows.key_strings`
    makes it) and of the ``uid`` (:func:`ingest.rows.uid_strings`). No per-row
    dict and no per-cell formatting.

    >>> from ingest.tables import TABLES
    >>> df = pd.DataFrame({"supplier_uscc": ["A"], "buyer_uscc": ["B"], "annual_value": [2.0],
    ...                    "start": pd.to_datetime(["2023-01-01"]), "end": pd.to_datetime([None])})
    >>> c = chunk_columns(df, TABLES["supply"], source="p1")
    >>> c.k, c.u, c.a, c.b, c.t, c.cells["annual_value"], c.cells["end"]
    (['2023-01-01'], ['A|B|2023-01-01'], ['A'], ['B'], [None], ['2.0'], [''])
    """
    g = spec.graph
    start = g.start if isinstance(g, RelMap) else g.parent
    end = g.end if isinstance(g, RelMap) else None
    identity = spec.identity
    n = len(df)
    parts: dict[str, tuple[list[str], list[bool] | None]] = {
        c: canonical_parts(df[c]) if c in df.columns else ([NA_TEXT] * n, [True] * n)
        for c in spec.column_names
    }

    def cells(c: str) -> Sequence[str]:
        texts, mask = parts[c]
        return texts if mask is None else ["" if m else t for t, m in zip(texts, mask, strict=True)]

    def ids(c: str | None) -> Sequence[str | None]:
        if c is None:
            return [None] * n
        texts, mask = parts[c]
        return texts if mask is None else [None if m else t for t, m in zip(texts, mask, strict=True)]

    def key() -> Sequence[str]:
        cols: list[Sequence[str]] = []
        for c in identity:
            kind = spec.column(c).kind
            if c not in df.columns:
                cols.append([""] * n)
            elif kind in ("date", "month") and pd.api.types.is_datetime64_any_dtype(df[c].dtype):
                texts = cells(c)
                cols.append([t[:7] for t in texts] if kind == "month" else texts)
            elif kind in _TEXT_KINDS and pd.api.types.infer_dtype(df[c], skipna=True) in ("string", "empty"):
                cols.append(cells(c))
            else:  # not a validated frame's dtype: the loader's own rendering
                return key_strings(df, spec, identity)
        return cols[0] if len(cols) == 1 else list(map("|".join, zip(*cols, strict=True)))

    k = key()
    a = ids(start.column)
    b = ids(end.column if end is not None else None)
    return ChunkColumns(
        rows=n,
        k=k,
        h=hashes_of_parts([p[0] for p in parts.values()], source=source, rows=n),
        a=a,
        b=b,
        t=ids(start.type_column),
        u=_uids(a, b, k) if spec.is_relationship else [],
        cells={c: cells(c) for c in spec.stored},
    )


def _uids(a: Sequence[str | None], b: Sequence[str | None], k: Sequence[str]) -> list[str]:
    """:func:`ingest.rows.uid_strings`, joined directly when no id is missing (both are required)."""
    if None in a or None in b:
        return uid_strings(a, b, k)
    return list(map("|".join, zip(cast(Sequence[str], a), cast(Sequence[str], b), k, strict=True)))


def present(ids: Sequence[str | None], known: set[str] | None = None) -> list[int] | None:
    """Positions of the ids that are not ``None`` (and in ``known``, if given); ``None``: all of them."""
    if None not in ids and (known is None or known.issuperset(ids)):
        return None
    return [i for i, v in enumerate(ids) if v is not None and (known is None or v in known)]


def take(col: Sequence[Any], keep: list[int] | None) -> Sequence[Any]:
    """``col`` at the positions ``keep`` (all of it when ``None``)."""
    return col if keep is None else [col[i] for i in keep]
