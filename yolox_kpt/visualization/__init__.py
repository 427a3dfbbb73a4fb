from .local_visualizer import (KptDetLocalVisualizer, draw_frame, frame_visualizer,
                               score_color)

__all__ = ['KptDetLocalVisualizer', 'draw_frame', 'frame_visualizer', 'score_color']
