"""Generated fixtures shared by the tests and the benchmarks (no dataset download)."""
from .coco_predictions import make_person_case

__all__ = ['make_person_case']
