from __future__ import annotations

import pytest

from chainrisk.settings import DEFAULT_LOCAL_PASSWORD, Settings


def test_environment_names_are_neo4j_s(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEO4J_URI", "bolt://db.example:7687")
    monkeypatch.setenv("NEO4J_USERNAME", "analyst")
    monkeypatch.setenv("NEO4J_PASSWORD", "s3cret")
    monkeypatch.setenv("NEO4J_DATABASE", "risk")
    s = Settings(_env_file=None)
    assert (s.neo4j_uri, s.neo4j_username, s.neo4j_database) == ("bolt://db.example:7687", "analyst", "risk")
    assert s.neo4j_password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(s) and "s3cret" not in str(s.model_dump())


def test_dotenv_is_read(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    for var in ("NEO4J_URI", "NEO4J_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    env = tmp_path / ".env"
    env.write_text("NEO4J_URI=bolt://10.0.0.5:7687\nCHAINRISK_BANK_LENDERS=BANK_A,BANK_B\n")
    s = Settings(_env_file=env)
    assert s.neo4j_uri == "bolt://10.0.0.5:7687"
    assert s.bank_lenders == ["BANK_A", "BANK_B"]
    assert s.neo4j_password.get_secret_value() == DEFAULT_LOCAL_PASSWORD
