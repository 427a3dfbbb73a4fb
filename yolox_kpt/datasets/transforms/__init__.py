from .formatting import PackKptDetInputs
from .loading import LoadKptAnnotations

__all__ = ['LoadKptAnnotations', 'PackKptDetInputs']
