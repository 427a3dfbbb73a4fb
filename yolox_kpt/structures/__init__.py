from .keypoint_boxes import KeypointBoxes

__all__ = ['KeypointBoxes']
