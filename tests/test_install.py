"""The package as a new user gets it: `pip install .` (a wheel, not editable) into a fresh virtual environment,
then the installed `portal-evidence` run from a folder outside the repository: --version, a spot-check of a demo
link, the demo, a blank form; and nothing generic (cli, rules, data) in site-packages. Also, from the checkout:
the package list misses no package, the version has one source, and the runtime imports no POSIX-only module."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import venv
from importlib.metadata import version as installed_version
from pathlib import Path

import pytest

import crawler
from demo.pipeline import DEMO_DIR, load_truth, truth_tuple
from demo.server import PortalServer

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# What a wheel is built from: pyproject's packages and their data (copied, so the build writes nothing here).
SOURCES = ("pyproject.toml", "README.md", "crawler", "verifier", "demo", "rules", "data/demo")
# pip's words when it cannot reach the package registry (the one reason to skip)
OFFLINE = re.compile(r"NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|"
                     r"Network is unreachable|ConnectTimeoutError|ProxyError|No matching distribution found")


def scripts_dir(env: Path) -> Path:
    return env / ("Scripts" if os.name == "nt" else "bin")


def plain_env(**extra) -> dict:
    """The environment without a proxy or a Python path of the checkout: the installed package alone."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "no_proxy")
           and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, **extra}


@pytest.fixture(scope="session")
def installed(tmp_path_factory):
    """A fresh venv with the project installed by `pip install .` from a copy of its sources (with the lock as
    constraints: the versions `make` installs). Session-scoped: the one slow set-up of this file."""
    base = tmp_path_factory.mktemp("install")
    source = base / "source"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    env_dir = base / "venv"
    venv.create(env_dir, with_pip=True)
    python = scripts_dir(env_dir) / "python"
    started = time.monotonic()
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", ".",
                           "-c", str(ROOT / "requirements.lock")],
                          cwd=source, env=plain_env(), capture_output=True, text=True, timeout=900)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        if OFFLINE.search(done.stdout + done.stderr):
            pytest.skip(f"the package registry is unreachable: pip install . failed with "
                        f"{OFFLINE.search(done.stdout + done.stderr).group(0)}")
        pytest.fail(f"pip install . failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    work = base / "elsewhere"                      # cwd of every command: outside the repository
    work.mkdir()
    return {"python": python, "tool": scripts_dir(env_dir) / "portal-evidence", "site": site, "work": work,
            "install_seconds": seconds}


def run(installed, *args, timeout=120, **env):
    return subprocess.run([str(installed["tool"]), *map(str, args)], cwd=installed["work"], env=plain_env(**env),
                          capture_output=True, text=True, timeout=timeout)


# -- the installed package ----------------------------------------------------------------------------------

def test_the_install_puts_only_the_projects_packages_in_site_packages(installed, record_property):
    record_property("install_seconds", round(installed["install_seconds"], 1))
    site = installed["site"]
    dist_info = next(site.glob("portal_evidence-*.dist-info"))
    tops = {Path(line.split(",")[0]).parts[0] for line in (dist_info / "RECORD").read_text().splitlines()}
    tops = {t for t in tops if not t.endswith(".dist-info") and t != ".." and not t.startswith("__editable")}
    assert tops == {"crawler", "verifier", "demo"}
    for generic in ("cli", "cli.py", "rules", "data"):
        assert not (site / generic).exists(), generic
    # the bundled files, as package data of the packages that read them
    assert (site / "verifier" / "rulebooks" / "caobang-2018.yaml").is_file()
    assert (site / "demo" / "data" / "truth.csv").is_file()
    assert (site / "demo" / "data" / "portals" / "sotuphap.caobang.gov.vn" / "site.yaml").is_file()
    # the runtime's dependencies only: the benchmark's and the tests' stay out
    listed = subprocess.run([str(installed["python"]), "-m", "pip", "list", "--format=json"], capture_output=True,
                            text=True, check=True).stdout
    names = {p["name"].lower() for p in json.loads(listed)}
    assert not names & {"beautifulsoup4", "htmldate", "pytest", "vcrpy"}, names
    assert {"scrapy", "httpx", "psutil", "portal-evidence"} <= names


def test_version_of_the_installed_package(installed):
    result = run(installed, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"portal-evidence {crawler.__version__}"       # no checkout, no git revision
    as_module = subprocess.run([str(installed["python"]), "-m", "verifier", "--version"], cwd=installed["work"],
                               env=plain_env(), capture_output=True, text=True, timeout=60)
    assert as_module.stdout == result.stdout


def first_link_with(status: str, reason: str) -> tuple[str, str, str, tuple]:
    """(url, criterion, agency portal, truth) of the first demo report whose truth is (status, reason)."""
    with (DEMO_DIR / "agencies.csv").open(encoding="utf-8", newline="") as fh:
        portals = {a["agency_id"]: a["portal"] for a in csv.DictReader(fh)}
    truth = load_truth()
    with (DEMO_DIR / "reports.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            want = truth_tuple(truth[(r["agency_id"], r["criterion"])])
            if r["url"] and want[:2] == (status, reason):
                return r["url"], r["criterion"], portals[r["agency_id"]], want
    raise AssertionError(f"the demo has no {status}/{reason} link")


def test_check_a_demo_link_with_the_installed_package(installed):
    url, criterion, portal, want = first_link_with("pass", "ok")
    with PortalServer() as server:
        proxy = {"http_proxy": server.proxy_url, "HTTP_PROXY": server.proxy_url, "no_proxy": ""}
        result = run(installed, "check", url, "--criterion", criterion, "--agency-portal", portal, "--json",
                     "--allow-private", "--timeout", "5", **proxy)
        assert result.returncode == 0, result.stderr
        got = json.loads(result.stdout)
        posts = "" if got["posts_in_year"] is None else str(got["posts_in_year"])
        assert (got["status"], got["reason"], posts, got["discovered"]) == want
        assert server.requests                                   # it went through the demo portals
        # the bundled rulebook is named as in the repository, not by a path in site-packages
        unknown = run(installed, "check", url, "--criterion", "no-such-criterion", **proxy)
    assert unknown.returncode == 2
    assert "rules/caobang-2018.yaml" in unknown.stderr + unknown.stdout
    assert "site-packages" not in unknown.stderr + unknown.stdout


def test_demo_runs_from_the_installed_package(installed):
    out = installed["work"] / "demo-output"
    result = run(installed, "demo", "--out", out, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    total = len(load_truth())
    assert f"{total}/{total} reported links match the truth" in result.stdout
    assert "Traceback" not in result.stderr
    assert (out / "evidence.db").is_file() and (out / "report" / "report.json").is_file()


def test_form_with_the_bundled_and_a_given_rulebook(installed):
    from openpyxl import load_workbook

    from verifier.rulebook import DEFAULT_RULEBOOK, load_rulebook

    form = installed["work"] / "phieu-so.xlsx"
    result = run(installed, "form", "--group", "so", "--out", form)
    assert result.returncode == 0, result.stderr
    cells = {str(c.value) for ws in load_workbook(form).worksheets for row in ws.iter_rows() for c in row if c.value}
    names = {c.name for c in load_rulebook(DEFAULT_RULEBOOK).criteria_for("so")}
    assert names <= cells
    # a rulebook given by path keeps working
    mine = installed["work"] / "my-rules.yaml"
    shutil.copy(DEFAULT_RULEBOOK, mine)
    again = run(installed, "form", "--group", "huyen", "--rules", mine, "--out", installed["work"] / "phieu-huyen.xlsx")
    assert again.returncode == 0, again.stderr
    missing = run(installed, "form", "--group", "so", "--rules", "nowhere.yaml", "--out", installed["work"] / "x.xlsx")
    assert missing.returncode == 2 and "nowhere.yaml" in missing.stderr + missing.stdout


# -- the checkout ---------------------------------------------------------------------------------------------

def test_the_package_list_holds_every_package_of_the_tree():
    """pyproject lists its packages (to map rules/ and data/demo/ under them): a new package must be listed."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    mapped = PYPROJECT["tool"]["setuptools"]["package-dir"]
    found = {".".join(p.parent.relative_to(ROOT).parts) for top in ("crawler", "verifier", "demo")
             for p in (ROOT / top).rglob("__init__.py")}
    # folders of data only (templates, texts) are listed as packages so setuptools ships them as such
    data_only = {name for name in PYPROJECT["tool"]["setuptools"]["package-data"]
                 if name not in mapped and (ROOT / name.replace(".", "/")).is_dir()
                 and not (ROOT / name.replace(".", "/") / "__init__.py").exists()}
    assert listed == found | set(mapped) | data_only
    for package, folder in mapped.items():
        assert (ROOT / folder).is_dir(), (package, folder)


def test_the_version_has_one_source_and_a_checkout_names_its_revision():
    assert installed_version("portal-evidence") == crawler.__version__     # pyproject reads crawler.__version__
    result = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--version"], capture_output=True, text=True,
                            timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    assert re.fullmatch(rf"portal-evidence {re.escape(crawler.__version__)} \(git {head.stdout.strip()}(-dirty)?\)",
                        result.stdout.strip()), result.stdout


# Every runtime module imported, and the crawl lock claimed and released, with fcntl unimportable (as on
# Windows). Twisted's own POSIX reactor uses fcntl on Linux; it picks another one on Windows, so it is not run.
NO_FCNTL = """
import importlib, pkgutil, sys
sys.modules["fcntl"] = None
import crawler, demo, verifier
names = [i.name for p in (crawler, verifier, demo) for i in pkgutil.walk_packages(p.__path__, p.__name__ + ".")]
for name in names:
    if name != "verifier.__main__":
        importlib.import_module(name)
from verifier.store import claim_lock, open_db, release_lock
db = open_db(sys.argv[1])
release_lock(db, claim_lock(db))
print(len(names), "fcntl" in sys.modules and sys.modules["fcntl"] is None)
"""


def test_the_runtime_needs_no_fcntl(tmp_path):
    result = subprocess.run([sys.executable, "-c", NO_FCNTL, str(tmp_path / "lock.db")], capture_output=True,
                            text=True, timeout=120, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-3000:]
    count, blocked = result.stdout.split()
    assert int(count) > 50 and blocked == "True"


def test_demo_into_a_file_is_a_clear_error(tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    result = subprocess.run([sys.executable, str(ROOT / "cli.py"), "demo", "--out", str(taken)], capture_output=True,
                            text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and str(taken) in result.stderr and "--out" in result.stderr


# A plain checkout on PYTHONPATH (as tests/lab/eval is run): no install maps rules/ and data/demo/ into the
# packages, so the bundled files are read where they sit. The editable install's finder is taken away to see it.
PLAIN_CHECKOUT = """
import importlib.util, sys
sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")]
from demo.pipeline import DEMO_DIR
from demo.server import DEFAULT_ROOT
from verifier.rulebook import DEFAULT_RULEBOOK, load_rulebook
print(importlib.util.find_spec("verifier.rulebooks") is None, DEFAULT_RULEBOOK, DEMO_DIR, DEFAULT_ROOT)
print(load_rulebook().title)
"""


def test_a_plain_checkout_reads_the_files_where_they_sit():
    result = subprocess.run([sys.executable, "-c", PLAIN_CHECKOUT], capture_output=True, text=True, timeout=60,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-3000:]
    first, title = result.stdout.splitlines()
    assert first.split() == ["True", str(ROOT / "rules" / "caobang-2018.yaml"), str(ROOT / "data" / "demo"),
                             str(ROOT / "data" / "demo")]
    assert title
