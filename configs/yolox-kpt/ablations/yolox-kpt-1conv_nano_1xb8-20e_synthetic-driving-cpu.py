# The `make demo` recipe with a one-conv keypoint stack (YOLOX's heads use two): the middle
# option between the full branch and the light one (kpt_feat='reg'); its cost and accuracy
# are in the README of commit 260674c.
_base_ = '../yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py'

model = dict(bbox_head=dict(kpt_stacked_convs=1))
