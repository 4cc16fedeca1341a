/// The Python that `export` writes: the header and weight reader of `model.py`, `check.py`, and
/// the classes for tl's layers that `torch.nn` has no exact match for. Each class reproduces the
/// tl layer's forward pass and registers its parameters under tl's state_dict names.
public enum PyTorchClasses {
    static func header(_ description: String) -> String {
        """
        \"\"\"\(description), exported by tl as a PyTorch module.

        build() makes the module with the state_dict names of tl's weights; load_weights() reads
        them from weights.safetensors (safetensors.torch.load_file reads them as well):

            from model import build, load_weights
            model = build()
            model.load_state_dict(load_weights("weights.safetensors"), strict=True)

        check.py runs inputs.npy through it and compares with tl's outputs.npy. Parameters tl had
        frozen have requires_grad False (TRAINABLE lists the others).
        \"\"\"
        import json
        import struct
        from collections import OrderedDict
        from pathlib import Path

        import torch
        import torch.nn.functional as F
        from torch import nn
        """
    }

    static let loadWeights = """
        def load_weights(path):
            \"\"\"A state_dict read from a safetensors file (the format needs only json and struct).\"\"\"
            data = Path(path).read_bytes()
            (length,) = struct.unpack("<Q", data[:8])
            header = json.loads(data[8:8 + length])
            types = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32,
                     "F16": torch.float16, "BF16": torch.bfloat16, "U8": torch.uint8}
            state = OrderedDict()
            for name, entry in header.items():
                if name == "__metadata__":
                    continue
                start, end = entry["data_offsets"]
                raw = bytearray(data[8 + length + start:8 + length + end])
                tensor = torch.frombuffer(raw, dtype=types[entry["dtype"]]) if raw else torch.empty(0, dtype=types[entry["dtype"]])
                state[name] = tensor.reshape(entry["shape"]).clone()
            return state
        """

    static let check = """
        \"\"\"Checks that model.py reproduces tl: loads weights.safetensors with strict=True, runs
        inputs.npy through the module in evaluation mode and compares with tl's outputs.npy.
        Exit status 0 when they agree to 1e-5 of the outputs' scale, 1 otherwise.
        \"\"\"
        import sys
        from pathlib import Path

        import numpy as np
        import torch

        here = Path(__file__).resolve().parent
        sys.path.insert(0, str(here))
        from model import build, load_weights  # noqa: E402

        TOLERANCE = 1e-5

        model = build()
        model.load_state_dict(load_weights(here / "weights.safetensors"), strict=True)
        model.eval()
        x = torch.from_numpy(np.load(here / "inputs.npy"))
        expected = np.load(here / "outputs.npy")
        with torch.no_grad():
            y = model(x).numpy()
        if y.shape != expected.shape:
            print(f"{here.name}: PyTorch gives shape {y.shape}, tl gave {expected.shape}")
            sys.exit(1)
        scale = max(float(np.abs(expected).max()), 1e-30)
        worst = float(np.abs(y - expected).max()) / scale
        verdict = "agree" if worst <= TOLERANCE else "DIFFER"
        print(f"{here.name}: {verdict}: largest difference {worst:.2e} of the outputs' scale {scale:.3g} (tolerance {TOLERANCE:g})")
        sys.exit(0 if worst <= TOLERANCE else 1)
        """

    static let batchNorm = """
        class BatchNorm(nn.modules.batchnorm._BatchNorm):
            \"\"\"tl's batch normalisation: N×C, N×C×L or N×C×H×W input. Frozen (weight.requires_grad
            False), it normalises with its running statistics and keeps them, in training too.\"\"\"

            def _check_input_dim(self, input):
                if input.dim() not in (2, 3, 4):
                    raise ValueError(f"expected N×C, N×C×L or N×C×H×W input, got {input.dim()} dimensions")

            def forward(self, input):
                if self.training and not self.weight.requires_grad:
                    self._check_input_dim(input)
                    return F.batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                                        False, 0.0, self.eps)
                return super().forward(input)
        """

    static let gradientReversal = """
        class _ReverseGradient(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, lambda_):
                ctx.lambda_ = lambda_
                return x.view_as(x)

            @staticmethod
            def backward(ctx, grad):
                return -ctx.lambda_ * grad, None


        class GradientReversal(nn.Module):
            \"\"\"The identity forward; the gradient times -lambda backward (Ganin et al. 2016).\"\"\"

            def __init__(self, lambda_=1.0):
                super().__init__()
                self.lambda_ = lambda_

            def forward(self, x):
                return _ReverseGradient.apply(x, self.lambda_)
        """

    static let residual = """
        class Residual(nn.Module):
            \"\"\"activation(body(x) + shortcut(x)): the body's layers under their own names, then the
            shortcut (the identity when there is none). torchvision's BasicBlock is one.\"\"\"

            def __init__(self, body, shortcut_name=None, shortcut=None, activation="relu"):
                super().__init__()
                self.body_names = list(body.keys())
                for name, layer in body.items():
                    self.add_module(name, layer)
                self.shortcut_name = shortcut_name if shortcut is not None else None
                if shortcut is not None:
                    self.add_module(shortcut_name, shortcut)
                self.activation = activation

            def forward(self, x):
                y = x
                for name in self.body_names:
                    y = self._modules[name](y)
                y = y + (x if self.shortcut_name is None else self._modules[self.shortcut_name](x))
                if self.activation is None:
                    return y
                return {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[self.activation](y)
        """

    static let lora = """
        class LoRA(nn.Module):
            \"\"\"A low-rank update beside a frozen linear or convolution layer (Hu et al. 2021):
            base_layer(x) + (alpha / rank) * B(A(x)). For a convolution A has the base's kernel,
            stride and padding and B is 1×1 (as Hugging Face's PEFT). merged() folds the update in.\"\"\"

            def __init__(self, base_layer, rank, alpha):
                super().__init__()
                if isinstance(base_layer, nn.Conv2d):
                    self.lora_A = nn.Parameter(torch.zeros(rank, base_layer.in_channels, *base_layer.kernel_size))
                    self.lora_B = nn.Parameter(torch.zeros(base_layer.out_channels, rank, 1, 1))
                else:
                    self.lora_A = nn.Parameter(torch.zeros(rank, base_layer.in_features))
                    self.lora_B = nn.Parameter(torch.zeros(base_layer.out_features, rank))
                self.base_layer = base_layer
                self.scale = alpha / rank

            def forward(self, x):
                y = self.base_layer(x)
                if isinstance(self.base_layer, nn.Conv2d):
                    h = F.conv2d(x, self.lora_A, stride=self.base_layer.stride, padding=self.base_layer.padding)
                    return y + F.conv2d(h, self.lora_B) * self.scale
                return y + F.linear(F.linear(x, self.lora_A), self.lora_B) * self.scale

            @torch.no_grad()
            def merged(self):
                \"\"\"The base layer with W + (alpha / rank) * B·A: the same outputs, a plain layer.\"\"\"
                import copy
                layer = copy.deepcopy(self.base_layer)
                delta = self.lora_B.flatten(1) @ self.lora_A.flatten(1)
                layer.weight += self.scale * delta.reshape(layer.weight.shape)
                return layer
        """

    static let adapter = """
        class Adapter(nn.Module):
            \"\"\"A bottleneck after a layer (Houlsby et al. 2019): h + up(relu(down(h))), h = base_layer(x).\"\"\"

            def __init__(self, base_layer, adapter_down, adapter_up):
                super().__init__()
                self.base_layer = base_layer
                self.adapter_down = adapter_down
                self.adapter_up = adapter_up

            def forward(self, x):
                h = self.base_layer(x)
                return h + self.adapter_up(torch.relu(self.adapter_down(h)))
        """
}
