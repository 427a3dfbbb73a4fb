from .yolox_kpt_head import YOLOXKptHead, keypoint_visibility

__all__ = ['YOLOXKptHead', 'keypoint_visibility']
