"""Writing report files: private to the user, all or nothing.

Reports name who can be phished: they are created ``0600`` in a folder created ``0700``
(as the evidence store is), unless ``report.file_mode`` says otherwise (e.g. ``"0640"``
for a group of auditors; the folder then gets the matching search bits). Each file is
written under a temporary ``.part`` name opened with ``O_EXCL | O_NOFOLLOW`` (a planted
symlink cannot redirect it) and renamed when complete; a failed write (a full disk)
removes the partial file and raises ``ReportWriteError`` naming the file, the reason
and the run, so that ``mfa-audit report --run`` can finish the job."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from auditor.interfaces import RenderError

DEFAULT_FILE_MODE = 0o600


class ReportWriteError(RenderError):
    """A report file could not be written (disk full, permission, quota)."""


def folder_mode(file_mode: int) -> int:
    """The folder's mode for files of ``file_mode``: whoever may read a file may list
    the folder (x beside each r); the owner always has rwx."""
    read_bits = file_mode & 0o444
    return 0o700 | file_mode & 0o066 | read_bits >> 2


def make_output_dir(path: Path, file_mode: int = DEFAULT_FILE_MODE, *, run_id: str = "", stored: bool = False) -> None:
    """Create the folder with ``folder_mode``; an existing folder is left as it is (the
    operator chose it), but a folder created here does not depend on the umask."""
    try:
        if not path.is_dir():
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(folder_mode(file_mode))
    except OSError as exc:
        raise ReportWriteError(_message(path, exc, run_id, stored=stored)) from None


def _message(path: Path, exc: OSError, run_id: str, *, stored: bool) -> str:
    why = exc.strerror or type(exc).__name__
    text = f"cannot write the report {path}: {why}"  # a folder, for make_output_dir
    if run_id and stored:
        text += f"; the run is stored as {run_id}: once fixed, `mfa-audit report --run {run_id}` writes the reports"
    elif run_id:
        text += f" (run {run_id}, not stored)"
    return text


@contextmanager
def write_atomically(
    target: Path, file_mode: int = DEFAULT_FILE_MODE, *, run_id: str = "", stored: bool = False
) -> Iterator[BinaryIO]:
    """A stream to ``target.part``, renamed to ``target`` when the block succeeds."""
    part = target.with_name(target.name + ".part")
    with suppress(FileNotFoundError):
        part.unlink()  # a leftover of an interrupted run: ours by its name
    try:
        fd = os.open(part, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), file_mode)
    except OSError as exc:
        raise ReportWriteError(_message(target, exc, run_id, stored=stored)) from None
    try:
        with os.fdopen(fd, "w+b") as fh:  # readable too: a PDF is signed in place
            os.fchmod(fh.fileno(), file_mode)  # the umask must not decide who reads the report
            yield fh
        part.replace(target)
    except OSError as exc:
        with suppress(OSError):
            part.unlink()
        raise ReportWriteError(_message(target, exc, run_id, stored=stored)) from None
    except BaseException:
        with suppress(OSError):
            part.unlink()
        raise
