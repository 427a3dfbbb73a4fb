from .local_visualizer import KptDetLocalVisualizer, score_color

__all__ = ['KptDetLocalVisualizer', 'score_color']
