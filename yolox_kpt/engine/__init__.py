from .hooks import AtomicCheckpointHook, KeypointLayoutCheckHook, SafeCheckpointHook

__all__ = ['AtomicCheckpointHook', 'KeypointLayoutCheckHook', 'SafeCheckpointHook']
