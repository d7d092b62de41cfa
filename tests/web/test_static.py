"""Static files: the DSFR copy made by scripts/install_assets.py and our own stylesheet."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from idp.web.templating import STATIC_DIR

from .pages import PAGES, Page, make_app

REPO_ROOT = Path(__file__).resolve().parents[2]
INSTALLED = (STATIC_DIR / "dsfr" / "dsfr.min.css").exists()
needs_assets = pytest.mark.skipif(
    not INSTALLED, reason="DSFR assets not installed: run python scripts/install_assets.py"
)


def load_install_assets():
    spec = importlib.util.spec_from_file_location(
        "install_assets", REPO_ROOT / "scripts" / "install_assets.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(make_app())


def test_app_css_is_served(client: TestClient) -> None:
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in response.headers


@needs_assets
def test_every_file_a_page_links_to_is_served(client: TestClient) -> None:
    urls: set[str] = set()
    for page_url in PAGES:
        page = Page.parse(client.get(page_url).text)
        for element in page.elements:
            for attr in ("href", "src"):
                value = element.attrs.get(attr) or ""
                if value.startswith("/static/"):
                    urls.add(value.split("#")[0])
    assert "/static/dsfr/dsfr.min.css" in urls
    for url in sorted(urls):
        assert client.get(url).status_code == 200, url


@needs_assets
def test_files_the_stylesheets_point_at_are_served(client: TestClient) -> None:
    for sheet in ("/static/dsfr/dsfr.min.css", "/static/css/app.css"):
        css = client.get(sheet).text
        base = sheet.rsplit("/", 1)[0]
        for ref in set(re.findall(r"url\(\s*['\"]?([^'\")]+)", css)):
            if ref.startswith("data:"):
                continue
            url = str(Path(base, ref.split("#")[0]))
            assert client.get(url).status_code == 200, (sheet, ref)


@needs_assets
def test_install_assets_is_up_to_date_and_minimal() -> None:
    module = load_install_assets()
    if not module.DIST.exists():
        pytest.skip("node_modules is absent; the copy cannot be compared")
    assert module.npm_needed() is None
    wanted = module.needed_files()
    copied = {
        p.relative_to(module.TARGET).as_posix() for p in module.TARGET.rglob("*") if p.is_file()
    }
    assert copied == wanted
    assert not any(name.endswith(".map") for name in copied)


def test_css_references_resolve_relative_to_the_sheet(tmp_path: Path) -> None:
    module = load_install_assets()
    (tmp_path / "css").mkdir()
    sheet = tmp_path / "css" / "app.css"
    sheet.write_text(
        '.a{mask-image:url("../dsfr/icons/a.svg")}'
        ".b{background:url(data:image/svg+xml;charset=utf-8,x)}"
        ".c{src:url(fonts/f.woff2?v=1#x)}"
        ".d{background:url(https://example.org/x.png)}"
    )
    assert module._css_references(sheet, tmp_path / "dsfr") == {"icons/a.svg"}
    assert module._css_references(sheet, tmp_path) == {"dsfr/icons/a.svg", "css/fonts/f.woff2"}
