"""Backends of the runtime: ONNX Runtime, TensorRT 8.x and 10.x engines."""
import ctypes
import glob
import os.path as osp
from typing import Callable, List, Optional

import numpy as np

from .contract import OUTPUT_NAMES


def build_backend(model: str, device: str = 'cpu',
                  plugin: Optional[str] = None) -> Callable[[np.ndarray], List[np.ndarray]]:
    """A callable from a (B, 3, H, W) float32 array to the outputs, in ``OUTPUT_NAMES``'s
    order."""
    if not osp.isfile(model):
        raise FileNotFoundError(f'{model}: no such model file')
    if model.endswith('.onnx'):
        return OnnxRuntimeBackend(model, device)
    if model.endswith(('.engine', '.plan', '.trt')):
        return TensorRTBackend(model, plugin)
    raise ValueError(f'{model}: unknown model type; expected .onnx (ONNX Runtime) or '
                     '.engine/.plan (TensorRT)')


class OnnxRuntimeBackend:

    def __init__(self, model: str, device: str = 'cpu') -> None:
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise ImportError('ONNX Runtime is missing: pip install -e ".[deploy]" (CPU) or '
                              '".[deploy-gpu]" (CUDA)') from e
        providers = ['CPUExecutionProvider']
        if device.startswith('cuda'):
            if 'CUDAExecutionProvider' not in ort.get_available_providers():
                raise RuntimeError('device cuda needs onnxruntime-gpu: pip install -e '
                                   '".[deploy-gpu]"')
            providers.insert(0, 'CUDAExecutionProvider')
        self.session = ort.InferenceSession(model, providers=providers)
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, inputs: np.ndarray) -> List[np.ndarray]:
        return self.session.run(list(OUTPUT_NAMES), {self.input_name: inputs})


def find_mmdeploy_plugin() -> Optional[str]:
    """mmdeploy's TensorRT op library (TRTBatchedNMS), if mmdeploy is installed."""
    try:
        import mmdeploy
    except ImportError:
        return None
    found = glob.glob(osp.join(osp.dirname(mmdeploy.__file__), 'lib',
                               'libmmdeploy_tensorrt_ops.so'))
    return found[0] if found else None


class TensorRTBackend:
    """A serialized engine, on TensorRT 8.x (bindings) or 10.x (named tensors).

    Device buffers are torch CUDA tensors (torch ships with JetPack's PyTorch wheels).
    """

    def __init__(self, engine_file: str, plugin: Optional[str] = None) -> None:
        try:
            import tensorrt as trt
            import torch
        except ImportError as e:
            raise ImportError('TensorRT engines need tensorrt and a CUDA torch: pip install '
                              '-e ".[deploy-gpu]" (on Jetson: JetPack\'s python3-libnvinfer)'
                              ) from e
        if not torch.cuda.is_available():
            raise RuntimeError('TensorRT engines need a CUDA device')
        plugin = plugin or find_mmdeploy_plugin()
        if plugin:
            ctypes.CDLL(plugin)
        self.trt, self.torch = trt, torch
        logger = trt.Logger(trt.Logger.WARNING)
        trt.init_libnvinfer_plugins(logger, '')
        with open(engine_file, 'rb') as f:
            self.engine = trt.Runtime(logger).deserialize_cuda_engine(f.read())
        if self.engine is None:
            raise RuntimeError(f'{engine_file}: TensorRT could not load the engine (built '
                               'by another TensorRT version, or its plugin library missing)')
        self.context = self.engine.create_execution_context()
        self.v10 = hasattr(self.engine, 'num_io_tensors') and not hasattr(
            self.engine, 'num_bindings')

    def __call__(self, inputs: np.ndarray) -> List[np.ndarray]:
        torch = self.torch
        x = torch.from_numpy(inputs).cuda()
        outputs = {}
        stream = torch.cuda.current_stream()
        if self.v10:
            self.context.set_input_shape('input', tuple(x.shape))
            self.context.set_tensor_address('input', x.data_ptr())
            for name in OUTPUT_NAMES:
                shape = tuple(self.context.get_tensor_shape(name))
                dtype = _torch_dtype(self.engine.get_tensor_dtype(name), self.trt, torch)
                outputs[name] = torch.empty(shape, dtype=dtype, device='cuda')
                self.context.set_tensor_address(name, outputs[name].data_ptr())
            self.context.execute_async_v3(stream.cuda_stream)
        else:
            bindings = [0] * self.engine.num_bindings
            idx = self.engine.get_binding_index('input')
            self.context.set_binding_shape(idx, tuple(x.shape))
            bindings[idx] = x.data_ptr()
            for name in OUTPUT_NAMES:
                idx = self.engine.get_binding_index(name)
                shape = tuple(self.context.get_binding_shape(idx))
                dtype = _torch_dtype(self.engine.get_binding_dtype(idx), self.trt, torch)
                outputs[name] = torch.empty(shape, dtype=dtype, device='cuda')
                bindings[idx] = outputs[name].data_ptr()
            self.context.execute_async_v2(bindings, stream.cuda_stream)
        stream.synchronize()
        return [outputs[n].cpu().numpy() for n in OUTPUT_NAMES]


def _torch_dtype(trt_dtype, trt, torch):
    return {trt.float32: torch.float32, trt.float16: torch.float16,
            trt.int32: torch.int32}.get(trt_dtype, torch.float32)
