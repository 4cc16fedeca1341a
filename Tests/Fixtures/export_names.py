"""Checks, without PyTorch, that an exported model.py builds a module whose state_dict names and
shapes are exactly those of weights.safetensors.

A small stand-in for the parts of torch that model.py touches when it is imported and build() runs
(nn.Module's registration of parameters, buffers and sub-modules, and the layer constructors)
replaces torch; forward passes are not run (scripts/interop-check runs them with PyTorch).

    python3 export_names.py EXPORT_DIR     exit 0 when the names and shapes agree
"""
import importlib.util
import json
import struct
import sys
import types
from collections import OrderedDict
from pathlib import Path


class Tensor:
    def __init__(self, *shape):
        self.shape = tuple(shape)
        self.requires_grad = True

    def requires_grad_(self, flag=True):
        self.requires_grad = flag
        return self


def zeros(*shape, **_):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return Tensor(*shape)


class Parameter(Tensor):
    def __new__(cls, data=None, requires_grad=True):
        p = Tensor.__new__(cls)
        p.shape = data.shape if data is not None else ()
        p.requires_grad = requires_grad
        return p

    def __init__(self, *_, **__):
        pass


class Module:
    def __init__(self, *_, **__):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        for store in ("_parameters", "_buffers", "_modules"):
            d = self.__dict__.get(store, {})
            if name in d:
                return d[name]
        raise AttributeError(name)

    def add_module(self, name, module):
        self._modules[name] = module

    def register_buffer(self, name, tensor, persistent=True):
        self._buffers[name] = tensor

    def state_shapes(self, prefix=""):
        out = OrderedDict()
        for name, p in self._parameters.items():
            out[prefix + name] = p.shape
        for name, b in self._buffers.items():
            out[prefix + name] = b.shape
        for name, m in self._modules.items():
            out.update(m.state_shapes(prefix + name + "."))
        return out

    def named_parameters(self, prefix=""):
        for name, p in self._parameters.items():
            yield prefix + name, p
        for name, m in self._modules.items():
            yield from m.named_parameters(prefix + name + ".")


class Linear(Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(Tensor(out_features, in_features))
        if bias:
            self.bias = Parameter(Tensor(out_features))


class Conv2d(Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = (kernel_size, kernel_size), (stride, stride), (padding, padding)
        self.weight = Parameter(Tensor(out_channels, in_channels, kernel_size, kernel_size))
        if bias:
            self.bias = Parameter(Tensor(out_channels))


class BatchNormBase(Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.weight = Parameter(Tensor(num_features))
        self.bias = Parameter(Tensor(num_features))
        self.register_buffer("running_mean", Tensor(num_features))
        self.register_buffer("running_var", Tensor(num_features))
        self.register_buffer("num_batches_tracked", Tensor())


class Sequential(Module):
    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def __iter__(self):
        return iter(self._modules.values())


class ModuleList(Module):
    def __init__(self, modules=()):
        super().__init__()
        for i, m in enumerate(modules):
            self.add_module(str(i), m)


class ModuleDict(Module):
    def __init__(self, modules=None):
        super().__init__()
        for name, m in (modules or {}).items():
            self.add_module(name, m)


class Function:
    @classmethod
    def apply(cls, *args):
        raise RuntimeError("the stand-in for torch does not run forward passes")


def no_grad():
    return lambda f: f


def install():
    torch = types.ModuleType("torch")
    nn = types.ModuleType("torch.nn")
    functional = types.ModuleType("torch.nn.functional")
    autograd = types.ModuleType("torch.autograd")
    modules = types.ModuleType("torch.nn.modules")
    batchnorm = types.ModuleType("torch.nn.modules.batchnorm")
    batchnorm._BatchNorm = BatchNormBase
    modules.batchnorm = batchnorm
    autograd.Function = Function
    plain = {name: type(name, (Module,), {}) for name in
             ["ReLU", "Tanh", "Sigmoid", "Flatten", "Unflatten", "Upsample", "Dropout", "MaxPool2d", "AvgPool2d",
              "AdaptiveAvgPool2d"]}
    for name, cls in plain.items():
        setattr(nn, name, cls)
    for name, value in dict(Module=Module, Parameter=Parameter, Linear=Linear, Conv2d=Conv2d, Sequential=Sequential,
                            ModuleList=ModuleList, ModuleDict=ModuleDict, modules=modules, functional=functional).items():
        setattr(nn, name, value)
    for name, value in dict(nn=nn, autograd=autograd, zeros=zeros, no_grad=no_grad, tensor=zeros, empty=zeros,
                            float32="F32", float64="F64", int64="I64", int32="I32", float16="F16", bfloat16="BF16",
                            uint8="U8").items():
        setattr(torch, name, value)
    for name, module in {"torch": torch, "torch.nn": nn, "torch.nn.functional": functional, "torch.autograd": autograd,
                         "torch.nn.modules": modules, "torch.nn.modules.batchnorm": batchnorm}.items():
        sys.modules[name] = module


def weight_shapes(path):
    data = Path(path).read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    return {name: tuple(entry["shape"]) for name, entry in header.items() if name != "__metadata__"}


def main():
    directory = Path(sys.argv[1])
    install()
    spec = importlib.util.spec_from_file_location("exported_model", directory / "model.py")
    model_py = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(model_py)
    model = model_py.build()
    built = dict(model.state_shapes())
    stored = weight_shapes(directory / "weights.safetensors")
    missing = sorted(set(stored) - set(built))
    unexpected = sorted(set(built) - set(stored))
    shapes = sorted(n for n in set(built) & set(stored) if built[n] != stored[n])
    for what, names in [("in the weights, not in model.py", missing), ("in model.py, not in the weights", unexpected)]:
        if names:
            print(f"{directory.name}: {len(names)} names {what}: {', '.join(names[:5])}")
    for n in shapes[:5]:
        print(f"{directory.name}: '{n}' is {built[n]} in model.py, {stored[n]} in the weights")
    trainable = model_py.TRAINABLE
    if trainable is not None:
        flags = {name: p.requires_grad for name, p in model.named_parameters()}
        wrong = [n for n in flags if flags[n] != (n in trainable)]
        if wrong or not set(trainable) <= set(flags):
            print(f"{directory.name}: requires_grad does not follow TRAINABLE")
            sys.exit(1)
    if missing or unexpected or shapes:
        sys.exit(1)
    print(f"{directory.name}: {len(built)} names and shapes agree")


if __name__ == "__main__":
    main()
