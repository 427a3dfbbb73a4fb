from .yolox_kpt_head import YOLOXKptHead

__all__ = ['YOLOXKptHead']
