"""High-level entry points for tools: inference over PyTorch or exported models, the keypoint
layout of a (config, checkpoint) pair, saved results with their ground truth."""
from .inference import KptInferencer, tool_inferencer
from .layout import check_layouts_match, checkpoint_layout, config_layout, resolve_layout
from .results import (ground_truth, load_results, prediction_instances,
                      results_and_ground_truth)

__all__ = ['KptInferencer', 'check_layouts_match', 'checkpoint_layout', 'config_layout',
           'ground_truth', 'load_results', 'prediction_instances', 'resolve_layout',
           'results_and_ground_truth', 'tool_inferencer']
