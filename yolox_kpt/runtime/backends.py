"""Backends of the runtime: ONNX Runtime, and TensorRT engines (8.x and 10.x) without torch.

Every backend is a callable from a (B, 3, H, W) float32 array to the graph's outputs in
``OUTPUT_NAMES``' order (``output_names``: those the model has, the last optional). The
backend packages are imported when a backend is built, never at
import time: ``onnxruntime`` for ``.onnx``; TensorRT's Python API (``tensorrt``) and NVIDIA's
``cuda-python`` (device buffers and the stream) for engines.
"""
import ctypes
import glob
import os.path as osp
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .contract import OUTPUT_NAMES, REQUIRED_OUTPUTS

#: The name of the graph's input (``onnx_config.input_names`` of every deploy config).
INPUT_NAME = 'input'
#: TensorRT ``DataType`` member names -> numpy dtypes of the host copies. ``INT64`` exists
#: from TensorRT 10 on (TensorRT 8.x casts the graph's int64 tensors to INT32); a dtype not
#: here (BF16, FP8, INT4) is refused by name rather than given a buffer of the wrong size.
TRT_DTYPES: Dict[str, Any] = {
    'FLOAT': np.float32,
    'HALF': np.float16,
    'INT8': np.int8,
    'UINT8': np.uint8,
    'INT32': np.int32,
    'INT64': np.int64,
    'BOOL': np.bool_,
}


#: Input shapes (N, C, H, W) of an engine built from a dynamic ONNX export: those of the
#: dynamic TensorRT deploy configs (min, opt, max).
DYNAMIC_SHAPES = ((1, 3, 320, 320), (1, 3, 640, 640), (1, 3, 1344, 1344))


def trtexec_command(onnx_file: str, engine_file: str,
                    shapes: Optional[Tuple[Tuple[int, ...], ...]] = None,
                    fp16: bool = False, int8: bool = False,
                    plugin: Optional[str] = None) -> str:
    """The ``trtexec`` line that builds an engine from an exported ONNX file.

    Args:
        onnx_file (str): the graph (fp32, or an int8 Q/DQ graph from
            ``tools/misc/quantize_int8.py``).
        engine_file (str): the engine written.
        shapes (tuple, optional): (min, opt, max) input shapes (N, C, H, W) of a dynamic
            graph; None for a static one.
        fp16 (bool): ``--fp16``: fp16 kernels where TensorRT finds them faster.
        int8 (bool): ``--int8``; with a Q/DQ graph TensorRT takes the scales from the graph
            (explicit quantization, no calibration cache), with a plain one it needs
            ``--calib`` (implicit, deprecated in TensorRT 10).
        plugin (str, optional): a plugin library (mmdeploy's, for the TensorRT < 8.5
            configs' ``TRTBatchedNMS``).

    Returns:
        str: the command line.
    """
    cmd = [f'trtexec --onnx={onnx_file} --saveEngine={engine_file}']
    if shapes is not None and shapes[0] != shapes[-1]:
        dims = ['x'.join(str(v) for v in shape) for shape in shapes]
        cmd.append(f'--minShapes={INPUT_NAME}:{dims[0]} --optShapes={INPUT_NAME}:{dims[1]} '
                   f'--maxShapes={INPUT_NAME}:{dims[2]}')
    if fp16:
        cmd.append('--fp16')
    if int8:
        cmd.append('--int8')
    if plugin:
        cmd.append(f'--plugins={plugin}')
    return ' '.join(cmd)


def output_names(model: str, found: Sequence[str],
                 wanted: Optional[Sequence[str]] = None) -> List[str]:
    """The contract's outputs to read from a model whose graph has outputs ``found``.

    Args:
        model (str): the model file, quoted in errors.
        found (sequence of str): every output name of the graph or engine.
        wanted (sequence of str, optional): the outputs its runtime meta lists; None: every
            name of ``OUTPUT_NAMES`` the model has.

    Returns:
        list of str: ``OUTPUT_NAMES`` or its first three (``REQUIRED_OUTPUTS``), in order.

    Raises:
        RuntimeError: the model lacks a required output, or one its meta lists.
    """
    names = [n for n in OUTPUT_NAMES if n in found] if wanted is None else list(wanted)
    missing = [n for n in (*REQUIRED_OUTPUTS, *names) if n not in found]
    if missing:
        raise RuntimeError(f'{model}: has outputs {list(found)}, not {sorted(set(missing))}; a '
                           f'yolox-kpt export has {list(REQUIRED_OUTPUTS)} and optionally '
                           f'{list(OUTPUT_NAMES[len(REQUIRED_OUTPUTS):])} (build it from '
                           'the end2end.onnx of tools/deploy.py, with its runtime meta)')
    return names


def build_backend(model: str, device: str = 'cpu', plugin: Optional[str] = None,
                  threads: Optional[int] = None, outputs: Optional[Sequence[str]] = None
                  ) -> Callable[[np.ndarray], List[np.ndarray]]:
    """A callable from a (B, 3, H, W) float32 array to the outputs, in ``OUTPUT_NAMES``'s
    order. ``threads``: ONNX Runtime's intra-op threads (None: its default, one a core);
    engines ignore it. ``outputs``: the outputs the runtime meta lists (None: those of
    ``OUTPUT_NAMES`` the model has); the backend's ``output_names`` says which it returns."""
    if not osp.isfile(model):
        raise FileNotFoundError(f'{model}: no such model file')
    if model.endswith('.onnx'):
        return OnnxRuntimeBackend(model, device, threads, outputs)
    if model.endswith(('.engine', '.plan', '.trt')):
        # an engine runs on a CUDA device whatever the caller's default ('cpu')
        return TensorRTBackend(model, plugin, device if device.startswith('cuda') else 'cuda',
                               outputs)
    raise ValueError(f'{model}: unknown model type; expected .onnx (ONNX Runtime) or '
                     '.engine/.plan (TensorRT)')


class OnnxRuntimeBackend:
    """An ``.onnx`` model in an ONNX Runtime session.

    Args:
        model (str): the ``.onnx`` file.
        device (str): 'cpu', or 'cuda' (needs onnxruntime-gpu).
        threads (int, optional): intra-op threads of the session. None: ONNX Runtime's
            default, one a physical core, which oversubscribes the cores when several
            processes each run a session (parallel mining gives each cores // workers).
        outputs (sequence of str, optional): the outputs to return (the runtime meta's);
            None: those of ``OUTPUT_NAMES`` the graph has.

    Attributes:
        output_names (list of str): the outputs returned, in order.
    """

    def __init__(self, model: str, device: str = 'cpu', threads: Optional[int] = None,
                 outputs: Optional[Sequence[str]] = None) -> None:
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise ImportError('ONNX Runtime is missing: pip install "yolox-kpt[runtime-ort]" '
                              '(or onnxruntime-gpu for CUDA)') from e
        providers = ['CPUExecutionProvider']
        if device.startswith('cuda'):
            if 'CUDAExecutionProvider' not in ort.get_available_providers():
                raise RuntimeError('device cuda needs onnxruntime-gpu: pip install '
                                   'onnxruntime-gpu')
            providers.insert(0, 'CUDAExecutionProvider')
        options = ort.SessionOptions()
        if threads is not None:
            if threads < 1:
                raise ValueError(f'threads must be >= 1, got {threads}')
            options.intra_op_num_threads = threads
        # The thread pool's threads spin for work after a run by default, taking the cores
        # from what the caller does between frames (the mining loop's tracking and ranking,
        # a video's decoding): they stop at the end of each run instead. Runs back to back
        # keep their speed (docs/mining.md, Throughput).
        options.add_session_config_entry('session.force_spinning_stop', '1')
        self.session = ort.InferenceSession(model, sess_options=options, providers=providers)
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = output_names(
            model, [o.name for o in self.session.get_outputs()], outputs)

    def __call__(self, inputs: np.ndarray) -> List[np.ndarray]:
        return self.session.run(self.output_names, {self.input_name: inputs})


def find_mmdeploy_plugin() -> Optional[str]:
    """mmdeploy's TensorRT op library (TRTBatchedNMS), if mmdeploy is installed."""
    try:
        import mmdeploy
    except ImportError:
        return None
    found = glob.glob(osp.join(osp.dirname(mmdeploy.__file__), 'lib',
                               'libmmdeploy_tensorrt_ops.so'))
    return found[0] if found else None


def load_plugin(path: str) -> None:
    """Load a TensorRT plugin library (its plugins register themselves with TensorRT)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no such TensorRT plugin library')
    try:
        ctypes.CDLL(path)
    except OSError as e:
        raise RuntimeError(f'{path}: the TensorRT plugin library does not load ({e}); it '
                           'must be built against the TensorRT and CUDA installed here '
                           '(docs/deploy.md)') from e


def import_cudart() -> Any:
    """cuda-python's CUDA runtime module: ``cuda.bindings.runtime`` (cuda-python >= 12.6),
    else the older ``cuda.cudart``."""
    try:
        from cuda.bindings import runtime
        return runtime
    except ImportError:
        pass
    try:
        from cuda import cudart
        return cudart
    except ImportError as e:
        raise ImportError(
            'TensorRT engines need NVIDIA\'s cuda-python for device buffers: pip install '
            '"cuda-python>=12,<13" (CUDA 12, JetPack 6) or "cuda-python>=11.4,<12" (CUDA 11, '
            'JetPack 5); see docs/install.md') from e


class CudaRuntime:
    """The few CUDA runtime calls the engine's buffers need, through cuda-python.

    cuda-python returns ``(error, *values)`` tuples; every call here checks the error.

    Args:
        cudart: cuda-python's runtime module (:func:`import_cudart`).
        device (int): CUDA device index.
    """

    def __init__(self, cudart: Any, device: int = 0) -> None:
        self.cudart = cudart
        self.call('cudaSetDevice', device)
        self.stream = self.call('cudaStreamCreate')
        self.h2d = cudart.cudaMemcpyKind.cudaMemcpyHostToDevice
        self.d2h = cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost

    def call(self, name: str, *args: Any) -> Any:
        """``cudart.<name>(*args)``; its value (None, one value or a tuple) or an error."""
        err, *values = getattr(self.cudart, name)(*args)
        if int(err) != 0:
            raise RuntimeError(f'CUDA {name} failed: {err!r}')
        return None if not values else values[0] if len(values) == 1 else tuple(values)

    def malloc(self, nbytes: int) -> int:
        # a zero-size tensor (no detection kept) still needs a valid address
        return int(self.call('cudaMalloc', max(int(nbytes), 1)))

    def free(self, ptr: int) -> None:
        self.call('cudaFree', ptr)

    def to_device(self, ptr: int, host: np.ndarray) -> None:
        self.call('cudaMemcpyAsync', ptr, host.ctypes.data, host.nbytes, self.h2d, self.stream)

    def to_host(self, host: np.ndarray, ptr: int) -> None:
        self.call('cudaMemcpyAsync', host.ctypes.data, ptr, host.nbytes, self.d2h, self.stream)

    def synchronize(self) -> None:
        self.call('cudaStreamSynchronize', self.stream)

    @property
    def stream_handle(self) -> int:
        return int(self.stream)


class TensorRTBackend:
    """A serialized TensorRT engine, run without torch.

    Every I/O tensor's dtype and shape is read from the engine (FP32, FP16, INT32, INT64,
    BOOL, INT8, UINT8): TensorRT 10 keeps the graph's int64 ``labels`` as INT64, TensorRT 8.x
    casts it to INT32. Device buffers, copies and the stream go through NVIDIA's
    ``cuda-python``; buffers are allocated per input shape and reused.

    The named-tensor API (``num_io_tensors``, ``set_input_shape``, ``set_tensor_address``,
    ``execute_async_v3``) is used where the engine has it (TensorRT 8.5 and later, the only
    API of TensorRT 10), the bindings API (``num_bindings``, ``set_binding_shape``,
    ``execute_async_v2``) before. Output shapes must be known once the input shape is set:
    the deploy configs pad the NMS outputs to ``keep_top_k`` rows, so they are; an output
    whose size depends on the data (an NMS output left unpadded) is refused, since TensorRT
    10 would need an output allocator for it.

    Args:
        engine_file (str): a serialized engine (``.engine`` / ``.plan``).
        plugin (str, optional): mmdeploy's ``libmmdeploy_tensorrt_ops.so``, for engines of
            the TensorRT < 8.5 deploy configs (TRTBatchedNMS). Where mmdeploy is installed
            its library is tried when an engine does not load without it. The TensorRT
            >= 8.5 configs need none.
        device (str): 'cuda' or 'cuda:N'.
        outputs (sequence of str, optional): the outputs to return (the runtime meta's);
            None: those of ``OUTPUT_NAMES`` the engine has.

    Attributes:
        output_names (list of str): the outputs returned, in order.
    """

    def __init__(self, engine_file: str, plugin: Optional[str] = None,
                 device: str = 'cuda', outputs: Optional[Sequence[str]] = None) -> None:
        try:
            import tensorrt as trt
        except ImportError as e:
            raise ImportError(
                'TensorRT engines need TensorRT\'s Python API: on Jetson JetPack\'s '
                'python3-libnvinfer (apt), elsewhere the tensorrt wheel that matches the '
                'installed TensorRT; see docs/install.md') from e
        index = device.split(':')[1] if ':' in device else '0'
        if not index.isdigit():
            raise ValueError(f'device {device!r}: expected cuda or cuda:N')
        self.cuda = CudaRuntime(import_cudart(), int(index))
        if plugin:
            load_plugin(plugin)
        self.trt = trt
        logger = trt.Logger(trt.Logger.WARNING)
        trt.init_libnvinfer_plugins(logger, '')
        with open(engine_file, 'rb') as f:
            serialized = f.read()
        runtime = trt.Runtime(logger)
        self.engine = runtime.deserialize_cuda_engine(serialized)
        found = None if plugin else find_mmdeploy_plugin()
        if self.engine is None and found:
            # an engine of a TensorRT < 8.5 config, on a machine with mmdeploy installed.
            # Loaded only now: mmdeploy's wheel ships a library linked to TensorRT 8, which
            # does not load next to TensorRT 10 (whose engines need no plugin).
            try:
                load_plugin(found)
            except RuntimeError as e:
                raise RuntimeError(f'{engine_file}: TensorRT could not load the engine, and '
                                   f"mmdeploy's plugin library did not help: {e}") from e
            self.engine = runtime.deserialize_cuda_engine(serialized)
        if self.engine is None:
            raise RuntimeError(f'{engine_file}: TensorRT could not load the engine (built '
                               'by another TensorRT version or for another device, or its '
                               'plugin library missing: engines of the TensorRT < 8.5 '
                               'configs need plugin=<libmmdeploy_tensorrt_ops.so>)')
        self.context = self.engine.create_execution_context()
        self.named = hasattr(self.engine, 'num_io_tensors') and hasattr(
            self.context, 'execute_async_v3')
        self.inputs, self.outputs = self._io_names()
        if self.inputs != [INPUT_NAME]:
            raise RuntimeError(f'{engine_file}: inputs {self.inputs}; a yolox-kpt engine has '
                               f'{[INPUT_NAME]} (build it from the end2end.onnx of '
                               'tools/deploy.py)')
        self.output_names = output_names(engine_file, self.outputs, outputs)
        self.engine_file = engine_file
        self.buffers: Dict[str, Tuple[int, np.ndarray]] = {}  # name -> (device ptr, host)
        self.input_shape: Optional[Tuple[int, ...]] = None

    # ------------------------------------------------------------------ engine queries
    def _io_names(self) -> Tuple[List[str], List[str]]:
        """Input and output tensor names, in the engine's order."""
        inputs, outputs = [], []
        if self.named:
            input_mode = self.trt.TensorIOMode.INPUT
            for i in range(self.engine.num_io_tensors):
                name = self.engine.get_tensor_name(i)
                is_input = self.engine.get_tensor_mode(name) == input_mode
                (inputs if is_input else outputs).append(name)
        else:
            # the first optimization profile's bindings come first; the others repeat them
            profiles = getattr(self.engine, 'num_optimization_profiles', 1) or 1
            for i in range(self.engine.num_bindings // profiles):
                name = self.engine.get_binding_name(i)
                (inputs if self.engine.binding_is_input(i) else outputs).append(name)
        return inputs, outputs

    def dtype(self, name: str) -> Any:
        """numpy dtype of tensor ``name`` as the engine stores it."""
        if self.named:
            trt_dtype = self.engine.get_tensor_dtype(name)
        else:
            trt_dtype = self.engine.get_binding_dtype(self.engine.get_binding_index(name))
        key = getattr(trt_dtype, 'name', str(trt_dtype).split('.')[-1])
        if key not in TRT_DTYPES:
            raise RuntimeError(f'{self.engine_file}: tensor {name!r} has TensorRT dtype '
                               f'{key}, which yolox_kpt.runtime does not handle')
        return np.dtype(TRT_DTYPES[key])

    def _set_input_shape(self, shape: Tuple[int, ...]) -> None:
        if self.named:
            ok = self.context.set_input_shape(INPUT_NAME, shape)
        else:
            ok = self.context.set_binding_shape(self.engine.get_binding_index(INPUT_NAME),
                                                shape)
        if ok is False:
            raise ValueError(f'{self.engine_file}: input shape {shape} is outside the '
                             "engine's optimization profile (its deploy config's "
                             'min_shape..max_shape)')

    def _shape(self, name: str) -> Tuple[int, ...]:
        if self.named:
            shape = self.context.get_tensor_shape(name)
        else:
            shape = self.context.get_binding_shape(self.engine.get_binding_index(name))
        shape = tuple(int(d) for d in shape)
        if any(d < 0 for d in shape):
            raise RuntimeError(
                f'{self.engine_file}: output {name!r} has shape {shape} once the input shape '
                'is set: its size depends on the data (NMS outputs not padded to keep_top_k), '
                'which this runtime does not allocate for; export with a deploy config of '
                'deploy_configs/ (their outputs have keep_top_k rows)')
        return shape

    # ------------------------------------------------------------------ buffers
    def _allocate(self, input_shape: Tuple[int, ...]) -> None:
        """Device and host buffers of every I/O tensor for this input shape."""
        self.release()
        self._set_input_shape(input_shape)
        for name in self.inputs + self.outputs:
            shape = input_shape if name == INPUT_NAME else self._shape(name)
            host = np.empty(shape, self.dtype(name))
            ptr = self.cuda.malloc(host.nbytes)
            self.buffers[name] = (ptr, host)
            if self.named:
                self.context.set_tensor_address(name, ptr)
        self.input_shape = input_shape

    def release(self) -> None:
        """Free the device buffers (they are made again on the next call)."""
        for ptr, _ in self.buffers.values():
            self.cuda.free(ptr)
        self.buffers, self.input_shape = {}, None

    def __del__(self) -> None:
        try:
            self.release()
        except Exception:  # interpreter shutdown: cuda-python may be gone already
            pass

    # ------------------------------------------------------------------ run
    def __call__(self, inputs: np.ndarray) -> List[np.ndarray]:
        shape = tuple(int(d) for d in inputs.shape)
        if shape != self.input_shape:
            self._allocate(shape)
        ptr, host = self.buffers[INPUT_NAME]
        host[...] = inputs  # casts to the engine's input dtype (FP16 I/O engines)
        self.cuda.to_device(ptr, host)
        if self.named:
            ok = self.context.execute_async_v3(self.cuda.stream_handle)
        else:
            bindings = [0] * self.engine.num_bindings
            for name, (ptr, _) in self.buffers.items():
                bindings[self.engine.get_binding_index(name)] = ptr
            ok = self.context.execute_async_v2(bindings, self.cuda.stream_handle)
        if ok is False:
            raise RuntimeError(f'{self.engine_file}: TensorRT failed to run the engine '
                               '(see its log above)')
        for name in self.output_names:
            ptr, host = self.buffers[name]
            self.cuda.to_host(host, ptr)
        self.cuda.synchronize()
        return [self.buffers[name][1].copy() for name in self.output_names]
