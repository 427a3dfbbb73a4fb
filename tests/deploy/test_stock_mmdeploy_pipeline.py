"""mmdeploy's own pipeline, as its tools/deploy.py drives it, with our deploy configs.

A fresh interpreter that never imports yolox_kpt itself: mmdeploy imports it from the model
config's custom_imports and the deploy config's codebase_config.module, and runs torch2onnx
in a spawned process (PIPELINE_MANAGER multiprocess, as tools/deploy.py sets it up).
"""
import os.path as osp
import subprocess
import sys
import textwrap

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

SCRIPT = textwrap.dedent('''
    import sys
    from torch.multiprocessing import set_start_method
    from mmdeploy.apis import torch2onnx, visualize_model
    from mmdeploy.apis.core import PIPELINE_MANAGER
    from mmdeploy.utils import Backend


    def main():
        deploy_cfg, model_cfg, ckpt, img, work_dir = sys.argv[1:]
        set_start_method('spawn', force=True)
        PIPELINE_MANAGER.enable_multiprocess(True, [torch2onnx])
        torch2onnx(img, work_dir, 'end2end.onnx', deploy_cfg, model_cfg, ckpt, device='cpu')
        visualize_model(model_cfg, deploy_cfg, [work_dir + '/end2end.onnx'], img, 'cpu',
                        backend=Backend.ONNXRUNTIME, output_file=work_dir + '/output_ort.jpg')
        print('stock pipeline ok')


    if __name__ == '__main__':
        main()
''')


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    from mmdet.registry import MODELS
    from mmengine.config import Config
    import torch
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'yolox-kpt',
                                   'yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py'))
    path = tmp_path_factory.mktemp('ckpt') / 'nano.pth'
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict()}, path)
    return str(path)


def test_mmdeploy_torch2onnx_and_visualize(checkpoint, tmp_path):
    import cv2
    import numpy as np
    img = str(tmp_path / 'img.jpg')
    cv2.imwrite(img, np.full((256, 320, 3), 100, np.uint8))
    script = tmp_path / 'stock.py'
    script.write_text(SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(script),
         osp.join(REPO, 'deploy_configs', 'keypoint-detection_onnxruntime_dynamic.py'),
         osp.join(REPO, 'configs', 'yolox-kpt',
                  'yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py'),
         checkpoint, img, str(tmp_path)], cwd=str(tmp_path), capture_output=True, text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert 'stock pipeline ok' in proc.stdout
    import onnx
    outputs = [o.name for o in onnx.load(str(tmp_path / 'end2end.onnx')).graph.output]
    from yolox_kpt.runtime import OUTPUT_NAMES
    assert outputs == list(OUTPUT_NAMES)
    assert (tmp_path / 'output_ort.jpg').is_file()
