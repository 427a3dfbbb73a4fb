from .checked_loading import CorruptImageError, LoadImageFromFileChecked
from .formatting import PackKptDetInputs
from .loading import LoadKptAnnotations

__all__ = ['CorruptImageError', 'LoadImageFromFileChecked', 'LoadKptAnnotations',
           'PackKptDetInputs']
