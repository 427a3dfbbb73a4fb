from .local_visualizer import (KptDetLocalVisualizer, detections_to_instances, draw_frame,
                               frame_visualizer, score_color)

__all__ = ['KptDetLocalVisualizer', 'detections_to_instances', 'draw_frame',
           'frame_visualizer', 'score_color']
