from .coco_kpt import CocoKptDataset, KeypointAnnotationError
from .transforms import LoadKptAnnotations, PackKptDetInputs

__all__ = ['CocoKptDataset', 'KeypointAnnotationError', 'LoadKptAnnotations',
           'PackKptDetInputs']
