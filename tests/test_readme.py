"""The README's examples work as written: every command block after a `<!-- readme-test -->` line is run, in
order, in a scratch folder holding the demo's input tables, with the demo portals as the HTTP proxy and the
virtual environment's bin first on the PATH, as the README tells a newcomer to set up; each command must end
with the exit code stated beside it (`# exit N`), and print the texts quoted after it. And the README stands alone: every file it links is in the
repository."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from demo.server import PortalServer

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MARK = "<!-- readme-test -->"
EXIT = re.compile(r"#\s*exit\s+(\d+)\b[^#]*$")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
# what the README's step-by-step section says a newcomer has in the repository's folder
DEMO_INPUTS = ("data/demo/agencies.csv", "data/demo/reports.csv")


def readme_blocks(text: str) -> list[list[str]]:
    """The commands of each ```bash block that follows the mark (a line ending in \\ continues)."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        if lines[i].strip() != MARK:
            i += 1
            continue
        i += 1
        while i < len(lines) and not lines[i].strip():
            i += 1
        assert i < len(lines) and lines[i].strip() == "```bash", f"README line {i + 1}: {MARK} not before ```bash"
        i += 1
        commands, pending = [], ""
        while lines[i].strip() != "```":
            line = lines[i]
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
            elif line.strip() or pending:
                commands.append(pending + line)
                pending = ""
            i += 1
        blocks.append(commands)
        i += 1
    return blocks


def said(command: str) -> list[str]:
    """The quoted texts of the command's comment: what the README says the command prints."""
    found = EXIT.search(command)
    return re.findall(r'"([^"]+)"', found.group(0)) if found else []


def expected_exit(command: str) -> int:
    found = EXIT.search(command)
    assert found, f"the README states no exit code for: {command}"
    return int(found.group(1))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("readme")
    for name in DEMO_INPUTS:
        assert (ROOT / name).is_file(), f"the README's walk-through uses {name}, which is not in the repository"
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, folder / name)
    return folder


def test_the_readme_sets_up_the_demo_proxy_it_says():
    text = README.read_text(encoding="utf-8")
    assert "python -m demo.server" in text and "export http_proxy=http://127.0.0.1:8089 no_proxy=" in text
    shown = subprocess.run([sys.executable, "-m", "demo.server", "--help"], cwd=ROOT, capture_output=True,
                           text=True, timeout=60)
    assert shown.returncode == 0 and "default 8089" in shown.stdout


def test_every_readme_command_block_runs_against_the_demo_with_its_stated_exit_code(scratch):
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 5 and sum(len(b) for b in blocks) >= 10
    bin_dir = str(Path(sys.executable).parent)
    with PortalServer() as server:
        env = {**os.environ, "http_proxy": server.proxy_url, "HTTP_PROXY": server.proxy_url,
               "no_proxy": "", "NO_PROXY": "", "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
               "COLUMNS": "120"}
        for block in blocks:
            for command in block:
                want = expected_exit(command)
                done = subprocess.run(["bash", "-c", command], cwd=scratch, env=env, capture_output=True,
                                      text=True, timeout=120)
                assert done.returncode == want, (f"README: `{command}` exited {done.returncode}, the README says "
                                                 f"{want}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
                for text in said(command):
                    assert text in done.stdout + done.stderr, f"README: `{command}` did not print {text!r}"
    # the walk-through leaves what the README says, where it says
    assert (scratch / "portal-evidence.db").is_file() and any((scratch / "portal-evidence-warc").glob("*.warc.gz"))
    assert (scratch / "report-2018" / "html" / "index.html").is_file()
    assert (scratch / "phieu-so.xlsx").is_file() and not (scratch / "reports-from-forms.csv").exists()


@pytest.mark.parametrize("doc", ["README.md", "docs/inputs.md", "docs/verdicts.md", "docs/outputs.md"])
def test_the_docs_stand_alone(doc):
    path = ROOT / doc
    text = path.read_text(encoding="utf-8")
    for outside in ("SPEC.md", "DOMAIN.md", "STYLE.md", "LIBRARIES.md"):
        assert outside not in text, f"{doc} refers to {outside}, which is not in the repository"
    for target in LINK.findall(text):
        if "://" in target:
            continue
        assert (path.parent / target).exists(), f"{doc} links {target}, which is not in the repository"
