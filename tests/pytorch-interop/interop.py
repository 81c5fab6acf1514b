#!/usr/bin/python3
"""PyTorch's side of the weight round trips that MetricLearning's tests check (PyTorchInteropTests).

    interop.py make DIR    PyTorch writes its models' weights and their outputs for a fixed input:
                           DIR/resnet18.pt, DIR/resnet18.safetensors   torchvision ResNet-18 state_dict
                           DIR/resnet18_io.pt    input, logits, features (the pooled 512-d trunk output)
                           DIR/cnn.pt, DIR/cnn.safetensors             the small CNN (MetricLearning's names)
                           DIR/cnn_io.pt         input, output
    interop.py check DIR   PyTorch loads the files MetricLearning wrote (ours_cnn.pt, ours_cnn.safetensors,
                           ours_resnet.pt, ours_resnet.safetensors) into the same architectures and compares
                           its outputs with ours (ours_cnn_io.pt, ours_resnet_io.pt); exit status 1 on a mismatch.

Every model is seeded and in evaluation mode; batch-norm statistics are randomised too, so that a wrongly mapped
running mean or variance shows. Debian 12: apt-get install python3-torch python3-torchvision. There is no Debian
package of the safetensors library, so safetensors files are read and written here by the format's specification
(an 8-byte little-endian header length, a JSON header of dtype, shape and data offsets, then the raw tensors).
"""
import json
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torchvision

TOLERANCE = 1e-4
DTYPES = {"F32": (torch.float32, np.float32), "F64": (torch.float64, np.float64), "I64": (torch.int64, np.int64)}


class SmallCnn(nn.Module):
    """MetricLearning's ConvEmbeddingNetwork with its default options, name for name, in the textbook block order.

    Each block here applies ReLU and then max-pools; ConvEmbeddingNetwork max-pools and then applies ReLU. The two
    commute exactly (ReLU is monotonic), so the outputs compared below are the same function's.
    """

    def __init__(self, in_channels=1, channels=(32, 64, 128), embedding=128):
        super().__init__()
        layers = OrderedDict()
        previous = in_channels
        for i, width in enumerate(channels):
            layers[f"conv{i + 1}"] = nn.Conv2d(previous, width, 3, padding=1)
            layers[f"norm{i + 1}"] = nn.BatchNorm2d(width)
            layers[f"relu{i + 1}"] = nn.ReLU()
            if i < len(channels) - 1:
                layers[f"pool{i + 1}"] = nn.MaxPool2d(2)
            previous = width
        layers["average"] = nn.AdaptiveAvgPool2d(1)
        layers["flatten"] = nn.Flatten()
        layers["embed"] = nn.Linear(previous, embedding)
        self.layers = nn.Sequential(layers)

    def forward(self, x):
        return self.layers(x)


class ResNetEmbedding(nn.Module):
    """MetricLearning's ResNetEmbeddingNetwork (ResNet-18 trunk, linear head, L2 normalisation), name for name."""

    def __init__(self, embedding=128):
        super().__init__()
        resnet = torchvision.models.resnet18()
        children = [(name, module) for name, module in resnet.named_children() if name != "fc"]
        self.trunk = nn.Sequential(OrderedDict(children + [("flatten", nn.Flatten())]))
        self.embed = nn.Linear(512, embedding)

    def forward(self, x):
        return nn.functional.normalize(self.embed(self.trunk(x)), p=2, dim=1)


def randomise_batch_norm(model):
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 1.5)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
            module.num_batches_tracked.fill_(7)


def save_safetensors(state, path):
    header, blobs, offset = {}, [], 0
    for name, tensor in state.items():
        array = tensor.detach().cpu().contiguous().numpy()
        code = next(k for k, (t, _) in DTYPES.items() if t == tensor.dtype)
        raw = array.tobytes()
        header[name] = {"dtype": code, "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    encoded = json.dumps(header).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for raw in blobs:
            f.write(raw)


def load_safetensors(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    state = OrderedDict()
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        _, np_type = DTYPES[entry["dtype"]]
        array = np.frombuffer(data[begin:end], dtype=np_type).reshape(entry["shape"])
        state[name] = torch.from_numpy(array.copy())
    return state


def make(folder):
    torch.manual_seed(20261130)
    resnet = torchvision.models.resnet18()
    randomise_batch_norm(resnet)
    resnet.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        logits = resnet(x)
        trunk = nn.Sequential(*[m for n, m in resnet.named_children() if n != "fc"])
        features = torch.flatten(trunk(x), 1)
    torch.save(resnet.state_dict(), f"{folder}/resnet18.pt")
    save_safetensors(resnet.state_dict(), f"{folder}/resnet18.safetensors")
    torch.save({"input": x, "logits": logits, "features": features}, f"{folder}/resnet18_io.pt")

    cnn = SmallCnn()
    randomise_batch_norm(cnn)
    cnn.eval()
    x = torch.randn(3, 1, 28, 28)
    with torch.no_grad():
        y = cnn(x)
    torch.save(cnn.state_dict(), f"{folder}/cnn.pt")
    save_safetensors(cnn.state_dict(), f"{folder}/cnn.safetensors")
    torch.save({"input": x, "output": y}, f"{folder}/cnn_io.pt")
    print(f"made resnet18 ({sum(p.numel() for p in resnet.parameters())} parameters) and cnn in {folder}")


def compare(name, model, state, io):
    model.load_state_dict(state, strict=True)
    model.eval()
    with torch.no_grad():
        ours = io["output"]
        theirs = model(io["input"])
    difference = (theirs - ours).abs().max().item()
    ok = theirs.shape == ours.shape and difference <= TOLERANCE
    print(f"{'OK' if ok else 'MISMATCH'} {name}: max |PyTorch - MetricLearning| = {difference:.3g} (tolerance {TOLERANCE})")
    return ok


def check(folder):
    ok = True
    cnn_io = torch.load(f"{folder}/ours_cnn_io.pt")
    ok &= compare("ours_cnn.pt", SmallCnn(), torch.load(f"{folder}/ours_cnn.pt"), cnn_io)
    ok &= compare("ours_cnn.safetensors", SmallCnn(), load_safetensors(f"{folder}/ours_cnn.safetensors"), cnn_io)
    resnet_io = torch.load(f"{folder}/ours_resnet_io.pt")
    ok &= compare("ours_resnet.pt", ResNetEmbedding(), torch.load(f"{folder}/ours_resnet.pt"), resnet_io)
    ok &= compare("ours_resnet.safetensors", ResNetEmbedding(), load_safetensors(f"{folder}/ours_resnet.safetensors"), resnet_io)
    return ok


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("make", "check"):
        sys.exit(__doc__)
    torch.set_num_threads(1)
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        sys.exit(0 if check(sys.argv[2]) else 1)
