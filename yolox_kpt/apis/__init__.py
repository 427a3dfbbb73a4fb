"""High-level entry points for tools: inference over PyTorch or exported models, saved
results with their ground truth."""
from .inference import KptInferencer
from .results import (ground_truth, load_results, prediction_instances,
                      results_and_ground_truth)

__all__ = ['KptInferencer', 'ground_truth', 'load_results', 'prediction_instances',
           'results_and_ground_truth']
