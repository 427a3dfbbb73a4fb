"""Generated fixtures shared by the tests and the benchmarks (no dataset download)."""
from .coco_predictions import make_person_case, results_from_ground_truth
from .models import confident_random_checkpoint

__all__ = ['confident_random_checkpoint', 'make_person_case', 'results_from_ground_truth']
