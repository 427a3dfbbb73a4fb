from .kpt_sim_ota_assigner import KptSimOTAAssigner

__all__ = ['KptSimOTAAssigner']
