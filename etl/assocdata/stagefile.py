"""Read one file into staging rows: the function the ingest's worker processes run.

It reads only header blocks (plus the few spectral/temporal table columns whose
range ObsCore needs), runs the WCS pre-check, and returns the rows already
encoded in PostgreSQL's COPY text format, so that the parent process, which
owns the database connection, only concatenates bytes: the expensive work is
spread over the workers.

Nothing here raises for bad input: every failure becomes a ``Problem`` (a reject
row) naming the file, the HDU and the keyword when known.
"""

from __future__ import annotations

import json
import traceback
from dataclasses import dataclass, field

import orjson

from . import cards, columns, fitsfile, isolation, wcscheck
from .records import HDURecord, Problem


@dataclass(frozen=True, slots=True)
class FileTask:
    """What a worker needs to stage one file."""

    catalogue: str
    relpath: str
    path: str
    size: int
    mtime_ns: int
    #: HDUs whose WCS pre-check killed a worker on an earlier attempt -> crash detail.
    wcs_crashed: tuple[tuple[int, str], ...] = ()

    # Pickled once per file each way: dataclasses' own slots pickling calls
    # fields() every time, which cost the parent more than the rest of a file.
    def __getstate__(self) -> tuple[object, ...]:
        return (self.catalogue, self.relpath, self.path, self.size, self.mtime_ns,
                self.wcs_crashed)

    def __setstate__(self, state: tuple[object, ...]) -> None:
        for name, value in zip(_TASK_FIELDS, state):
            object.__setattr__(self, name, value)


@dataclass(slots=True)
class StagedFile:
    """The rows of one file, ready for COPY (``hdu_rows`` lack the leading file_id)."""

    task: FileTask
    header_hash: str | None = None
    status: str = "staged"
    n_hdus: int | None = None
    hdu_rows: list[bytes] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    header_bytes: int = 0

    def __getstate__(self) -> tuple[object, ...]:
        return (self.task, self.header_hash, self.status, self.n_hdus, self.hdu_rows,
                self.problems, self.header_bytes)

    def __setstate__(self, state: tuple[object, ...]) -> None:
        (self.task, self.header_hash, self.status, self.n_hdus, self.hdu_rows,
         self.problems, self.header_bytes) = state  # type: ignore[assignment]


_TASK_FIELDS = ("catalogue", "relpath", "path", "size", "mtime_ns", "wcs_crashed")
NULL = "\\N"


def copy_text(value: str | None) -> str:
    """A value in COPY text format (NUL bytes never reach here: see _clean).

    Chained str.replace, guarded by a scan: ~50x faster than str.translate on
    the 9 KB headers of the hot path, which almost never contain any of these.
    """
    if value is None:
        return NULL
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\t" in value:
        value = value.replace("\t", "\\t")
    if "\n" in value:
        value = value.replace("\n", "\\n")
    if "\r" in value:
        value = value.replace("\r", "\\r")
    return value


def _int(value: int | None) -> str:
    return NULL if value is None else str(value)


def _clean(text: str, hdu: int, problems: list[Problem]) -> str:
    """PostgreSQL text cannot hold NUL: replace it, and say so."""
    if "\x00" in text:
        problems.append(Problem("nul-byte", "header contains NUL bytes (replaced by U+FFFD)", hdu))
        return text.replace("\x00", "\ufffd")
    return text


#: The fallback for what orjson refuses: integers beyond 64 bits (FITS allows
#: any size).  One encoder for every call: json.dumps() with options builds a
#: new one each time.
_ENCODER = json.JSONEncoder(ensure_ascii=True, check_circular=False, allow_nan=False,
                            separators=(",", ":"))


def _json(value: object) -> str:
    """JSON text of a keyword map or column list, for a jsonb column.

    orjson: 2.8 instead of 25.7 us for a header's keywords (the corpus's
    average), half of an HDU's COPY encoding.  Values are never NaN or Inf (the
    card parser rejects them), which orjson would write as null.
    """
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return _ENCODER.encode(value)


def encode_hdu(hdu: HDURecord) -> bytes:
    """One staging.hdu row (all columns but file_id) in COPY text format."""
    naxis = "{" + ",".join(str(n) for n in hdu.naxis) + "}"
    fields = [
        str(hdu.index),
        copy_text(hdu.xtension),
        copy_text(hdu.extname),
        _int(hdu.bitpix),
        naxis,
        str(hdu.header_offset),
        str(hdu.data_offset),
        str(hdu.data_size),
        copy_text(hdu.header_text),
        copy_text(_json(hdu.keywords)),
        copy_text(_json(hdu.duplicates)) if hdu.duplicates else NULL,
        copy_text(_json([c.as_json() for c in hdu.columns])) if hdu.columns else NULL,
        hdu.wcs_status,
        copy_text(hdu.wcs_message),
    ]
    return ("\t".join(fields) + "\n").encode("utf-8")


HDU_COPY_COLUMNS = (
    "file_id, hdu, xtension, extname, bitpix, naxis, header_offset, data_offset, data_size, "
    "header, keywords, duplicates, columns, wcs_status, wcs_message"
)


def stage_files(tasks: tuple[FileTask, ...]) -> list[StagedFile]:
    """Stage a few files in one worker task (see :func:`stage_file`).

    Why several: each task is a round trip between the parent and a worker
    (pickle, pipe, poll), which cost about as much CPU as reading a small
    file.  The checkpoints carry the file's position in ``tasks``, so a crash
    still names the file (and the HDU).
    """
    out = []
    for position, task in enumerate(tasks):
        isolation.checkpoint((position, None))
        out.append(stage_file(task, position))
    return out


def stage_file(task: FileTask, position: int = 0) -> StagedFile:
    """Read every header of ``task.path``; never raises for bad input.

    ``position``: the file's place in the worker's task (:func:`stage_files`),
    recorded with the HDU index in the checkpoint around each WCS pre-check.
    """
    out = StagedFile(task)
    # A gzip file is decompressed once, for the headers and the column ranges.
    whole = fitsfile.inflate(task.path)
    try:
        raws, digest, problems = fitsfile.read_headers(task.path, whole)
    except fitsfile.FITSReadError as exc:
        out.status, out.n_hdus = "rejected", 0
        out.problems.append(Problem(exc.error_class, str(exc), exc.hdu, exc.keyword))
        return out
    except OSError as exc:
        out.status, out.n_hdus = "rejected", 0
        out.problems.append(Problem("io-error", f"cannot read the file: {exc}"))
        return out
    out.header_hash, out.n_hdus = digest, len(raws)
    out.problems.extend(problems)
    crashed = dict(task.wcs_crashed)
    # One data source per file: opened (or decompressed) only if a table needs it.
    with columns.open_data(task.path, decompressed=whole) as source:
        for raw in raws:
            try:
                out.hdu_rows.append(_stage_hdu(task, raw, crashed, out.problems, source,
                                               position))
                out.header_bytes += len(raw.text)
            except Exception as exc:  # a bug or an input we did not foresee: reject the HDU
                out.problems.append(Problem(
                    "internal-error",
                    f"{type(exc).__name__}: {exc} (please report; traceback: "
                    f"{traceback.format_exc(limit=3).strip()})",
                    raw.index,
                ))
    if not out.hdu_rows:
        out.status = "rejected"
    elif any(p.severity == "error" for p in out.problems):
        out.status = "partial"
    return out


def _stage_hdu(task: FileTask, raw: fitsfile.RawHeader, crashed: dict[int, str],
               problems: list[Problem], source: columns.DataSource, position: int) -> bytes:
    text = _clean(raw.text, raw.index, problems)
    parsed = cards.parse_header(text, raw.index, raw.card_sep)
    problems.extend(parsed.problems)
    hdu = cards.to_hdu_record(raw, parsed)
    hdu.header_text = text
    if any(c.role for c in hdu.columns):  # to_hdu_record described the table's columns
        problems.extend(columns.read_column_ranges(
            task.path, raw.index, hdu.columns, keywords=hdu.keywords,
            data_offset=raw.data_offset, data_size=raw.data_size, source=source))
    if raw.index in crashed:
        hdu.wcs_status, hdu.wcs_message = "crash", crashed[raw.index]
        problems.append(Problem(
            "wcs-crash",
            f"wcslib crashed on this header ({crashed[raw.index]}); WCS left unused",
            raw.index,
        ))
    else:
        # If wcslib kills this process, the pool reports this file and HDU
        # index and the file is staged again with this HDU's WCS marked as crashed.
        isolation.checkpoint((position, raw.index))
        hdu.wcs_status, hdu.wcs_message = wcscheck.check_wcs(hdu.keywords, text, hdu.xtension)
        isolation.checkpoint((position, None))
    return encode_hdu(hdu)
