"""The one settings object, resolved from the environment and an optional ``.env`` file.

Neo4j connection variables keep the names the Neo4j tools use (``NEO4J_URI``,
``NEO4J_USERNAME``, ``NEO4J_PASSWORD``, ``NEO4J_DATABASE``); everything else
chainrisk owns is prefixed ``CHAINRISK_``.

>>> s = Settings(_env_file=None, neo4j_uri="bolt://db.internal:7687", neo4j_password="secret")
>>> s.neo4j_uri
'bolt://db.internal:7687'
>>> "secret" in repr(s)
False
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["DEFAULT_LOCAL_PASSWORD", "REPO_ROOT", "Settings", "get_settings"]

#: The checkout's root: the local server and its data live under it by default.
REPO_ROOT = Path(__file__).resolve().parent.parent

#: Password of the local development server when none is configured. It only
#: guards a server bound to 127.0.0.1; set NEO4J_PASSWORD for anything else.
DEFAULT_LOCAL_PASSWORD = "chainrisk-local"


class Settings(BaseSettings):
    """Configuration for the driver, the local server and the bank's view."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    neo4j_uri: str = Field("bolt://127.0.0.1:7687", validation_alias="NEO4J_URI")
    neo4j_username: str = Field("neo4j", validation_alias="NEO4J_USERNAME")
    neo4j_password: SecretStr = Field(
        SecretStr(DEFAULT_LOCAL_PASSWORD), validation_alias="NEO4J_PASSWORD"
    )
    neo4j_database: str = Field("neo4j", validation_alias="NEO4J_DATABASE")

    #: Seconds a single query may run before the server aborts it.
    query_timeout_s: float = Field(300.0, validation_alias="CHAINRISK_QUERY_TIMEOUT_S")
    #: Seconds the driver keeps retrying transient errors of a managed transaction.
    max_retry_time_s: float = Field(15.0, validation_alias="CHAINRISK_MAX_RETRY_TIME_S")
    #: Rows per UNWIND batch when writing (ingest on 2 cores, 2 writers: 5k beat 2.5k and 10k).
    batch_size: int = Field(5_000, validation_alias="CHAINRISK_BATCH_SIZE")
    #: Batches an ingest writes at once (each its own transaction); 1 writes them in turn.
    ingest_writers: int = Field(2, ge=1, le=16, validation_alias="CHAINRISK_INGEST_WRITERS")

    #: Home of the local server (built jars, config, data, logs).
    server_home: Path = Field(REPO_ROOT / "var" / "neo4j", validation_alias="CHAINRISK_SERVER_HOME")
    #: Where the Maven build puts Neo4j's lib/ and the GDS plugin.
    server_dist: Path = Field(
        REPO_ROOT / "server" / "target" / "neo4j", validation_alias="CHAINRISK_SERVER_DIST"
    )
    java_home: Path | None = Field(None, validation_alias=AliasChoices("CHAINRISK_JAVA_HOME", "JAVA_HOME"))
    heap: str = Field("2g", validation_alias="CHAINRISK_NEO4J_HEAP")
    pagecache: str = Field("1g", validation_alias="CHAINRISK_NEO4J_PAGECACHE")
    transaction_max: str = Field("1g", validation_alias="CHAINRISK_NEO4J_TX_MAX")
    bolt_port: int = Field(7687, validation_alias="CHAINRISK_BOLT_PORT")
    http_port: int = Field(7474, validation_alias="CHAINRISK_HTTP_PORT")

    #: The saved risk model ``chainrisk score`` uses by default; ``chainrisk train`` writes it.
    model_dir: Path = Field(REPO_ROOT / "var" / "models" / "current", validation_alias="CHAINRISK_MODEL_DIR")
    #: Audit log of analysts' Cypher (JSON lines, created mode 0600), outside the graph.
    query_log: Path = Field(REPO_ROOT / "var" / "query-log.jsonl", validation_alias="CHAINRISK_QUERY_LOG")
    #: API keys, users and sessions (SQLite, created mode 0600), outside the graph.
    auth_db: Path = Field(REPO_ROOT / "var" / "auth.sqlite", validation_alias="CHAINRISK_AUTH_DB")
    #: Per API key: requests a second refilled into its bucket, and the bucket's size (the burst).
    api_rate_per_s: float = Field(20.0, gt=0, validation_alias="CHAINRISK_API_RATE_PER_S")
    api_burst: int = Field(60, ge=1, validation_alias="CHAINRISK_API_BURST")
    #: Build the chain cache (networks, the bank's book) in the background when the API starts, so
    #: a first exposure request does not wait for it; ``chainrisk serve`` turns it on by default.
    api_warm_up: bool = Field(False, validation_alias="CHAINRISK_API_WARM_UP")
    #: Chain walks (a chain's first page) that run at once; more wait their turn, first come first
    #: served. 0: one per CPU core. A walk is CPU work: run side by side beyond the cores, every
    #: walk finishes late; in turn, most finish early (see ``queries.chaincache.ChainCache``).
    api_chain_walks: int = Field(0, ge=0, validation_alias="CHAINRISK_API_CHAIN_WALKS")
    #: Stress jobs started through the API write their outputs here, one folder per job.
    stress_jobs_dir: Path = Field(REPO_ROOT / "var" / "stress-jobs",
                                  validation_alias="CHAINRISK_STRESS_JOBS_DIR")
    #: Minutes a web page session may stay unused before it ends.
    web_session_idle_min: float = Field(30.0, gt=0, validation_alias="CHAINRISK_WEB_SESSION_IDLE_MIN")

    #: Lender ids that make up "the bank" in stress tests (comma separated in the environment).
    bank_lenders: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="CHAINRISK_BANK_LENDERS"
    )

    @field_validator("bank_lenders", mode="before")
    @classmethod
    def _split_lenders(cls, value: object) -> object:
        # The environment gives "BANK_A,BANK_B"; code may pass a list.
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, resolved once from the environment and ``.env``."""
    return Settings()
