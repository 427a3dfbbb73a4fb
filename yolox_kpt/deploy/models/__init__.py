from . import dense_heads  # noqa: F401
