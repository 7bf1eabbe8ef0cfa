"""Devices and precisions of inference: where a model runs and in which dtype.

``prepare_model`` puts a model in the deployed state the timing rows describe:
eval mode, PyTorch's scaled-dot-product attention where supported, the dtype
(fp32/bf16/fp16 cast, or dynamic int8 of the ``nn.Linear`` layers on CPU) and
the device. torch is imported inside the functions (import cost).
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Sequence

from .errors import StudyError, check_choice

DTYPES = ("fp32", "bf16", "fp16", "int8")
DEVICES = ("cpu", "cuda")


def resolve_device(device: str | None = None) -> str:
    """``"cpu"`` or ``"cuda"``; ``None``/``"auto"`` picks CUDA when present."""
    import torch

    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    device = str(device).split(":")[0]
    check_choice("device", device, DEVICES)
    if device == "cuda" and not torch.cuda.is_available():
        raise StudyError("device 'cuda' requested but no CUDA GPU is visible; valid devices here: cpu")
    return device


def default_dtype(device: str) -> str:
    """bf16 on a CUDA device with bf16 support, else fp32 (the careful deployment default)."""
    import torch

    if device == "cuda" and torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return "bf16"
    return "fp32"


def torch_dtype(dtype: str):
    """The torch dtype of a floating dtype name (``int8`` keeps fp32 activations)."""
    import torch

    check_choice("dtype", dtype, DTYPES)
    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16, "int8": torch.float32}[dtype]


def dtype_label(model) -> str:
    """``int8`` for a dynamically quantised model, else the dtype of its first parameter."""
    import torch

    for module in model.modules():
        if "quantized" in type(module).__module__:
            return "int8"
    for param in model.parameters():
        return {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}.get(param.dtype, str(param.dtype))
    return "fp32"


def quantize_int8(model, keep_fp32: Sequence[str] = ()):
    """A copy of ``model`` with its ``nn.Linear`` layers dynamically quantised to int8 (CPU only).

    Uses ``torch.ao.quantization.quantize_dynamic``, which replaces each
    ``nn.Linear`` (the task head's too) by an int8 kernel: weights int8 per
    tensor, activations quantised on the fly, per tensor (one scale for the
    whole batch), to 7-bit unsigned integers on x86 (``reduce_range``).
    Embeddings, LayerNorms and everything else stay fp32. ``keep_fp32``
    names Linear modules (``model.named_modules()`` names) left in fp32: a
    mixed-precision model. In torch 2.13 this still works but warns that
    ``torch.ao.quantization`` is deprecated in favour of torchao; the warning
    is silenced here. The original model is left untouched.
    """
    import torch

    linear = [name for name, module in model.named_modules() if isinstance(module, torch.nn.Linear)]
    unknown = sorted(set(keep_fp32) - set(linear))
    if unknown:
        raise StudyError(f"keep_fp32 names no Linear module of this model: {', '.join(unknown)}; "
                         f"valid: names of its {len(linear)} Linear modules, e.g. {', '.join(linear[:2])}")
    keep = set(keep_fp32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.ao.quantization import quantize_dynamic

        float_model = model.float() if dtype_label(model) != "fp32" else model
        spec = {torch.nn.Linear} if not keep else {name for name in linear if name not in keep}
        return quantize_dynamic(float_model.eval(), spec, dtype=torch.qint8, inplace=False)


def cast(model, dtype: str):
    """``model`` in ``dtype``: ``fp32``/``bf16``/``fp16`` cast in place, ``int8`` a quantised copy."""
    check_choice("dtype", dtype, DTYPES)
    if dtype == "int8":
        return quantize_int8(model)
    return model.to(torch_dtype(dtype))


def own_storage(model):
    """Copy every parameter and buffer of ``model`` into its own freshly allocated storage; returns the model.

    A model loaded from safetensors keeps its tensors as views into the
    buffers it was loaded into (on this CPU, 8 bytes off a 64-byte boundary).
    Timed as loaded, the first model loaded in a process ran about 0.5 %
    slower than later copies of the same weights (``make harness-probe``);
    after this copy every model's tensors are allocated the same way (torch's
    64-byte-aligned CPU allocations), whatever the order they were loaded
    in. Values, dtypes and devices are unchanged.
    """
    import torch

    with torch.no_grad():
        for param in model.parameters():  # each Parameter once, tied ones included
            param.data = param.data.clone(memory_format=torch.contiguous_format)
        for module in model.modules():
            for name, buf in module._buffers.items():  # replacing a value in place: the keys stay the same
                if buf is not None:
                    module._buffers[name] = buf.clone(memory_format=torch.contiguous_format)
    return model


def prepare_model(model, device: str = "cpu", dtype: str | None = None, attn: str = "sdpa"):
    """Eval mode, SDPA attention where supported, ``dtype`` and ``device``; returns the model."""
    device = resolve_device(device)
    model.eval()
    if attn and hasattr(model, "set_attn_implementation"):
        with contextlib.suppress(Exception):
            model.set_attn_implementation(attn)
    if dtype is not None:
        if dtype == "int8" and device != "cpu":
            raise StudyError("dtype 'int8' (dynamic quantisation) runs on cpu only; valid dtypes on cuda: fp32, bf16, fp16")
        model = cast(model, dtype)
    if dtype_label(model) != "int8":
        model = model.to(device)
    return model
