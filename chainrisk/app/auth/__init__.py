"""Credentials of the HTTP API and the web page, kept outside the graph.

API keys, users, sessions and login throttling live in one SQLite file beside the
server's data (``settings.auth_db``, created mode 0600), never in Neo4j: an analyst's
read-only Cypher must not be able to read a key or a password hash.
"""
