"""Checks an ONNX file exported by MetricLearning with Debian's own packages, for OnnxInteropTests.

    python3 check.py FOLDER

FOLDER holds model.onnx and case.json: {"architecture": "mlp" | "cnn" | "resnet", its settings, "count": N,
"input_shape": [...], "embedding_size": E}, network_inputs.f32 (N inputs after the model's preprocessing, raw
float32) and expected.f32 (the embeddings TorchSharp computed for them). The script

1. runs ONNX's checker (python3-onnx) on the file, with full shape inference, and checks the IR version (<= 8)
   and the opset (17);
2. builds the same architecture in PyTorch (python3-torch, python3-torchvision), loads the file's initializers
   into it by name (every weight and running statistic must be found), embeds the network inputs in evaluation
   mode, and compares with TorchSharp's embeddings.

Prints "max_abs_difference=..." and exits 0 when within tolerance, 1 otherwise.
"""
import collections
import json
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torchvision

TOLERANCE = 1e-5


def mlp(case):
    layers = collections.OrderedDict()
    width = case["input_size"]
    activation = {"Relu": torch.nn.ReLU, "Tanh": torch.nn.Tanh, "Gelu": torch.nn.GELU, "Identity": torch.nn.Identity}[case["activation"]]
    for i, size in enumerate(case["layer_sizes"]):
        layers[f"dense{i + 1}"] = torch.nn.Linear(width, size)
        if i < len(case["layer_sizes"]) - 1 or case["activate_last_layer"]:
            layers[f"act{i + 1}"] = activation()
        width = size
    module = torch.nn.Module()
    module.layers = torch.nn.Sequential(layers)
    module.forward = lambda x: module.layers(x.flatten(1))
    return module


def cnn(case):
    layers = collections.OrderedDict()
    width = case["input_channels"]
    channels = case["channels"]
    for i, size in enumerate(channels):
        layers[f"conv{i + 1}"] = torch.nn.Conv2d(width, size, 3, padding=1)
        if case["batch_norm"]:
            layers[f"norm{i + 1}"] = torch.nn.BatchNorm2d(size)
        if i < len(channels) - 1:
            layers[f"pool{i + 1}"] = torch.nn.MaxPool2d(2)
        layers[f"relu{i + 1}"] = torch.nn.ReLU()
        width = size
    layers["average"] = torch.nn.AdaptiveAvgPool2d(1)
    layers["flatten"] = torch.nn.Flatten()
    layers["embed"] = torch.nn.Linear(width, case["embedding_size"])
    module = torch.nn.Module()
    module.layers = torch.nn.Sequential(layers)
    module.forward = lambda x: module.layers(x)
    return module


def resnet(case):
    trunk = {18: torchvision.models.resnet18, 34: torchvision.models.resnet34, 50: torchvision.models.resnet50}[case["depth"]]()
    module = torch.nn.Module()
    module.trunk = torch.nn.Sequential(collections.OrderedDict((name, child) for name, child in trunk.named_children() if name != "fc"))
    module.trunk.add_module("flatten", torch.nn.Flatten())
    module.embed = torch.nn.Linear(case["trunk_features"], case["embedding_size"])
    if case["batch_norm_neck"]:
        module.neck = torch.nn.BatchNorm1d(case["embedding_size"])

    def forward(x):
        x = module.embed(module.trunk(x))
        if case["batch_norm_neck"]:
            x = module.neck(x)
        return torch.nn.functional.normalize(x, p=2.0, dim=1) if case["normalize"] else x

    module.forward = forward
    return module


def main(folder):
    path = os.path.join(folder, "model.onnx")
    with open(os.path.join(folder, "case.json")) as f:
        case = json.load(f)
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    opsets = {opset.domain: opset.version for opset in model.opset_import}
    assert model.ir_version <= 8, f"IR version {model.ir_version} is newer than 8"
    assert opsets == {"": 17}, f"opsets {opsets}, expected the default domain at 17"

    network = {"mlp": mlp, "cnn": cnn, "resnet": resnet}[case["architecture"]](case)
    weights = {tensor.name: torch.from_numpy(onnx.numpy_helper.to_array(tensor).copy()) for tensor in model.graph.initializer}
    state = network.state_dict()
    missing = [key for key in state if key not in weights and not key.endswith("num_batches_tracked")]
    assert not missing, f"the file has no initializer for {missing}"
    for key in state:
        if key in weights:
            assert tuple(weights[key].shape) == tuple(state[key].shape), f"{key}: {tuple(weights[key].shape)} in the file, {tuple(state[key].shape)} in PyTorch"
            state[key] = weights[key]
    network.load_state_dict(state)
    network.eval()

    count = case["count"]
    inputs = np.fromfile(os.path.join(folder, "network_inputs.f32"), dtype=np.float32).reshape([count] + case["network_input_shape"])
    expected = np.fromfile(os.path.join(folder, "expected.f32"), dtype=np.float32).reshape(count, case["embedding_size"])
    with torch.no_grad():
        actual = network(torch.from_numpy(inputs)).numpy()
    scale = max(1.0, float(np.abs(expected).max()))
    difference = float(np.abs(actual - expected).max())
    print(f"max_abs_difference={difference:.3e} scale={scale:.3e}")
    return 0 if difference <= TOLERANCE * scale else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
