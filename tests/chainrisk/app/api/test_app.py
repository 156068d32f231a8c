"""The app's own set-up (no graph needed): what ``create_app`` configures from the settings."""

from __future__ import annotations

from pathlib import Path

from chainrisk.app.api import create_app
from chainrisk.settings import Settings
from queries.chaincache import CHAIN_CACHE


def test_the_app_sets_how_many_chain_walks_run_at_once(tmp_path: Path) -> None:
    def settings(walks: int) -> Settings:
        return Settings(_env_file=None, api_chain_walks=walks, auth_db=tmp_path / "auth.sqlite",
                        stress_jobs_dir=tmp_path / "jobs")

    try:
        create_app(settings(3))
        assert CHAIN_CACHE.walks == 3
        create_app(settings(0))  # the default: one per core
        assert CHAIN_CACHE.walks >= 1 and CHAIN_CACHE.walks == CHAIN_CACHE.__class__().walks
    finally:
        CHAIN_CACHE.limit_walks(0)
