from .assigners import KptSimOTAAssigner

__all__ = ['KptSimOTAAssigner']
