"""The runtime installs and runs without the training stack.

The package is built into a wheel and installed with its ``runtime-ort`` extra into a fresh
virtual environment, next to the numpy, OpenCV and ONNX Runtime versions of this one (so
that "the same answer" can be asked bit for bit). There torch, mmcv, mmengine and mmdet are
not importable, and ``KeypointDetector`` on an exported model gives exactly the detections
the full install gives.
"""
import json
import os.path as osp
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata

import cv2
import numpy as np
import pytest

from yolox_kpt.runtime import KeypointDetector

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'yolox-kpt',
                  'yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py')
ORT_DYNAMIC = osp.join(REPO, 'deploy_configs', 'keypoint-detection_onnxruntime_dynamic.py')
TRAINING_STACK = ('torch', 'mmcv', 'mmengine', 'mmdet', 'mmdeploy', 'pycocotools', 'onnx')
# what runs in the fresh environment: the detections of one image, as .npz
RUN = '''
import importlib.util, json, sys
import cv2, numpy as np
from yolox_kpt.runtime import KeypointDetector
model, image, out = sys.argv[1:4]
det = KeypointDetector(model)(cv2.imread(image), score_thr=0.0)
np.savez(out, **dict(det.items()))
print(json.dumps(dict(
    found=[m for m in {stack} if importlib.util.find_spec(m) is not None],
    imported=sorted(m for m in {stack} if m in sys.modules),
    version=list(sys.version_info[:2]), classes=list(det.class_names))))
'''.replace('{stack}', repr(TRAINING_STACK))


def run(cmd, **kwargs):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kwargs)
    assert proc.returncode == 0, f'{cmd}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}'
    return proc


@pytest.fixture(scope='module')
def exported(synthetic_data, tmp_path_factory):
    from mmengine.config import Config

    from yolox_kpt.deploy.export import export_onnx
    from yolox_kpt.testing import confident_random_checkpoint
    root = synthetic_data(num_train=1, num_val=2, seed=3)
    images = sorted(str(p) for p in (root / 'images' / 'val').glob('*.jpg'))
    work = tmp_path_factory.mktemp('runtime_install')
    cfg = Config.fromfile(CONFIG)
    cfg.model.test_cfg.score_thr = 0.3
    ckpt = confident_random_checkpoint(cfg, str(work / 'model.pth'), images[0])
    return dict(onnx=export_onnx(cfg, ORT_DYNAMIC, ckpt, images[0], str(work / 'export')),
                image=images[1])


def build_wheel(tmp_path):
    """The package's wheel, built from a copy of the files a source distribution holds."""
    src = tmp_path / 'src'
    src.mkdir()
    for name in ('pyproject.toml', 'README.md'):
        shutil.copy(osp.join(REPO, name), src / name)
    shutil.copytree(osp.join(REPO, 'yolox_kpt'), src / 'yolox_kpt',
                    ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
    run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q',
         '-w', str(tmp_path / 'dist'), str(src)])
    wheels = list((tmp_path / 'dist').glob('yolox_kpt-*.whl'))
    assert len(wheels) == 1, wheels
    return wheels[0]


def wheel_metadata(wheel):
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith('.dist-info/METADATA'))
        lines = z.read(name).decode().splitlines()
        packages = {n.split('/')[1] for n in z.namelist()
                    if n.startswith('yolox_kpt/') and n.count('/') >= 2}
    return lines, packages


def test_runtime_runs_in_a_fresh_venv_without_the_training_stack(exported, tmp_path):
    wheel = build_wheel(tmp_path)
    lines, packages = wheel_metadata(wheel)
    # the base install is the runtime; the training stack is the `train` extra
    base = [ln.split(':', 1)[1].strip() for ln in lines
            if ln.startswith('Requires-Dist:') and 'extra ==' not in ln]
    assert sorted(r.split('>')[0].split('=')[0] for r in base) == [
        'numpy', 'opencv-python-headless'], base
    assert 'Requires-Python: >=3.8' in lines
    assert {'runtime', 'deploy', 'models', 'datasets', 'apis'} <= packages  # find still finds

    venv = tmp_path / 'venv'
    run([sys.executable, '-m', 'venv', '--without-pip', str(venv)])
    python = str(venv / 'bin' / 'python')
    pins = [f'{d}=={metadata.version(d)}' for d in ('numpy', 'opencv-python-headless',
                                                     'onnxruntime')]
    run([sys.executable, '-m', 'pip', '--python', python, 'install', '-q',
         f'{wheel}[runtime-ort]', *pins])
    out = tmp_path / 'fresh.npz'
    # from another folder, so that the repository's yolox_kpt/ is not on the path
    proc = run([python, '-c', RUN, exported['onnx'], exported['image'], str(out)],
               cwd=str(tmp_path))
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report['found'] == [] and report['imported'] == [], report
    site = run([python, '-c', 'import yolox_kpt; print(yolox_kpt.__file__)'],
               cwd=str(tmp_path)).stdout
    assert str(venv) in site  # the installed wheel, not the repository

    det = KeypointDetector(exported['onnx'])(cv2.imread(exported['image']), score_thr=0.0)
    assert len(det) > 0 and report['classes'] == list(det.class_names)
    fresh = np.load(out)
    assert sorted(fresh.files) == sorted(det.keys()) and 'keypoint_visibility' in fresh.files
    for name, value in det.items():
        assert fresh[name].dtype == value.dtype, name
        np.testing.assert_array_equal(fresh[name], value, err_msg=name)
