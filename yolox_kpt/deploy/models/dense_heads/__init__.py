from . import yolox_kpt_head  # noqa: F401
