"""The one error hierarchy of chainrisk.

Every error the library raises on purpose derives from :class:`ChainriskError`.
Third-party errors (the Neo4j driver's above all) are translated into this tree
at exactly one boundary (``graph.runner``), with ``raise ... from exc``.

::

    ChainriskError
    ├── ConfigError                  settings missing or inconsistent
    ├── DataError                    input data that cannot be used as given
    │   ├── InvalidUSCC              (also a ValueError) bad unified social credit code
    │   ├── DatasetError             a dataset folder, manifest or table that cannot be read
    │   ├── ValidationError          one bad value: file, row and field named
    │   ├── SnapshotError            a snapshot that cannot be built or is inconsistent
    │   ├── ModelStoreError          a saved model that is missing, unreadable or fails its checksum
    │   └── SchemaMismatch           data whose features differ from a saved model's (names the columns)
    ├── GraphError                   anything on the Neo4j side
    │   ├── ServerUnavailable        no server answers at the configured URI (retryable)
    │   ├── AuthenticationFailed     wrong user name or password
    │   ├── TransientGraphError      the server asked us to retry and we ran out of tries (retryable)
    │   ├── QueryFailed              the server rejected a query (syntax, constraint, memory cap)
    │   ├── UnsafeDatabase           refusing to write into a database chainrisk did not create
    │   └── ServerBuildError         the local server could not be built, started or stopped
    ├── ModelError                   a model that cannot run on its inputs
    │   ├── InvalidModelInput        NaN, negative equity, wrong shape ... (names the firm)
    │   └── ConvergenceError         an iteration did not converge (carries the residual)
    ├── QueryError                   a query the library will not run as asked
    │   ├── InvalidQueryParameter    (also a ValueError) a parameter of the wrong type or out of range
    │   ├── UnknownFirm              (also a LookupError) no firm with that USCC in the graph
    │   └── UnsafeQuery              analysts' Cypher refused (a write, a procedure not allowed, LOAD CSV)
    └── ScenarioError                a stress-test scenario file that does not validate (names the line)

Each class says whether a retry can help through :attr:`ChainriskError.retryable`.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationFailed",
    "ChainriskError",
    "ConfigError",
    "ConvergenceError",
    "DataError",
    "DatasetError",
    "GraphError",
    "InvalidModelInput",
    "InvalidQueryParameter",
    "InvalidUSCC",
    "ModelError",
    "ModelStoreError",
    "QueryError",
    "QueryFailed",
    "ScenarioError",
    "SchemaMismatch",
    "ServerBuildError",
    "ServerUnavailable",
    "SnapshotError",
    "TransientGraphError",
    "UnknownFirm",
    "UnsafeDatabase",
    "UnsafeQuery",
    "ValidationError",
]


class ChainriskError(Exception):
    """Base of every error chainrisk raises on purpose."""

    #: Whether running the same operation again may succeed.
    retryable: bool = False


class ConfigError(ChainriskError):
    """Settings are missing or inconsistent."""


# --------------------------------------------------------------------------- data
class DataError(ChainriskError):
    """Input data that cannot be used as given."""


class InvalidUSCC(DataError, ValueError):
    """A unified social credit code (GB 32100-2015) that does not validate.

    ``expected_check`` holds the check character the first 17 characters call
    for, when those are well formed; otherwise ``None``.
    """

    def __init__(self, message: str, *, code: str = "", expected_check: str | None = None):
        super().__init__(message)
        self.code = code
        self.expected_check = expected_check


class DatasetError(DataError):
    """A dataset folder, manifest or table that cannot be read at all."""


class ValidationError(DataError):
    """One bad value, located by file, row and field."""

    def __init__(self, message: str, *, file: str = "", row: int | None = None, field: str = ""):
        where = ", ".join(
            part
            for part in (
                f"file {file}" if file else "",
                f"row {row}" if row is not None else "",
                f"field {field!r}" if field else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.file = file
        self.row = row
        self.field = field
        self.reason = message


class SnapshotError(DataError):
    """A snapshot that cannot be built, or whose parts disagree."""


class ModelStoreError(DataError):
    """A saved model folder that is missing, unreadable, or whose payload fails its checksum."""


class SchemaMismatch(DataError):
    """Data whose feature schema differs from the one a saved model was trained on.

    ``missing`` (the model's columns the data lack), ``extra`` (the data's columns the
    model does not know) and ``reordered`` (common columns at another position) name
    the difference.
    """

    def __init__(
        self,
        message: str,
        *,
        missing: tuple[str, ...] = (),
        extra: tuple[str, ...] = (),
        reordered: tuple[str, ...] = (),
    ):
        super().__init__(message)
        self.missing = missing
        self.extra = extra
        self.reordered = reordered


# -------------------------------------------------------------------------- graph
class GraphError(ChainriskError):
    """Anything that went wrong on the Neo4j side."""


class ServerUnavailable(GraphError):
    """No Neo4j server answers at the configured URI."""

    retryable = True


class AuthenticationFailed(GraphError):
    """The server refused the configured user name or password."""


class TransientGraphError(GraphError):
    """The server asked for a retry and the retries ran out."""

    retryable = True


class QueryFailed(GraphError):
    """The server rejected a query (syntax, constraint violation, memory cap ...)."""

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.code = code


class UnsafeDatabase(GraphError):
    """Refusing to write into a non-empty database that chainrisk did not create."""


class ServerBuildError(GraphError):
    """The local Neo4j server could not be built, started or stopped."""


# -------------------------------------------------------------------------- models
class ModelError(ChainriskError):
    """A model that cannot run on its inputs."""


class InvalidModelInput(ModelError, ValueError):
    """A model input that is NaN, negative where it must not be, or of the wrong shape."""


class ConvergenceError(ModelError):
    """An iteration did not converge within its budget.

    ``residual`` is the last change (max-norm) and ``iterations`` how many ran.
    """

    def __init__(self, message: str, *, residual: float, iterations: int):
        super().__init__(f"{message} (residual {residual:.3g} after {iterations} iterations)")
        self.residual = residual
        self.iterations = iterations


# ------------------------------------------------------------------------- queries
class QueryError(ChainriskError):
    """A query the library will not run as asked."""


class InvalidQueryParameter(QueryError, ValueError):
    """A query parameter of the wrong type or out of its range (``hops`` above 5 ...)."""


class UnknownFirm(QueryError, LookupError):
    """No firm with the given USCC is in the graph."""


class UnsafeQuery(QueryError):
    """Analysts' Cypher refused before it ran; ``layer`` names the check that refused it."""

    def __init__(self, message: str, *, layer: str):
        super().__init__(message)
        self.layer = layer


class ScenarioError(ChainriskError):
    """A stress-test scenario that does not validate; names the file and line."""

    def __init__(self, message: str, *, file: str = "", line: int | None = None):
        where = ":".join(p for p in (file, str(line) if line is not None else "") if p)
        super().__init__(f"{where}: {message}" if where else message)
        self.file = file
        self.line = line
