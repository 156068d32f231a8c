"""``chainrisk serve`` hands the API app to uvicorn on the host and port asked for."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from chainrisk.app.cli import main


def test_serve_runs_the_app_on_loopback_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    assert main(["serve"]) == 0
    assert main(["serve", "--host", "0.0.0.0", "--port", "8100"]) == 0
    assert [(kw["host"], kw["port"]) for _, kw in calls] == [("127.0.0.1", 8000), ("0.0.0.0", 8100)]
    assert all(isinstance(app, FastAPI) and app.title == "chainrisk" for app, _ in calls)
    assert main(["serve", "--port", "0"]) == 2


def test_serve_warms_the_chain_cache_unless_told_not_to(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    apps: list[FastAPI] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: apps.append(app))
    assert main(["serve"]) == 0 and main(["serve", "--no-warm-up"]) == 0
    assert [a.state.api.settings.api_warm_up for a in apps] == [True, False]
