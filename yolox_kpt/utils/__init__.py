from .stock_tools import run_mmdet_tool

__all__ = ['run_mmdet_tool']
