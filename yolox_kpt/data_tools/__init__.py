"""Tools that make, convert and curate data, apart from the dataset that trains on it.

* :mod:`.coco`: reading and writing COCO keypoint files, the shared error type;
* :mod:`.driving_schema`: the driving classes, keypoints and layout, defined once;
* :mod:`.converters`: camera labels, LabelMe and YOLO pose <-> COCO;
* :mod:`.curation`: frame selection, subsets, ratio splits, file/folder consistency;
* :mod:`.video`: image folder -> mp4, mp4 -> GIF;
* :mod:`.synthetic_driving`: the seeded synthetic scene generator.

Training code never imports this package (``yolox_kpt.datasets`` holds the dataset and its
transforms); the tools in ``tools/dataset_converters/`` and ``tools/misc/`` do. Nothing is
imported here, so a tool loads only the module it uses.
"""
