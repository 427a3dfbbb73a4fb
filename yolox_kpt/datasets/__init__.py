from .coco_kpt import CocoKptDataset, KeypointAnnotationError
from .samplers import SeededIndex, SeededSampler
from .transforms import (CorruptImageError, LoadImageFromFileChecked, LoadKptAnnotations,
                         PackKptDetInputs)

__all__ = ['CocoKptDataset', 'CorruptImageError', 'KeypointAnnotationError',
           'LoadImageFromFileChecked', 'LoadKptAnnotations', 'PackKptDetInputs', 'SeededIndex',
           'SeededSampler']
