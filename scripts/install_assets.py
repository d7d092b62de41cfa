"""Install the DSFR (French government design system) files the hosted pages use.

    python scripts/install_assets.py

1. Runs ``npm ci`` (``npm install`` when there is no lock) in the repository root when
   ``node_modules/@gouvfr/dsfr`` is missing or does not match ``package-lock.json``.
2. Copies into ``idp/web/static/dsfr/`` (generated, not committed) only what the pages use:
   the files the templates reference through ``static('dsfr/…')``, the fonts and icons those
   stylesheets (and ``static/css/app.css``) point at, and the favicons. Files no longer needed
   are removed, so the folder always mirrors the templates.

Idempotent: when everything is up to date it reads two small JSON files and stats the copied
files, then exits. Standard library only, so it runs before the virtualenv exists.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "@gouvfr/dsfr"
PACKAGE_DIR = REPO_ROOT / "node_modules" / PACKAGE
DIST = PACKAGE_DIR / "dist"
WEB = REPO_ROOT / "idp" / "web"
TEMPLATES = WEB / "templates"
STATIC = WEB / "static"
TARGET = STATIC / "dsfr"
APP_CSS = STATIC / "css" / "app.css"

#: Copied whole: browsers and the web manifest ask for these by name.
WHOLE_DIRS = ("favicon",)

#: ``static('dsfr/…')`` in templates. The path stops at a quote or a ``#fragment``.
TEMPLATE_REF = re.compile(r"""static\(\s*['"]dsfr/([^'"#?]+)""")
#: ``url(…)`` in CSS, quoted or not; data: URIs and absolute URLs are skipped below.
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+?)['"]?\s*\)""")


def log(message: str) -> None:
    print(f"install_assets: {message}")


# --- npm -----------------------------------------------------------------------------------


def _locked_entry(lock_path: Path) -> dict | None:
    if not lock_path.exists():
        return None
    packages = json.loads(lock_path.read_text()).get("packages", {})
    return packages.get(f"node_modules/{PACKAGE}")


def npm_needed() -> str | None:
    """Why npm must run, or None when the installed package is the locked one."""
    if not (PACKAGE_DIR / "package.json").exists():
        return f"{PACKAGE} is not installed"
    lock = REPO_ROOT / "package-lock.json"
    if not lock.exists():
        wanted = json.loads((REPO_ROOT / "package.json").read_text())["dependencies"][PACKAGE]
        installed = json.loads((PACKAGE_DIR / "package.json").read_text())["version"]
        return None if installed == wanted else f"{PACKAGE} {installed} installed, {wanted} wanted"
    locked = _locked_entry(lock)
    # npm records what it actually installed in node_modules/.package-lock.json.
    installed = _locked_entry(REPO_ROOT / "node_modules" / ".package-lock.json")
    if not locked or not installed:
        return "package-lock.json or node_modules/.package-lock.json has no entry for " + PACKAGE
    for key in ("version", "integrity"):
        if locked.get(key) != installed.get(key):
            return f"{PACKAGE} {installed.get('version')} installed, {locked.get('version')} locked"
    return None


def run_npm() -> None:
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("install_assets: npm is not on PATH (install Node.js 20.19+ and npm)")
    command = [npm, "ci"] if (REPO_ROOT / "package-lock.json").exists() else [npm, "install"]
    command += ["--no-audit", "--no-fund"]
    log(" ".join(["npm", *command[1:]]))
    result = subprocess.run(command, cwd=REPO_ROOT, check=False)  # noqa: S603 (fixed argv)
    if result.returncode != 0:
        sys.exit(f"install_assets: `{' '.join(command[1:])}` failed (exit {result.returncode})")


# --- what the pages need -------------------------------------------------------------------


def _css_references(css_file: Path, base: Path) -> set[str]:
    """Paths (relative to ``base``) that a stylesheet's url(...) values point at."""
    found = set()
    for raw in CSS_URL.findall(css_file.read_text(encoding="utf-8")):
        if raw.startswith(("data:", "http:", "https:", "//", "#")):
            continue
        target = (css_file.parent / raw.split("#")[0].split("?")[0]).resolve()
        if target.is_relative_to(base.resolve()):
            found.add(target.relative_to(base.resolve()).as_posix())
    return found


def needed_files() -> set[str]:
    """Every file under ``dist/`` the pages use, as paths relative to ``dist/``."""
    wanted: set[str] = set()
    for template in sorted(TEMPLATES.rglob("*.html")):
        wanted.update(TEMPLATE_REF.findall(template.read_text(encoding="utf-8")))
    for directory in WHOLE_DIRS:
        wanted.update(p.relative_to(DIST).as_posix() for p in (DIST / directory).rglob("*"))
    # Our stylesheet reaches DSFR icons as ../dsfr/icons/…: map them back to dist/.
    if APP_CSS.exists():
        wanted.update(_css_references(APP_CSS, TARGET))
    for css in [name for name in sorted(wanted) if name.endswith(".css")]:
        wanted.update(_css_references(DIST / css, DIST))
    wanted = {name for name in wanted if not (DIST / name).is_dir()}
    missing = sorted(name for name in wanted if not (DIST / name).is_file())
    if missing:
        sys.exit(f"install_assets: not in {PACKAGE} dist/: {', '.join(missing)}")
    return wanted


# --- copy ----------------------------------------------------------------------------------


def _up_to_date(source: Path, target: Path) -> bool:
    if not target.is_file():
        return False
    a, b = source.stat(), target.stat()
    return a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns


def sync(wanted: set[str]) -> tuple[int, int]:
    """Mirror ``wanted`` into TARGET; returns (copied, removed)."""
    copied = removed = 0
    for name in sorted(wanted):
        source, target = DIST / name, TARGET / name
        if _up_to_date(source, target):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        copied += 1
    if TARGET.exists():
        for path in sorted(TARGET.rglob("*"), reverse=True):
            relative = path.relative_to(TARGET).as_posix()
            if path.is_file() and relative not in wanted:
                path.unlink()
                removed += 1
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    return copied, removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="run npm even when up to date")
    args = parser.parse_args(argv)

    reason = "--force" if args.force else npm_needed()
    if reason:
        log(reason)
        run_npm()
    copied, removed = sync(needed_files())
    version = json.loads((PACKAGE_DIR / "package.json").read_text())["version"]
    where = TARGET.relative_to(REPO_ROOT)
    if copied or removed:
        log(f"{PACKAGE} {version}: {copied} copied, {removed} removed in {where}")
    else:
        log(f"{PACKAGE} {version}: {where} up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
