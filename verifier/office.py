"""LibreOffice headless as a converter: an agency's .xls or .doc form to .xlsx or .docx, which the forms read.

Each conversion runs in its own temporary folder with its own LibreOffice profile (two conversions at once, or a
desktop LibreOffice the user has open, do not share a profile's lock), is bounded in time, and leaves nothing
behind: the converted file lives only inside `converted(...)`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from verifier.intake import MAX_INPUT_BYTES, TooLarge, UnreadableFile, _size

CONVERT_TIMEOUT = 60.0          # seconds for one form; a form converts in 2-4 s (most of it LibreOffice starting)
PROGRAMS = ("soffice", "libreoffice")
# the Debian package that converts each kind (libreoffice-calc for sheets, libreoffice-writer for documents)
PACKAGES = {"xlsx": "libreoffice-calc", "docx": "libreoffice-writer"}


class ConversionFailed(UnreadableFile):
    """Cannot convert file"""


def find_soffice() -> str | None:
    """The path of LibreOffice's soffice, or None."""
    return next((found for name in PROGRAMS if (found := shutil.which(name))), None)


@contextlib.contextmanager
def converted(path: Path, to: str, *, timeout: float = CONVERT_TIMEOUT) -> Iterator[Path]:
    """The file converted to `to` ("xlsx" or "docx") by LibreOffice, removed when the block ends.

    Raises ConversionFailed naming the file when LibreOffice is missing, fails, writes nothing or runs past the
    timeout (its processes are then killed), TooLarge for a file above MAX_INPUT_BYTES."""
    path = Path(path)
    package = PACKAGES[to]
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableFile(f"{type(exc).__name__}: {exc}", file=str(path)) from None
    if size == 0:
        raise UnreadableFile("the file is empty", file=str(path), hint="send the filled form again")
    if size > MAX_INPUT_BYTES:
        raise TooLarge(f"{_size(size)}; the limit is {_size(MAX_INPUT_BYTES)}", file=str(path))
    soffice = find_soffice()
    if soffice is None:
        raise ConversionFailed(f"LibreOffice is needed to read {path.suffix.lower()} forms and is not installed",
                               file=str(path), hint=f"install it (apt-get install {package}), or save the form "
                                                    f"as .{to} and run intake again")
    with tempfile.TemporaryDirectory(prefix="portal-evidence-convert-") as work:
        work_dir = Path(work)
        out_dir = work_dir / "out"
        out_dir.mkdir()
        # LibreOffice reads the input by name: a copy with a plain name, so no name of the agency's can look
        # like an option
        source = work_dir / f"form{path.suffix.lower()}"
        shutil.copyfile(path, source)
        command = [soffice, f"-env:UserInstallation={(work_dir / 'profile').as_uri()}", "--headless",
                   "--invisible", "--norestore", "--nolockcheck", "--nodefault", "--nologo",
                   "--convert-to", to, "--outdir", str(out_dir), str(source)]
        _run(command, path, timeout)
        result = out_dir / f"form.{to}"
        if not result.is_file() or result.stat().st_size == 0:
            raise ConversionFailed(f"LibreOffice could not read it as a {path.suffix.lower()} file", file=str(path),
                                   hint=f"open it, check it is the form, and save it as .{to}")
        yield result


def _run(command: list[str], path: Path, timeout: float) -> None:
    """Run LibreOffice in its own process group, so a timeout kills soffice.bin too, not only its launcher."""
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True, env={**os.environ, "HOME": os.environ.get("HOME", "/tmp")})
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise ConversionFailed(f"LibreOffice did not convert it within {timeout:g} s", file=str(path),
                               hint="open it, save it as .xlsx or .docx, and run intake again") from None
    if process.returncode != 0:
        last = (output or b"").decode("utf-8", "replace").strip().splitlines()[-1:]
        raise ConversionFailed(f"LibreOffice stopped with exit code {process.returncode}"
                               + (f" ({last[0][:200]})" if last else ""), file=str(path),
                               hint="open it, check it is the form, and save it as .xlsx or .docx")
