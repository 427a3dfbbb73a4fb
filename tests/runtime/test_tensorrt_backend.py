"""``TensorRTBackend``'s binding logic, against a STAND-IN for TensorRT and cuda-python.

There is no GPU and no TensorRT here. The stand-in (``StandInTensorRT``, ``StandInCudart``)
presents TensorRT's Python API as each release has it (8.4: bindings only; 8.6: bindings and
named tensors; 10: named tensors only, INT64 tensors) and cuda-python's ``cudart`` (host
memory standing in for device memory, every copy checked against its allocation), and runs
the same exported ONNX graph through ONNX Runtime. It proves our logic: which API is used,
every tensor's buffer sized from the engine's dtype and shape, addresses and copies, errors.
It does not prove that TensorRT builds or runs the engine, nor cuda-python's real behaviour.
"""
import ctypes
import enum
import os.path as osp
import sys
import types

import cv2
import numpy as np
import onnxruntime as ort
import pytest

from yolox_kpt.runtime import OUTPUT_NAMES, SIDECAR_FILE, KeypointDetector, RuntimeMeta
from yolox_kpt.runtime.backends import TensorRTBackend, import_cudart
from yolox_kpt.runtime.contract import REQUIRED_OUTPUTS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'yolox-kpt',
                  'yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py')
# plugin-free (standard NonMaxSuppression): ONNX Runtime runs the very graph TensorRT would
TRT_DYNAMIC = osp.join(REPO, 'deploy_configs',
                       'keypoint-detection_tensorrt8.5+_dynamic-320x320-1344x1344.py')
MAGIC = b'STAND-IN ENGINE\n'  # what the stand-in's "serialized engine" starts with


# ---------------------------------------------------------------------- stand-in cudart
class StandInCudart:
    """cuda-python's ``cudart`` calls the backend makes, on host memory (a stand-in)."""

    class cudaError_t(enum.IntEnum):
        cudaSuccess = 0
        cudaErrorInvalidValue = 1
        cudaErrorInvalidResourceHandle = 400

    class cudaMemcpyKind(enum.IntEnum):
        cudaMemcpyHostToHost = 0
        cudaMemcpyHostToDevice = 1
        cudaMemcpyDeviceToHost = 2

    class cudaStream_t:
        def __init__(self, handle):
            self.handle = handle

        def __int__(self):
            return self.handle

    def __init__(self):
        self.allocs = {}  # ptr -> ctypes buffer
        self.streams = set()
        self.device = None
        self.mallocs = 0

    def check(self, ptr, nbytes):
        """Whether [ptr, ptr + nbytes) lies inside one allocation."""
        return any(base <= ptr and ptr + nbytes <= base + len(buf)
                   for base, buf in self.allocs.items())

    def cudaSetDevice(self, device):
        self.device = device
        return (self.cudaError_t.cudaSuccess, )

    def cudaStreamCreate(self):
        handle = 0x5000 + len(self.streams)
        self.streams.add(handle)
        return self.cudaError_t.cudaSuccess, self.cudaStream_t(handle)

    def cudaStreamSynchronize(self, stream):
        ok = int(stream) in self.streams
        return (self.cudaError_t.cudaSuccess if ok else
                self.cudaError_t.cudaErrorInvalidResourceHandle, )

    def cudaMalloc(self, nbytes):
        buf = ctypes.create_string_buffer(b'\xcd' * nbytes, nbytes)  # garbage, like cudaMalloc
        self.allocs[ctypes.addressof(buf)] = buf
        self.mallocs += 1
        return self.cudaError_t.cudaSuccess, ctypes.addressof(buf)

    def cudaFree(self, ptr):
        return (self.cudaError_t.cudaSuccess if self.allocs.pop(ptr, None) is not None else
                self.cudaError_t.cudaErrorInvalidValue, )

    def cudaMemcpyAsync(self, dst, src, nbytes, kind, stream):
        device = dst if kind == self.cudaMemcpyKind.cudaMemcpyHostToDevice else src
        if int(stream) not in self.streams or not self.check(device, nbytes):
            return (self.cudaError_t.cudaErrorInvalidValue, )
        ctypes.memmove(dst, src, nbytes)
        return (self.cudaError_t.cudaSuccess, )

    def size_at(self, ptr):
        return len(self.allocs[ptr])


# ---------------------------------------------------------------------- stand-in TensorRT
class StandInTensorRT(types.ModuleType):
    """``tensorrt`` as TensorRT ``version`` presents it to Python (a stand-in): an engine is
    ``MAGIC`` + ONNX bytes, run by ONNX Runtime on the stand-in cudart's memory.

    Args:
        version (str): '8.4' (bindings API only, two optimization profiles, int64 tensors
            cast to INT32), '8.6' (bindings and named tensors, INT32) or '10' (named tensors
            only, INT64).
        cuda (StandInCudart): whose memory the engine reads and writes.
        half_io (bool): float I/O tensors are FP16 (``trtexec --inputIOFormats=fp16:chw
            --outputIOFormats=fp16:chw``).
        extra_bool (bool): one more output, ``valid`` (B, N) BOOL.
        data_dependent (bool): outputs report -1 rows (NMS outputs without padding).
        labels_dtype (str, optional): dtype name the engine reports for ``labels``.
        profile (tuple): (min, max) input shapes of the optimization profile.
    """

    def __init__(self, version, cuda, half_io=False, extra_bool=False, data_dependent=False,
                 labels_dtype=None, profile=((1, 3, 32, 32), (1, 3, 1344, 1344))):
        super().__init__('tensorrt')
        self.__version__ = {'8.4': '8.4.3.1', '8.6': '8.6.1.6', '10': '10.3.0.30'}[version]
        self.version, self.cuda = version, cuda
        self.options = dict(half_io=half_io, extra_bool=extra_bool,
                            data_dependent=data_dependent, labels_dtype=labels_dtype,
                            profile=profile)
        names = ['FLOAT', 'HALF', 'INT8', 'INT32', 'BOOL', 'UINT8', 'BF16']
        if version == '10':
            names.append('INT64')
        self.DataType = enum.Enum('DataType', names)
        if version != '8.4':
            self.TensorIOMode = enum.Enum('TensorIOMode', ['NONE', 'INPUT', 'OUTPUT'])
        self.calls = []  # the API the backend used: 'execute_async_v2' / 'execute_async_v3'
        trt = self

        class Logger:
            WARNING = 2

            def __init__(self, severity):
                self.severity = severity

        class Runtime:
            def __init__(self, logger):
                pass

            def deserialize_cuda_engine(self, data):
                if not data.startswith(MAGIC):
                    return None
                return (NamedEngine if version == '10' else BindingsEngine)(
                    trt, data[len(MAGIC):])

        self.Logger, self.Runtime = Logger, Runtime

    def init_libnvinfer_plugins(self, logger, namespace):
        return True


class StandInEngine:
    """What both APIs share: tensors, dtypes, shapes, running ONNX Runtime."""

    def __init__(self, trt, onnx_bytes):
        self.trt, self.cuda, self.opt = trt, trt.cuda, trt.options
        self.session = ort.InferenceSession(onnx_bytes, providers=['CPUExecutionProvider'])
        self.tensors = ['input'] + [o.name for o in self.session.get_outputs()]
        if self.opt['extra_bool']:
            self.tensors.append('valid')
        self.onnx_types = {o.name: o.type for o in self.session.get_outputs()}
        self.onnx_types.update(input='tensor(float)', valid='tensor(bool)')
        self.num_optimization_profiles = 2 if trt.version == '8.4' else 1

    def dtype(self, name):
        kind = self.onnx_types[name]
        if name == 'labels' and self.opt['labels_dtype']:
            return self.trt.DataType[self.opt['labels_dtype']]
        if kind == 'tensor(float)':
            return self.trt.DataType['HALF' if self.opt['half_io'] else 'FLOAT']
        if kind == 'tensor(int64)':  # TensorRT 8.x casts int64 down to INT32
            return self.trt.DataType['INT64' if self.trt.version == '10' else 'INT32']
        return self.trt.DataType[{'tensor(bool)': 'BOOL', 'tensor(int32)': 'INT32'}[kind]]

    def create_execution_context(self):
        return (NamedContext if hasattr(self, 'num_io_tensors') else BindingsContext)(self)


class StandInContext:
    """An execution context: the input shape, then outputs computed by ONNX Runtime."""

    def __init__(self, engine):
        self.engine, self.cuda = engine, engine.cuda
        self.shape, self.addresses, self._shapes = None, {}, {}

    def _set_shape(self, shape):
        lo, hi = self.engine.opt['profile']
        if not all(a <= s <= b for a, s, b in zip(lo, shape, hi)) or len(shape) != 4:
            return False
        self.shape = tuple(shape)
        return True

    def _tensor_shape(self, name):
        if name == 'input':
            return self.shape
        if self.shape not in self._shapes:
            outs = self.engine.session.run(None, {'input': np.zeros(self.shape, np.float32)})
            shapes = {o.name: v.shape for o, v in zip(self.engine.session.get_outputs(), outs)}
            shapes['valid'] = shapes['labels']
            self._shapes[self.shape] = shapes
        shape = self._shapes[self.shape][name]
        if self.engine.opt['data_dependent']:
            shape = (shape[0], -1, *shape[2:])
        return shape

    def _run(self, addresses, stream_handle):
        assert stream_handle in self.cuda.streams, 'execute on a stream cudaStreamCreate made'
        assert self.shape is not None, 'input shape not set'
        missing = [n for n in self.engine.tensors if not addresses.get(n)]
        assert not missing, f'no address for {missing}'
        np_types = {'FLOAT': np.float32, 'HALF': np.float16, 'INT32': np.int32,
                    'INT64': np.int64, 'BOOL': np.bool_}

        def view(name, shape):
            dtype = np.dtype(np_types[self.engine.dtype(name).name])
            nbytes = int(np.prod(shape)) * dtype.itemsize
            # a buffer smaller than the tensor: real TensorRT would write past its end
            assert self.cuda.check(addresses[name], nbytes), f'{name}: buffer too small'
            raw = (ctypes.c_char * nbytes).from_address(addresses[name])
            return np.frombuffer(raw, dtype).reshape(shape)

        inputs = view('input', self.shape).astype(np.float32)
        outs = self.engine.session.run(None, {'input': inputs})
        for o, value in zip(self.engine.session.get_outputs(), outs):
            view(o.name, value.shape)[...] = value
        if self.engine.opt['extra_bool']:
            view('valid', outs[1].shape)[...] = outs[1] >= 0
        return True


class BindingsEngine(StandInEngine):
    """TensorRT 8.x's ``ICudaEngine``: bindings (8.4), plus named tensors from 8.5 (8.6)."""

    def __init__(self, trt, onnx_bytes):
        super().__init__(trt, onnx_bytes)
        self.names = list(self.tensors)
        if self.num_optimization_profiles == 2:
            self.names += [f'{n} [profile 1]' for n in self.tensors]
        self.num_bindings = len(self.names)
        if trt.version == '8.6':
            self.num_io_tensors = len(self.tensors)

    def get_binding_name(self, i):
        return self.names[i]

    def get_binding_index(self, name):
        return self.names.index(name)

    def binding_is_input(self, i):
        return self.names[i].split(' ')[0] == 'input'

    def get_binding_dtype(self, i):
        return self.dtype(self.names[i].split(' ')[0])

    # TensorRT 8.5+: the named API too
    def get_tensor_name(self, i):
        return self.tensors[i]

    def get_tensor_mode(self, name):
        mode = self.trt.TensorIOMode
        return mode.INPUT if name == 'input' else mode.OUTPUT

    def get_tensor_dtype(self, name):
        return self.dtype(name)


class NamedEngine(StandInEngine):
    """TensorRT 10's ``ICudaEngine``: named tensors only."""

    def __init__(self, trt, onnx_bytes):
        super().__init__(trt, onnx_bytes)
        self.num_io_tensors = len(self.tensors)

    get_tensor_name = BindingsEngine.get_tensor_name
    get_tensor_mode = BindingsEngine.get_tensor_mode
    get_tensor_dtype = BindingsEngine.get_tensor_dtype


class BindingsContext(StandInContext):
    def set_binding_shape(self, i, shape):
        assert i == self.engine.get_binding_index('input')
        return self._set_shape(shape)

    def get_binding_shape(self, i):
        return self._tensor_shape(self.engine.names[i])

    def execute_async_v2(self, bindings, stream_handle):
        self.engine.trt.calls.append('execute_async_v2')
        assert len(bindings) == self.engine.num_bindings
        return self._run({n: bindings[i] for i, n in enumerate(self.engine.names)},
                         stream_handle)

    # TensorRT 8.5+ (the 8.6 stand-in): the named API, as NamedContext
    def set_input_shape(self, name, shape):
        return self._set_shape(shape)

    def get_tensor_shape(self, name):
        return self._tensor_shape(name)

    def set_tensor_address(self, name, ptr):
        self.addresses[name] = ptr
        return True

    def execute_async_v3(self, stream_handle):
        self.engine.trt.calls.append('execute_async_v3')
        return self._run(self.addresses, stream_handle)


class NamedContext(StandInContext):
    set_input_shape = BindingsContext.set_input_shape
    get_tensor_shape = BindingsContext.get_tensor_shape
    set_tensor_address = BindingsContext.set_tensor_address
    execute_async_v3 = BindingsContext.execute_async_v3


# ---------------------------------------------------------------------- fixtures
@pytest.fixture(scope='module')
def exported(synthetic_data, tmp_path_factory):
    """A real export of the plugin-free TensorRT graph (nano), an engine file holding it for
    the stand-in, its sidecar, and a test image."""
    from mmengine.config import Config

    from yolox_kpt.deploy.export import export_onnx
    from yolox_kpt.testing import confident_random_checkpoint
    from yolox_kpt.testing.export import spread_visibility
    root = synthetic_data(num_train=1, num_val=2, seed=5)
    images = sorted(str(p) for p in (root / 'images' / 'val').glob('*.jpg'))
    work = tmp_path_factory.mktemp('trt_standin')
    cfg = Config.fromfile(CONFIG)
    cfg.model.test_cfg.score_thr = 0.3
    ckpt = spread_visibility(
        confident_random_checkpoint(cfg, str(work / 'model.pth'), images[0]))
    onnx_file = export_onnx(cfg, TRT_DYNAMIC, ckpt, images[0], str(work))
    engine = work / 'end2end.engine'
    with open(onnx_file, 'rb') as f:
        engine.write_bytes(MAGIC + f.read())
    assert (work / SIDECAR_FILE).is_file()  # engines read their meta from it
    return dict(onnx=onnx_file, engine=str(engine), image=cv2.imread(images[1]))


def install_standins(monkeypatch, version, cuda_module='cuda.bindings.runtime', **options):
    """Put the stand-ins where ``import tensorrt`` and cuda-python's imports find them."""
    cudart = StandInCudart()
    trt = StandInTensorRT(version, cudart, **options)
    monkeypatch.setitem(sys.modules, 'tensorrt', trt)
    cuda = types.ModuleType('cuda')
    monkeypatch.setitem(sys.modules, 'cuda', cuda)
    if cuda_module == 'cuda.bindings.runtime':
        cuda.bindings = types.ModuleType('cuda.bindings')
        cuda.bindings.runtime = cudart
        monkeypatch.setitem(sys.modules, 'cuda.bindings', cuda.bindings)
        monkeypatch.setitem(sys.modules, 'cuda.bindings.runtime', cudart)
    else:  # cuda-python < 12.6
        monkeypatch.setitem(sys.modules, 'cuda.bindings', None)
        cuda.cudart = cudart
        monkeypatch.setitem(sys.modules, 'cuda.cudart', cudart)
    return trt, cudart


def assert_identical(a, b):
    for name, value in a.items():
        assert value.dtype == getattr(b, name).dtype, name
        np.testing.assert_array_equal(value, getattr(b, name), err_msg=name)


# ---------------------------------------------------------------------- tests
@pytest.mark.parametrize('version,api,labels_bytes', [
    ('8.4', 'execute_async_v2', 4),   # bindings API; TensorRT 8 casts int64 labels to INT32
    ('8.6', 'execute_async_v3', 4),   # both APIs: the named one is used
    ('10', 'execute_async_v3', 8),    # named tensors only; labels stay INT64
])
def test_engine_answers_like_onnxruntime(exported, monkeypatch, version, api, labels_bytes):
    """The stand-in engine runs the exported graph: KeypointDetector on it gives exactly
    what it gives on the .onnx through ONNX Runtime."""
    reference = KeypointDetector(exported['onnx'])(exported['image'], score_thr=0.0)
    assert len(reference) > 0
    trt, cudart = install_standins(monkeypatch, version,
                                   cuda_module='cuda.cudart' if version == '8.4' else
                                   'cuda.bindings.runtime')
    detector = KeypointDetector(exported['engine'], device='cuda:1')
    dets = detector(exported['image'], score_thr=0.0)
    assert trt.calls == [api] and cudart.device == 1
    assert detector.backend.output_names == list(OUTPUT_NAMES)
    assert dict(reference.items()).keys() == dict(dets.items()).keys()
    assert_identical(dict(reference.items()), dets)
    backend = detector.backend
    ptr, host = backend.buffers['labels']
    assert host.dtype.itemsize == labels_bytes
    assert cudart.size_at(ptr) == host.size * labels_bytes  # B * keep_top_k labels
    # a second image of the same size reuses the buffers; another size makes new ones
    mallocs = cudart.mallocs
    detector(exported['image'], score_thr=0.0)
    assert cudart.mallocs == mallocs
    x = np.zeros((1, 3, 320, 416), np.float32)
    assert backend(x)[0].shape[:1] == (1, )
    assert cudart.mallocs == mallocs + 5 and len(cudart.allocs) == 5  # input, 4 outputs
    backend.release()
    assert cudart.allocs == {}


def test_fp16_io_and_an_extra_bool_output(exported, monkeypatch):
    """An engine with FP16 I/O and one more (BOOL) output: every tensor gets a buffer of its
    own dtype; the detector answers as ONNX Runtime does, to fp16's precision."""
    reference = KeypointDetector(exported['onnx'])(exported['image'], score_thr=0.0)
    trt, cudart = install_standins(monkeypatch, '10', half_io=True, extra_bool=True)
    detector = KeypointDetector(exported['engine'])
    dets = detector(exported['image'], score_thr=0.0)
    buffers = detector.backend.buffers
    assert {n: h.dtype.name for n, (_, h) in buffers.items()} == dict(
        input='float16', dets='float16', labels='int64', keypoints='float16',
        keypoint_visibility='float16', valid='bool')
    for name, (ptr, host) in buffers.items():
        assert cudart.size_at(ptr) == host.nbytes, name
    np.testing.assert_array_equal(dets.labels, reference.labels)
    np.testing.assert_allclose(dets.bboxes, reference.bboxes, rtol=2e-3, atol=0.5)
    np.testing.assert_allclose(dets.scores, reference.scores, atol=2e-3)
    # fp16 probabilities come back float32, as the contract's Detections hold them
    assert dets.keypoint_visibility.dtype == np.float32
    np.testing.assert_allclose(dets.keypoint_visibility, reference.keypoint_visibility,
                               atol=2e-3)


def test_an_engine_without_keypoint_visibility(exported, monkeypatch, tmp_path):
    """An engine built from an export of before (three outputs, its sidecar listing them)
    runs: the same detections, keypoint_visibility None, no buffer for it."""
    import onnx
    model = onnx.load(exported['onnx'])
    vis = next(o for o in model.graph.output if o.name == 'keypoint_visibility')
    model.graph.output.remove(vis)
    engine = tmp_path / 'end2end.engine'
    engine.write_bytes(MAGIC + model.SerializeToString())
    meta = RuntimeMeta.read(exported['onnx'])
    assert meta.outputs == OUTPUT_NAMES
    meta.outputs = REQUIRED_OUTPUTS
    meta.write_sidecar(str(tmp_path))
    reference = KeypointDetector(exported['onnx'])(exported['image'], score_thr=0.0)
    install_standins(monkeypatch, '10')
    detector = KeypointDetector(str(engine))
    dets = detector(exported['image'], score_thr=0.0)
    assert dets.keypoint_visibility is None and 'keypoint_visibility' not in dets
    assert sorted(detector.backend.buffers) == sorted(['input', *REQUIRED_OUTPUTS])
    assert_identical({k: getattr(reference, k) for k in dets.keys()}, dets)
    # the sidecar of the new export, beside this engine, promises what it lacks
    RuntimeMeta.read(exported['onnx']).write_sidecar(str(tmp_path))
    with pytest.raises(RuntimeError, match=r"end2end.engine: has outputs .*keypoint_vis"):
        KeypointDetector(str(engine))


def test_what_the_backend_refuses(exported, monkeypatch):
    install_standins(monkeypatch, '10', data_dependent=True)
    with pytest.raises(RuntimeError, match="output 'dets' has shape .*-1.*keep_top_k"):
        KeypointDetector(exported['engine'])(exported['image'])
    install_standins(monkeypatch, '10', labels_dtype='BF16')
    with pytest.raises(RuntimeError, match="'labels' has TensorRT dtype BF16"):
        KeypointDetector(exported['engine'])(exported['image'])
    install_standins(monkeypatch, '8.4', profile=((1, 3, 640, 640), (1, 3, 640, 640)))
    backend = TensorRTBackend(exported['engine'])
    with pytest.raises(ValueError, match=r"\(1, 3, 320, 320\) is outside the engine's"):
        backend(np.zeros((1, 3, 320, 320), np.float32))
    with pytest.raises(RuntimeError, match='could not load the engine'):
        TensorRTBackend(exported['onnx'])  # not an engine
    with pytest.raises(FileNotFoundError, match='no such TensorRT plugin library'):
        TensorRTBackend(exported['engine'], plugin=exported['engine'] + '.so')


def test_cuda_python_is_found_under_both_names_or_named_as_missing(monkeypatch):
    for where in ('cuda.bindings.runtime', 'cuda.cudart'):
        _, cudart = install_standins(monkeypatch, '10', cuda_module=where)
        assert import_cudart() is cudart
    monkeypatch.setitem(sys.modules, 'cuda', None)
    monkeypatch.setitem(sys.modules, 'cuda.bindings', None)
    with pytest.raises(ImportError, match='cuda-python'):
        import_cudart()
