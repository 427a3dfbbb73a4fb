from .hooks import KeypointLayoutCheckHook, SafeCheckpointHook

__all__ = ['KeypointLayoutCheckHook', 'SafeCheckpointHook']
