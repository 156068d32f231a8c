"""CLI command groups. Each module defines ``register(app)``; ``chainrisk.cli`` mounts them."""
